// The dispatcher: one widget node, of any type or shape, to React elements. Renderers are plain
// functions called here (not components React calls later), so a renderer that throws on an
// odd node is caught below and only that node becomes a placeholder.
import { Fragment, type ReactNode } from "react";

import {
  renderBasic,
  renderBox,
  renderCard,
  renderCol,
  renderListView,
  renderListViewItem,
  renderRow,
  renderTransition,
} from "./containers";
import { placeholder, renderButton, renderDivider, renderIcon, renderImage, renderSpacer } from "./controls";
import { childList, isNode, str, type RenderContext, type WidgetNode } from "./nodes";
import { renderBadge, renderCaption, renderMarkdown, renderText, renderTitle } from "./text";

type Renderer = (node: WidgetNode, children: ReactNode[], ctx: RenderContext) => ReactNode;

// A Map, not an object, so that a type such as "constructor" finds nothing.
const RENDERERS: ReadonlyMap<string, Renderer> = new Map<string, Renderer>([
  ["Basic", renderBasic],
  ["Card", renderCard],
  ["ListView", renderListView],
  ["ListViewItem", renderListViewItem],
  ["Box", renderBox],
  ["Row", renderRow],
  ["Col", renderCol],
  ["Transition", renderTransition],
  ["Text", renderText],
  ["Title", renderTitle],
  ["Caption", renderCaption],
  ["Markdown", renderMarkdown],
  ["Badge", renderBadge],
  ["Button", renderButton],
  ["Icon", renderIcon],
  ["Image", renderImage],
  ["Divider", renderDivider],
  ["Spacer", renderSpacer],
]);

/** Deeper than any real widget; a tree past it is cut off instead of exhausting the stack. */
const MAX_DEPTH = 32;

/** A type name fit to show in a placeholder: the network may send any string at all. */
function shown(type: string): string {
  return type.length > 40 ? `${type.slice(0, 40)}…` : type;
}

export function renderNode(value: unknown, ctx: RenderContext): ReactNode {
  if (!isNode(value)) return placeholder("Unsupported widget: malformed node");
  const type = str(value, "type");
  if (type === undefined || type === "") return placeholder("Unsupported widget: node without a type");
  const renderer = RENDERERS.get(type);
  if (renderer === undefined) return placeholder(`Unsupported widget: ${shown(type)}`);
  if (ctx.depth >= MAX_DEPTH) return placeholder(`Unsupported widget: ${shown(type)} nested too deeply`);
  try {
    const inner = { ...ctx, depth: ctx.depth + 1 };
    const children = childList(value.children).map((child, index) => (
      <Fragment key={index}>{renderNode(child, inner)}</Fragment>
    ));
    return renderer(value, children, ctx);
  } catch (error) {
    console.warn("Widget %s could not be rendered", type, error);
    return placeholder(`Widget could not be shown: ${shown(type)}`);
  }
}
