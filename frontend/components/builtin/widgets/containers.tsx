// Widgets that hold others: Card, ListView and its items, Box/Row/Col, the Basic root and
// Transition. Their children arrive already rendered (see render.tsx).
import type { KeyboardEvent, ReactNode } from "react";

import { actionButton, placeholder } from "./controls";
import { iconGlyph } from "./icons";
import { actionOf, isNode, num, str, text, type RenderContext, type WidgetNode } from "./nodes";
import { alignItems, border, boxStyle, color, cx, dropUndefined, padding, spacing } from "./styleValues";
import styles from "./widgets.module.css";

const CARD_SIZES: ReadonlyMap<string, string | undefined> = new Map([
  ["sm", styles.cardSm],
  ["lg", styles.cardLg],
  ["full", styles.cardFull],
]);

/** The status line a Card or ListView may carry above its content ("Found 3 tasks"). */
function status(value: unknown): ReactNode {
  if (!isNode(value)) return null;
  const label = text(value, "text");
  if (label === "") return null;
  const glyph = iconGlyph(value.icon);
  return (
    <div className={styles.status}>
      {glyph !== undefined && <span aria-hidden="true">{glyph}</span>}
      <span>{label}</span>
    </div>
  );
}

function cardAction(value: unknown, ctx: RenderContext, tone: string, variant: string): ReactNode {
  if (!isNode(value)) return null;
  const action = actionOf(value.action);
  const label = str(value, "label");
  if (label === undefined && action === undefined) return placeholder("Unsupported widget: malformed card action");
  return actionButton({ label, action, tone, variant, fallbackTone: tone }, ctx);
}

export function renderCard(node: WidgetNode, children: ReactNode[], ctx: RenderContext): ReactNode {
  const size = str(node, "size");
  const cancel = cardAction(node.cancel, ctx, "secondary", "soft");
  const confirm = cardAction(node.confirm, ctx, "primary", "solid");
  return (
    <div
      className={cx(styles.card, size !== undefined && CARD_SIZES.get(size))}
      style={{
        ...padding(node.padding),
        ...border(node.border),
        ...dropUndefined({ background: color(node.background, "background") }),
      }}
    >
      {status(node.status)}
      {children}
      {(cancel !== null || confirm !== null) && (
        <div className={styles.cardActions}>
          {cancel}
          {confirm}
        </div>
      )}
    </div>
  );
}

function entries(items: readonly ReactNode[], offset: number): ReactNode[] {
  return items.map((item, index) => (
    <li key={offset + index} className={styles.listEntry}>
      {item}
    </li>
  ));
}

export function renderListView(node: WidgetNode, children: ReactNode[]): ReactNode {
  const limit = num(node, "limit");
  const shown = limit !== undefined && limit >= 0 ? children.slice(0, Math.floor(limit)) : children;
  const rest = children.slice(shown.length);
  // The items past `limit` fold into a native <details>: keyboard-operable and stateless.
  const list = (
    <ul className={styles.list}>
      {entries(shown, 0)}
      {rest.length > 0 && (
        <li className={styles.listEntry}>
          <details className={styles.more}>
            <summary>Show {rest.length} more</summary>
            <ul className={styles.nested}>{entries(rest, shown.length)}</ul>
          </details>
        </li>
      )}
    </ul>
  );
  const header = status(node.status);
  if (header === null) return list;
  return (
    <div className={styles.stack}>
      {header}
      {list}
    </div>
  );
}

export function renderListViewItem(node: WidgetNode, children: ReactNode[], ctx: RenderContext): ReactNode {
  const style = dropUndefined({ gap: spacing(node.gap), alignItems: alignItems(node.align) });
  const action = actionOf(node.onClickAction);
  if (action === undefined) {
    return (
      <div className={styles.listItem} style={style}>
        {children}
      </div>
    );
  }
  const run = () => {
    if (!ctx.busy) ctx.onAction(action);
  };
  const onKeyDown = (event: KeyboardEvent) => {
    // Keys pressed on a button or link inside the item are theirs.
    if (event.target !== event.currentTarget) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      run();
    }
  };
  // A role=button element rather than a <button>: the item may hold Buttons of its own, and
  // a <button> cannot contain another.
  return (
    <div
      role="button"
      tabIndex={0}
      aria-disabled={ctx.busy || undefined}
      className={cx(styles.listItem, styles.listItemAction)}
      style={style}
      onClick={run}
      onKeyDown={onKeyDown}
    >
      {children}
    </div>
  );
}

function flexBox(node: WidgetNode, children: ReactNode[], direction: "row" | "col"): ReactNode {
  return (
    <div className={direction === "row" ? styles.row : styles.col} style={boxStyle(node)}>
      {children}
    </div>
  );
}

export function renderBox(node: WidgetNode, children: ReactNode[]): ReactNode {
  return flexBox(node, children, str(node, "direction") === "row" ? "row" : "col");
}

export function renderRow(node: WidgetNode, children: ReactNode[]): ReactNode {
  return flexBox(node, children, "row");
}

export function renderCol(node: WidgetNode, children: ReactNode[]): ReactNode {
  return flexBox(node, children, "col");
}

/** `Basic`: a bare layout root, a column unless it asks for a row. */
export function renderBasic(node: WidgetNode, children: ReactNode[]): ReactNode {
  return (
    <div className={cx(styles.stack, str(node, "direction") === "row" && styles.row)} style={boxStyle(node)}>
      {children}
    </div>
  );
}

/** `Transition` animates its child's changes in ChatKit; here it shows the child as it is. */
export function renderTransition(_node: WidgetNode, children: ReactNode[]): ReactNode {
  return <>{children}</>;
}
