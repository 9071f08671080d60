// Text widgets: Text, Title, Caption, Badge and Markdown.
import type { ComponentPropsWithoutRef, MouseEvent, ReactNode } from "react";
import Markdown, { type Components, type ExtraProps } from "react-markdown";
import remarkGfm from "remark-gfm";

import { toneClasses } from "./controls";
import { flag, num, str, text, type WidgetNode } from "./nodes";
import { color, cx, dropUndefined, length, type StyleVars } from "./styleValues";
import { safeHref, safeImageSrc } from "./urls";
import styles from "./widgets.module.css";

const WEIGHTS: ReadonlyMap<string, string | undefined> = new Map([
  ["normal", styles.normal],
  ["medium", styles.medium],
  ["semibold", styles.semibold],
  ["bold", styles.bold],
]);

const TEXT_ALIGN: ReadonlyMap<string, "left" | "center" | "right"> = new Map([
  ["start", "left"],
  ["center", "center"],
  ["end", "right"],
]);

const TEXT_SIZES: ReadonlyMap<string, string> = new Map([
  ["xs", "0.75rem"],
  ["sm", "0.8125rem"],
  ["md", "0.9375rem"],
  ["lg", "1.0625rem"],
  ["xl", "1.25rem"],
]);

const TITLE_SIZES: ReadonlyMap<string, string> = new Map([
  ["sm", "0.9375rem"],
  ["md", "1.0625rem"],
  ["lg", "1.25rem"],
  ["xl", "1.5rem"],
  ["2xl", "1.75rem"],
  ["3xl", "2rem"],
  ["4xl", "2.25rem"],
  ["5xl", "2.5rem"],
]);

const CAPTION_SIZES: ReadonlyMap<string, string> = new Map([
  ["sm", "0.75rem"],
  ["md", "0.8125rem"],
  ["lg", "0.875rem"],
]);

function get(map: ReadonlyMap<string, string>, value: string | undefined): string | undefined {
  return value === undefined ? undefined : map.get(value);
}

/** Classes and style the three text widgets share: weight, color, alignment, line limits. */
function textProps(node: WidgetNode, base: string | undefined, sizes: ReadonlyMap<string, string>) {
  const maxLines = num(node, "maxLines");
  const lines = maxLines !== undefined && maxLines >= 1 ? Math.floor(maxLines) : undefined;
  const weight = str(node, "weight");
  const style: StyleVars = dropUndefined({
    color: color(node.color, "text"),
    fontSize: get(sizes, str(node, "size")),
    textAlign: TEXT_ALIGN.get(str(node, "textAlign") ?? ""),
    width: length(node.width),
    "--w-lines": lines !== undefined && lines > 1 ? String(lines) : undefined,
  });
  const className = cx(
    base,
    weight !== undefined && WEIGHTS.get(weight),
    flag(node, "italic") && styles.italic,
    flag(node, "lineThrough") && styles.strike,
    (flag(node, "truncate") || lines === 1) && styles.truncate,
    lines !== undefined && lines > 1 && styles.clamp,
  );
  return { className, style };
}

export function renderText(node: WidgetNode): ReactNode {
  return <p {...textProps(node, styles.text, TEXT_SIZES)}>{text(node, "value")}</p>;
}

export function renderTitle(node: WidgetNode): ReactNode {
  return <h3 {...textProps(node, styles.title, TITLE_SIZES)}>{text(node, "value")}</h3>;
}

export function renderCaption(node: WidgetNode): ReactNode {
  return <p {...textProps(node, styles.caption, CAPTION_SIZES)}>{text(node, "value")}</p>;
}

export function renderBadge(node: WidgetNode): ReactNode {
  return (
    <span
      className={cx(
        styles.badge,
        toneClasses(node.color, node.variant, "secondary", "soft"),
        flag(node, "pill") && styles.pill,
      )}
    >
      {text(node, "label")}
    </span>
  );
}

function stopPropagation(event: MouseEvent) {
  // A link inside a clickable list item opens the link, not the item's action too.
  event.stopPropagation();
}

/** Links open in a new tab, and only to http(s) or mailto; any other link is its text alone. */
function MarkdownLink({ href, children }: ComponentPropsWithoutRef<"a"> & ExtraProps) {
  const safe = safeHref(href);
  if (safe === undefined) return <span>{children}</span>;
  return (
    <a href={safe} target="_blank" rel="noopener noreferrer" onClick={stopPropagation}>
      {children}
    </a>
  );
}

/** Markdown images follow the Image widget's rule; one it refuses shows its alt text. */
function MarkdownImage({ src, alt }: ComponentPropsWithoutRef<"img"> & ExtraProps) {
  const safe = safeImageSrc(src);
  if (safe === undefined) return alt ? <span>{alt}</span> : null;
  // eslint-disable-next-line @next/next/no-img-element -- addresses come from the server; see renderImage.
  return <img src={safe} alt={alt ?? ""} loading="lazy" referrerPolicy="no-referrer" />;
}

const COMPONENTS: Components = { a: MarkdownLink, img: MarkdownImage };
const REMARK_PLUGINS = [remarkGfm];

export function renderMarkdown(node: WidgetNode): ReactNode {
  // No rehype-raw: HTML in the source is shown as text, never parsed into elements. The default
  // urlTransform stays too; it blanks javascript: and other unsafe addresses before MarkdownLink
  // sees them. Called as a function (it uses no hooks) so that a parse failure is caught by
  // renderNode's try/catch and becomes a placeholder instead of an error in the chat.
  return (
    <div className={styles.markdown}>
      {Markdown({ children: text(node, "value"), remarkPlugins: REMARK_PLUGINS, components: COMPONENTS })}
    </div>
  );
}
