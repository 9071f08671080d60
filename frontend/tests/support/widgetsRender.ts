// A child process for tests/widgets.test.ts. The test runner runs with the react-server
// condition, under which react-dom/server has no renderToStaticMarkup and react-markdown
// cannot even load (React's server build has no hooks), so the widgets are drawn here, in a
// plain Node process. Reads a JSON object of named cases on stdin, writes their results.
//
// For each case: the static markup, and, if the case presses a control, what onAction got.
// A press finds the element a person would (a <button> or role=button element, by its text
// or aria-label) and dispatches the event the browser would: bubbling from that element up
// through its ancestors' handlers until one stops it, and none at all on a disabled <button>,
// which browsers never dispatch clicks to. It calls the handlers React would attach; whether
// React attaches them is React's business, not tested here.
import { register } from "node:module";
import { text } from "node:stream/consumers";

import type { ReactElement, ReactNode } from "react";

register("./widgetsCss.mjs", import.meta.url);

const { Fragment, createElement, isValidElement } = await import("react");
const { renderToStaticMarkup } = await import("react-dom/server");
const { WidgetView } = await import("../../components/builtin/widgets/WidgetView");
type WidgetProps = Parameters<typeof WidgetView>[0];

export type Press = { name: string; key: "click" | "Enter" | " " };
export type Case = { widget: unknown; busy?: boolean; press?: Press };
export type Outcome = {
  html: string;
  actions: unknown[];
  /** What became of the press: dispatched, refused by a disabled button, or no such control. */
  pressed?: "dispatched" | "disabled" | "not found";
};

type Element = ReactElement<Record<string, unknown>>;

/** The host elements of a tree, with function components (hook-free ones) expanded. */
function expand(node: ReactNode): Element[] {
  if (Array.isArray(node)) return node.flatMap((child: ReactNode) => expand(child));
  if (!isValidElement<Record<string, unknown>>(node)) return [];
  if (node.type === Fragment) return expand(node.props.children as ReactNode);
  if (typeof node.type === "function") {
    const component = node.type as (props: Record<string, unknown>) => ReactNode;
    return expand(component(node.props));
  }
  return [node];
}

function children(element: Element): Element[] {
  return expand(element.props.children as ReactNode);
}

/** Text a screen reader would read: aria-hidden subtrees left out. */
function textOf(node: ReactNode): string {
  if (typeof node === "string" || typeof node === "number") return String(node);
  if (Array.isArray(node)) return node.map((child: ReactNode) => textOf(child)).join("");
  return expand(node)
    .map((element) => (element.props["aria-hidden"] === "true" ? "" : textOf(element.props.children as ReactNode)))
    .join("");
}

function isControl(element: Element, name: string): boolean {
  if (element.type !== "button" && element.props.role !== "button") return false;
  return element.props["aria-label"] === name || textOf(element.props.children as ReactNode).trim() === name;
}

/** The path from the root to the control named `name`, or undefined. */
function pathTo(element: Element, name: string): Element[] | undefined {
  if (isControl(element, name)) return [element];
  for (const child of children(element)) {
    const path = pathTo(child, name);
    if (path) return [element, ...path];
  }
  return undefined;
}

function press(root: Element, { name, key }: Press): Outcome["pressed"] {
  const path = pathTo(root, name);
  const target = path?.at(-1);
  if (!path || !target) return "not found";
  if (target.type === "button" && target.props.disabled === true) return "disabled";
  const handler = key === "click" ? "onClick" : "onKeyDown";
  let stopped = false;
  for (const element of path.toReversed()) {
    const listener = element.props[handler];
    if (typeof listener !== "function") continue;
    listener({
      key,
      target,
      currentTarget: element,
      preventDefault() {},
      stopPropagation() {
        stopped = true;
      },
    });
    if (stopped) break;
  }
  return "dispatched";
}

function run(each: Case): Outcome {
  const actions: unknown[] = [];
  const props: WidgetProps = {
    widget: each.widget as WidgetProps["widget"],
    onAction: (action) => actions.push(action),
    busy: each.busy,
  };
  const html = renderToStaticMarkup(createElement(WidgetView, props));
  if (!each.press) return { html, actions };
  const pressed = press(WidgetView(props) as Element, each.press);
  return { html, actions, pressed };
}

const cases = JSON.parse(await text(process.stdin)) as Record<string, Case>;
const outcomes = Object.fromEntries(Object.entries(cases).map(([name, each]) => [name, run(each)]));
process.stdout.write(JSON.stringify(outcomes));
