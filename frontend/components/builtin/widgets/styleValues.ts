// Turning widget style fields into CSS values, accepting only values that cannot carry more
// CSS than they claim to. Server-side rendering writes the style object into a `style="..."`
// attribute, so a color such as "red; background: url(...)" would otherwise add declarations.
import type { CSSProperties } from "react";

import { isNode, type WidgetNode } from "./nodes";

/** Inline style with the custom properties the CSS module reads (`--w-...`). */
export type StyleVars = CSSProperties & { [property: `--${string}`]: string | undefined };

/** Pixels per spacing unit: the SDK gives gap and padding numbers in units, not pixels. */
const SPACING_UNIT_PX = 4;

const LENGTH = /^-?(?:\d+|\d*\.\d+)(?:px|rem|em|%|vh|vw|ch)?$/;
const HEX = /^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;
const COLOR_FUNCTION = /^(?:rgba?|hsla?)\([\w.,%\s/+-]*\)$/i;
const COLOR_WORD = /^[a-z]{3,24}$/i;
const PRIMITIVE = /^([a-z]+)-(\d{2,3})$/;

/** A length in pixels (numbers) or a plain CSS length (strings); anything else is dropped. */
export function length(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return `${value}px`;
  if (typeof value === "string" && LENGTH.test(value.trim())) return value.trim();
  return undefined;
}

/** A spacing value: numbers are spacing units, strings plain CSS lengths. */
export function spacing(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return `${value * SPACING_UNIT_PX}px`;
  return length(value);
}

/** `padding` as a number or string (all sides) or a `{top, right, bottom, left, x, y}` object. */
export function padding(value: unknown): CSSProperties {
  if (!isNode(value)) {
    const all = spacing(value);
    return all === undefined ? {} : { padding: all };
  }
  const side = (own: string, axis: string): string | undefined => spacing(value[own] ?? value[axis]);
  return dropUndefined({
    paddingTop: side("top", "y"),
    paddingRight: side("right", "x"),
    paddingBottom: side("bottom", "y"),
    paddingLeft: side("left", "x"),
  });
}

type ColorKind = "text" | "background" | "border";

// Theme color names, per kind, mapped to the palette the CSS module defines on its root.
const TOKENS: Readonly<Record<ColorKind, ReadonlyMap<string, string>>> = {
  text: new Map([
    ["prose", "var(--w-text)"],
    ["primary", "var(--w-text)"],
    ["emphasis", "var(--w-text)"],
    ["secondary", "var(--w-muted)"],
    ["tertiary", "var(--w-faint)"],
    ["success", "var(--w-success)"],
    ["warning", "var(--w-warning)"],
    ["caution", "var(--w-warning)"],
    ["danger", "var(--w-danger)"],
    ["info", "var(--w-info)"],
    ["discovery", "var(--w-discovery)"],
  ]),
  background: new Map([
    ["surface", "var(--w-surface)"],
    ["surface-secondary", "var(--w-surface-2)"],
    ["surface-tertiary", "var(--w-surface-3)"],
    ["surface-elevated", "var(--w-surface)"],
    ["surface-elevated-secondary", "var(--w-surface-2)"],
  ]),
  border: new Map([
    ["default", "var(--w-border)"],
    ["subtle", "var(--w-border-subtle)"],
    ["strong", "var(--w-border-strong)"],
  ]),
};

// Base hues for primitive tokens such as "red-100" or "gray-500"; shades mix toward white
// (below 500) or black (above). A rough match of the ChatKit palette, not a copy of it.
const HUES: ReadonlyMap<string, string> = new Map([
  ["gray", "#6b7280"],
  ["red", "#dc2626"],
  ["orange", "#ea580c"],
  ["yellow", "#ca8a04"],
  ["green", "#16a34a"],
  ["teal", "#0d9488"],
  ["blue", "#2563eb"],
  ["indigo", "#4f46e5"],
  ["purple", "#9333ea"],
  ["pink", "#db2777"],
]);

function primitive(value: string): string | undefined {
  const match = PRIMITIVE.exec(value);
  const base = match ? HUES.get(match[1] ?? "") : undefined;
  const shade = Number(match?.[2]);
  if (base === undefined || !(shade >= 50 && shade <= 950)) return undefined;
  if (shade <= 500) return `color-mix(in srgb, ${base} ${Math.round(shade / 5)}%, white)`;
  return `color-mix(in srgb, ${base} ${Math.round(100 - ((shade - 500) / 500) * 80)}%, black)`;
}

function singleColor(value: unknown, kind: ColorKind): string | undefined {
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  const token = TOKENS[kind].get(trimmed) ?? primitive(trimmed);
  if (token !== undefined) return token;
  if (HEX.test(trimmed) || COLOR_FUNCTION.test(trimmed) || COLOR_WORD.test(trimmed)) return trimmed;
  return undefined;
}

/**
 * A CSS color for a theme token, primitive token, safe raw color or `{light, dark}` pair
 * (through `light-dark()`, which follows the `color-scheme` the module's root sets).
 */
export function color(value: unknown, kind: ColorKind): string | undefined {
  if (!isNode(value)) return singleColor(value, kind);
  const light = singleColor(value.light, kind);
  const dark = singleColor(value.dark, kind);
  if (light === undefined || dark === undefined) return light ?? dark;
  return `light-dark(${light}, ${dark})`;
}

const BORDER_STYLES = new Set(["solid", "dashed", "dotted", "double", "groove", "ridge", "inset", "outset"]);

function borderSide(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) {
    return `${value}px solid var(--w-border)`;
  }
  if (!isNode(value) || typeof value.size !== "number" || !Number.isFinite(value.size)) return undefined;
  const style = typeof value.style === "string" && BORDER_STYLES.has(value.style) ? value.style : "solid";
  return `${value.size}px ${style} ${color(value.color, "border") ?? "var(--w-border)"}`;
}

/** `border` as a number (pixels), a `Border`, or per-side `Borders`. */
export function border(value: unknown): CSSProperties {
  const all = borderSide(value);
  if (all !== undefined) return { border: all };
  if (!isNode(value)) return {};
  const side = (own: string, axis: string): string | undefined => borderSide(value[own] ?? value[axis]);
  return dropUndefined({
    borderTop: side("top", "y"),
    borderRight: side("right", "x"),
    borderBottom: side("bottom", "y"),
    borderLeft: side("left", "x"),
  });
}

const RADII: ReadonlyMap<string, string> = new Map([
  ["none", "0"],
  ["2xs", "2px"],
  ["xs", "4px"],
  ["sm", "6px"],
  ["md", "8px"],
  ["lg", "12px"],
  ["xl", "16px"],
  ["2xl", "20px"],
  ["3xl", "24px"],
  ["4xl", "32px"],
  ["full", "9999px"],
  ["100%", "100%"],
]);

const ALIGN: ReadonlyMap<string, string> = new Map([
  ["start", "flex-start"],
  ["center", "center"],
  ["end", "flex-end"],
  ["baseline", "baseline"],
  ["stretch", "stretch"],
]);

const JUSTIFY: ReadonlyMap<string, string> = new Map([
  ["start", "flex-start"],
  ["center", "center"],
  ["end", "flex-end"],
  ["between", "space-between"],
  ["around", "space-around"],
  ["evenly", "space-evenly"],
  ["stretch", "stretch"],
]);

const WRAP = new Set(["nowrap", "wrap", "wrap-reverse"]);

function lookup(map: ReadonlyMap<string, string>, value: unknown): string | undefined {
  return typeof value === "string" ? map.get(value) : undefined;
}

/** The size fields every block (Box, Row, Col, Image) shares. */
export function blockStyle(node: WidgetNode): CSSProperties {
  return dropUndefined({
    width: length(node.width ?? node.size),
    height: length(node.height ?? node.size),
    minWidth: length(node.minWidth ?? node.minSize),
    minHeight: length(node.minHeight ?? node.minSize),
    maxWidth: length(node.maxWidth ?? node.maxSize),
    maxHeight: length(node.maxHeight ?? node.maxSize),
    borderRadius: lookup(RADII, node.radius),
    aspectRatio:
      typeof node.aspectRatio === "number" && node.aspectRatio > 0 ? String(node.aspectRatio) : undefined,
  });
}

/** Flex layout of a Box, Row, Col, Basic root or list item. */
export function boxStyle(node: WidgetNode): CSSProperties {
  const flex = node.flex;
  return {
    ...blockStyle(node),
    ...padding(node.padding),
    ...border(node.border),
    ...dropUndefined({
      gap: spacing(node.gap),
      alignItems: lookup(ALIGN, node.align),
      justifyContent: lookup(JUSTIFY, node.justify),
      flexWrap: typeof node.wrap === "string" && WRAP.has(node.wrap) ? (node.wrap as CSSProperties["flexWrap"]) : undefined,
      flex: typeof flex === "number" && Number.isFinite(flex) ? String(flex) : undefined,
      background: color(node.background, "background"),
    }),
  };
}

/** The style object without its undefined entries, so it renders no empty declarations. */
export function dropUndefined<T extends object>(style: T): T {
  return Object.fromEntries(Object.entries(style).filter(([, value]) => value !== undefined)) as T;
}

/** `align` as a CSS `align-items` value. */
export function alignItems(value: unknown): string | undefined {
  return lookup(ALIGN, value);
}

/** The class names given, without the falsy ones. */
export function cx(...names: readonly (string | false | null | undefined)[]): string {
  return names.filter(Boolean).join(" ");
}
