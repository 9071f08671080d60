// Reading widget JSON defensively. The widget tree arrives over the network and is typed as
// `Widgets.WidgetRoot` only by convention, so every field is checked here before use: a
// missing or mistyped field reads as absent instead of throwing halfway through a render.

/** What a widget's action asks the host to do: `onAction` receives it when a control is used. */
export type WidgetAction = { type: string; payload?: Record<string, unknown> };

/** A widget component as received: an object whose fields are not yet trusted. */
export type WidgetNode = Readonly<Record<string, unknown>>;

export function isNode(value: unknown): value is WidgetNode {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A string field, or undefined when absent or of another type. */
export function str(node: WidgetNode, key: string): string | undefined {
  const value = node[key];
  return typeof value === "string" ? value : undefined;
}

/** A field meant as text to show: strings as they are, finite numbers written out. */
export function text(node: WidgetNode, key: string): string {
  const value = node[key];
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return "";
}

export function num(node: WidgetNode, key: string): number | undefined {
  const value = node[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** True only for a real `true`: a string "false" must not switch anything on. */
export function flag(node: WidgetNode, key: string): boolean {
  return node[key] === true;
}

/** The child nodes, whether sent as a list or, as `Transition` and dynamic widgets do, as one node. */
export function childList(value: unknown): readonly unknown[] {
  if (Array.isArray(value)) return value;
  return isNode(value) ? [value] : [];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isNode(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * The action an `ActionConfig` names, or undefined when it names none. The SDK also sends
 * `handler`, `loadingBehavior` and `streaming`; the host is given only the type and an
 * object payload (a payload of another shape is left out, since `WidgetAction` cannot carry it).
 */
export function actionOf(value: unknown): WidgetAction | undefined {
  if (!isNode(value) || typeof value.type !== "string" || value.type === "") return undefined;
  return isPlainObject(value.payload) ? { type: value.type, payload: value.payload } : { type: value.type };
}

/** What every renderer is given besides its node: where actions go, and whether one is running. */
export type RenderContext = {
  readonly onAction: (action: WidgetAction) => void;
  /** While an action is in flight every control is inert, so a second click cannot race it. */
  readonly busy: boolean;
  /** How deep in the tree the node sits, to stop a pathologically nested tree. */
  readonly depth: number;
};
