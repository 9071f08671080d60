"use client";
// The built-in UI's widget renderer: the JSON tree a ChatKit WidgetItem carries, drawn with
// plain elements and this folder's CSS module. It stands in for the ChatKit web component's
// renderer when that component cannot load (issue 12). The tree is typed as the SDK's, but
// it comes from the network, so every node is checked as it is drawn (see render.tsx).
import type { Widgets } from "@openai/chatkit";
import type { ReactElement } from "react";

import type { WidgetAction } from "./nodes";
import { renderNode } from "./render";
import styles from "./widgets.module.css";

export type { WidgetAction } from "./nodes";

export function WidgetView(props: {
  widget: Widgets.WidgetRoot;
  onAction: (action: WidgetAction) => void;
  /** True while an action is in flight: every button and clickable item is then inert. */
  busy?: boolean;
}): ReactElement {
  const { widget, onAction, busy = false } = props;
  return <div className={styles.root}>{renderNode(widget, { onAction, busy, depth: 0 })}</div>;
}
