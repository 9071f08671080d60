// Leaf widgets that are not text: Button, Icon, Image, Divider, Spacer, and the placeholder
// shown for whatever this renderer does not support.
import type { MouseEvent, ReactElement, ReactNode } from "react";

import { iconGlyph } from "./icons";
import { actionOf, flag, str, type RenderContext, type WidgetAction, type WidgetNode } from "./nodes";
import { blockStyle, color, cx, dropUndefined, length, spacing } from "./styleValues";
import { safeImageSrc } from "./urls";
import styles from "./widgets.module.css";

const TONES: ReadonlyMap<string, string | undefined> = new Map([
  ["primary", styles.tonePrimary],
  ["secondary", styles.toneSecondary],
  ["success", styles.toneSuccess],
  ["danger", styles.toneDanger],
  ["warning", styles.toneWarning],
  ["caution", styles.toneWarning],
  ["info", styles.toneInfo],
  ["discovery", styles.toneDiscovery],
]);

const VARIANTS: ReadonlyMap<string, string | undefined> = new Map([
  ["solid", styles.solid],
  ["soft", styles.soft],
  ["outline", styles.outline],
  ["ghost", styles.ghost],
]);

const SMALL = new Set(["3xs", "2xs", "xs", "sm"]);
const LARGE = new Set(["lg", "xl", "2xl", "3xl"]);

/** The class names for a tone (color token) and variant, falling back to the given defaults. */
export function toneClasses(tone: unknown, variant: unknown, fallbackTone: string, fallbackVariant: string): string {
  const toneClass = (typeof tone === "string" ? TONES.get(tone) : undefined) ?? TONES.get(fallbackTone);
  const variantClass =
    (typeof variant === "string" ? VARIANTS.get(variant) : undefined) ?? VARIANTS.get(fallbackVariant);
  return cx(toneClass, variantClass);
}

function controlSize(size: unknown): string | undefined {
  if (typeof size !== "string") return undefined;
  if (SMALL.has(size)) return styles.small;
  return LARGE.has(size) ? styles.large : undefined;
}

/** What an action button shows and does; both Button widgets and a Card's confirm/cancel use it. */
export type ButtonSpec = {
  readonly label: string | undefined;
  readonly action: WidgetAction | undefined;
  readonly tone: unknown;
  readonly variant: unknown;
  readonly fallbackTone: string;
  readonly size?: unknown;
  readonly pill?: boolean;
  readonly block?: boolean;
  readonly disabled?: boolean;
  readonly iconStart?: unknown;
  readonly iconEnd?: unknown;
};

export function actionButton(spec: ButtonSpec, ctx: RenderContext): ReactElement {
  const { action } = spec;
  // A button with nothing to do is disabled rather than silently ignoring its clicks.
  const inert = spec.disabled === true || ctx.busy || action === undefined;
  const onClick = (event: MouseEvent) => {
    // Inside a clickable list item, the button's action is the only one a click means.
    event.stopPropagation();
    if (!inert) ctx.onAction(action);
  };
  const start = iconGlyph(spec.iconStart);
  const end = iconGlyph(spec.iconEnd);
  const label = spec.label ?? "";
  const iconName = [spec.iconStart, spec.iconEnd].find((name): name is string => typeof name === "string");
  return (
    <button
      type="button"
      className={cx(
        styles.button,
        toneClasses(spec.tone, spec.variant, spec.fallbackTone, "solid"),
        controlSize(spec.size),
        spec.pill && styles.pill,
        spec.block && styles.block,
      )}
      disabled={inert}
      // An icon-only button is named after its icon, so it is not announced as just "button".
      aria-label={label === "" ? iconName : undefined}
      onClick={onClick}
    >
      {start !== undefined && <span aria-hidden="true">{start}</span>}
      {label}
      {end !== undefined && <span aria-hidden="true">{end}</span>}
    </button>
  );
}

export function renderButton(node: WidgetNode, _children: ReactNode[], ctx: RenderContext): ReactNode {
  const style = str(node, "style");
  return actionButton(
    {
      label: str(node, "label"),
      action: actionOf(node.onClickAction),
      tone: node.color,
      variant: node.variant,
      // The older `style` field: "secondary" asks for a quiet button.
      fallbackTone: style === "secondary" ? "secondary" : "primary",
      size: node.size,
      pill: flag(node, "pill"),
      block: flag(node, "block"),
      disabled: flag(node, "disabled"),
      iconStart: node.iconStart,
      iconEnd: node.iconEnd,
    },
    ctx,
  );
}

const ICON_SIZES: ReadonlyMap<string, string> = new Map([
  ["xs", "0.75rem"],
  ["sm", "0.875rem"],
  ["md", "1rem"],
  ["lg", "1.25rem"],
  ["xl", "1.5rem"],
  ["2xl", "2rem"],
  ["3xl", "2.5rem"],
]);

export function renderIcon(node: WidgetNode): ReactNode {
  const glyph = iconGlyph(node.name);
  if (glyph === undefined) return null;
  const size = str(node, "size");
  return (
    <span
      aria-hidden="true"
      className={styles.icon}
      style={dropUndefined({
        color: color(node.color, "text"),
        fontSize: size === undefined ? undefined : ICON_SIZES.get(size),
      })}
    >
      {glyph}
    </span>
  );
}

const FITS = new Set(["cover", "contain", "fill", "scale-down", "none"]);
const POSITIONS = new Set([
  "top left",
  "top",
  "top right",
  "left",
  "center",
  "right",
  "bottom left",
  "bottom",
  "bottom right",
]);

export function renderImage(node: WidgetNode): ReactNode {
  const src = safeImageSrc(node.src);
  const alt = str(node, "alt") ?? "";
  if (src === undefined) return alt === "" ? null : placeholder(`Image not shown: ${alt}`);
  const fit = str(node, "fit");
  const position = str(node, "position");
  return (
    // next/image would need every remote host configured ahead of time; widget images come
    // from whatever address the server sends, so a plain <img> it is.
    // eslint-disable-next-line @next/next/no-img-element
    <img
      src={src}
      alt={alt}
      loading="lazy"
      referrerPolicy="no-referrer"
      className={cx(styles.image, flag(node, "frame") && styles.frame)}
      style={{
        ...blockStyle(node),
        ...dropUndefined({
          objectFit: fit !== undefined && FITS.has(fit) ? (fit as "cover") : undefined,
          objectPosition: position !== undefined && POSITIONS.has(position) ? position : undefined,
        }),
      }}
    />
  );
}

export function renderDivider(node: WidgetNode): ReactNode {
  const gap = spacing(node.spacing);
  return (
    <hr
      className={styles.divider}
      style={dropUndefined({
        borderTopColor: color(node.color, "border"),
        borderTopWidth: length(node.size),
        marginTop: gap,
        marginBottom: gap,
      })}
    />
  );
}

export function renderSpacer(node: WidgetNode): ReactNode {
  return <div aria-hidden="true" className={styles.spacer} style={dropUndefined({ flexBasis: length(node.minSize) })} />;
}

/** A muted, labelled box standing where a widget could not be drawn. */
export function placeholder(label: string): ReactElement {
  return (
    <div role="note" className={styles.placeholder}>
      {label}
    </div>
  );
}
