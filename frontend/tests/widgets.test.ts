// The built-in UI's widget renderer (components/builtin/widgets): what it draws for the widget
// JSON the ChatKit SDK sends, and what onAction receives when a control is used. Drawn in a
// child process (tests/support/widgetsRender.ts says why and how presses are dispatched).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { before, describe, test } from "node:test";

import type { Widgets } from "@openai/chatkit";

import type { Case, Outcome } from "./support/widgetsRender";

const FRONTEND_DIR = path.resolve(import.meta.dirname, "..");

function render(cases: Record<string, Case>): Record<string, Outcome> {
  const output = execFileSync(
    process.execPath,
    ["--import", "tsx", path.join("tests", "support", "widgetsRender.ts")],
    { cwd: FRONTEND_DIR, input: JSON.stringify(cases), encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(output) as Record<string, Outcome>;
}

/** The opening tags of `tag` in `html`. */
function tags(html: string, tag: string): string[] {
  return html.match(new RegExp(`<${tag}\\b[^>]*>`, "g")) ?? [];
}

const card: Widgets.Card = {
  type: "Card",
  status: { text: "From your tasks", icon: "check" },
  children: [
    { type: "Title", value: "Groceries" },
    { type: "Text", value: "3 items left", color: "secondary", weight: "semibold", italic: true },
    { type: "Badge", label: "Due today", color: "warning" },
    { type: "Button", label: "Add milk", color: "success", onClickAction: { type: "add_task", payload: { title: "Milk" } } },
  ],
  confirm: { label: "Done", action: { type: "confirm", payload: { id: 7 } } },
  cancel: { label: "Dismiss", action: { type: "dismiss" } },
};

const list: Widgets.ListView = {
  type: "ListView",
  limit: 2,
  children: [
    {
      type: "ListViewItem",
      onClickAction: { type: "open_task", payload: { id: "t1" } },
      children: [{ type: "Text", value: "Buy milk" }],
    },
    {
      type: "ListViewItem",
      onClickAction: { type: "open_task", payload: { id: "t2" } },
      children: [
        { type: "Text", value: "Call mum" },
        { type: "Button", label: "Complete", onClickAction: { type: "complete", payload: { id: "t2" } } },
      ],
    },
    { type: "ListViewItem", children: [{ type: "Text", value: "Water plants" }] },
  ],
};

const markdown: Widgets.Markdown = {
  type: "Markdown",
  value: [
    "Hello **bold** and ~~gone~~",
    "<script>alert(1)</script>",
    "[x](javascript:alert(1)) [site](https://example.com/a) [mail](mailto:a@example.com) [rel](/settings)",
    '<img src="x" onerror="alert(1)">',
  ].join("\n\n"),
};

const basic = (...children: unknown[]) => ({ type: "Basic", children });

describe("the widget renderer", () => {
  let out: Record<string, Outcome>;

  before(() => {
    out = render({
      card: { widget: card },
      pressButton: { widget: card, press: { name: "Add milk", key: "click" } },
      pressConfirm: { widget: card, press: { name: "Done", key: "click" } },
      busyCard: { widget: card, busy: true, press: { name: "Add milk", key: "click" } },
      list: { widget: list },
      enterOnItem: { widget: list, press: { name: "Buy milk", key: "Enter" } },
      spaceOnItem: { widget: list, press: { name: "Buy milk", key: " " } },
      buttonInItem: { widget: list, press: { name: "Complete", key: "click" } },
      busyItem: { widget: list, busy: true, press: { name: "Buy milk", key: "click" } },
      markdown: { widget: markdown },
      unknown: { widget: basic({ type: "Chart", data: [] }, { type: "Text", value: "after the chart" }) },
      unknownRoot: { widget: { type: "Form", children: [] } },
      notAnObject: { widget: null },
      malformed: {
        widget: basic(
          null,
          42,
          { type: 5 },
          { type: "Card", children: "not a list" },
          { type: "Text", value: { not: "text" } },
          { type: "Button", label: 7, onClickAction: "not an action" },
          { type: "Row", children: { type: "Text", value: "a lone child" } },
          { type: "Image", src: "javascript:alert(1)", alt: "evil" },
          { type: "Image", src: "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" },
          { type: "Icon", name: "no-such-icon" },
          { type: "Text", value: "injected", color: "red; background: url(https://evil.example/)" },
          { type: "Box", gap: "1px; position: fixed", padding: { top: "2px; z-index: 9" } },
        ),
      },
      deep: {
        widget: Array.from({ length: 200 }).reduce<unknown>(
          (inner) => ({ type: "Box", children: [inner] }),
          { type: "Text", value: "bottom" },
        ),
      },
      styled: {
        widget: basic(
          { type: "Text", value: "pair", color: { light: "#111111", dark: "#eeeeee" } },
          { type: "Text", value: "token", color: "success", lineThrough: true, maxLines: 2 },
          { type: "Text", value: "raw", color: "rgb(1, 2, 3)", truncate: true },
          { type: "Row", gap: 2, padding: { x: 3 }, align: "center", justify: "between", children: [] },
          { type: "Icon", name: "star-filled", color: "danger" },
          { type: "Image", src: "https://example.com/cat.png", alt: "A cat" },
          { type: "Divider" },
          { type: "Spacer" },
          { type: "Transition", children: { type: "Caption", value: "inside a transition" } },
        ),
      },
    });
  });

  test("a Card shows its title, text, badge, button and confirm/cancel as real buttons", () => {
    const { html } = out.card!;
    assert.match(html, /<h3 class="title">Groceries<\/h3>/);
    assert.match(html, /<p class="text semibold italic" style="color:var\(--w-muted\)">3 items left<\/p>/);
    assert.match(html, /<span class="badge toneWarning soft">Due today<\/span>/);
    assert.match(html, /From your tasks/);
    const buttons = tags(html, "button");
    assert.equal(buttons.length, 3);
    for (const button of buttons) {
      assert.match(button, /type="button"/);
      assert.doesNotMatch(button, /disabled/);
    }
    assert.match(html, /<button type="button" class="button toneSuccess solid">Add milk<\/button>/);
    // Cancel before confirm, as ChatKit lays them out.
    assert.match(html, />Dismiss<\/button><button[^>]*>Done<\/button>/);
  });

  test("a Button's click gives onAction its action's type and payload", () => {
    assert.equal(out.pressButton!.pressed, "dispatched");
    assert.deepEqual(out.pressButton!.actions, [{ type: "add_task", payload: { title: "Milk" } }]);
    assert.equal(out.pressConfirm!.pressed, "dispatched");
    assert.deepEqual(out.pressConfirm!.actions, [{ type: "confirm", payload: { id: 7 } }]);
  });

  test("while busy, every button is disabled and no action is sent", () => {
    const { html, pressed, actions } = out.busyCard!;
    const buttons = tags(html, "button");
    assert.equal(buttons.length, 3);
    for (const button of buttons) assert.match(button, /disabled=""/);
    assert.equal(pressed, "disabled");
    assert.deepEqual(actions, []);
  });

  test("a ListView lists its items, folds those past its limit, and makes actionable ones keyboard-operable", () => {
    const { html } = out.list!;
    assert.equal(tags(html, "ul").length, 2);
    assert.equal(tags(html, "li").length, 4, "two shown, one folded, and the <li> holding the fold");
    assert.match(html, /<details class="more"><summary>Show 1 more<\/summary>.*Water plants/);
    const items = tags(html, "div").filter((tag) => tag.includes('role="button"'));
    assert.equal(items.length, 2, "only the items with an onClickAction are controls");
    for (const item of items) assert.match(item, /tabindex="0"/);
    assert.doesNotMatch(html, /<div[^>]*role="button"[^>]*>(?:(?!<\/li>).)*Water plants/);
  });

  test("Enter and Space on a ListViewItem send its action", () => {
    for (const name of ["enterOnItem", "spaceOnItem"]) {
      assert.equal(out[name]!.pressed, "dispatched", name);
      assert.deepEqual(out[name]!.actions, [{ type: "open_task", payload: { id: "t1" } }], name);
    }
  });

  test("a Button inside a clickable ListViewItem sends only its own action", () => {
    assert.deepEqual(out.buttonInItem!.actions, [{ type: "complete", payload: { id: "t2" } }]);
  });

  test("while busy, a ListViewItem is aria-disabled and its click sends nothing", () => {
    assert.match(out.busyItem!.html, /role="button" tabindex="0" aria-disabled="true"/);
    assert.equal(out.busyItem!.pressed, "dispatched");
    assert.deepEqual(out.busyItem!.actions, []);
  });

  test("Markdown renders GFM but no HTML and no javascript: link", () => {
    const { html } = out.markdown!;
    assert.match(html, /<strong>bold<\/strong>/);
    assert.match(html, /<del>gone<\/del>/, "remark-gfm is on");
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /<img/i);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, "raw HTML is shown as text");
    assert.doesNotMatch(html, /javascript:/i);
    const links = tags(html, "a");
    assert.deepEqual(links, [
      '<a href="https://example.com/a" target="_blank" rel="noopener noreferrer">',
      '<a href="mailto:a@example.com" target="_blank" rel="noopener noreferrer">',
    ]);
    assert.match(html, /<span>x<\/span>/, "the refused link keeps its text");
    assert.match(html, /<span>rel<\/span>/, "relative links are refused too");
  });

  test("an unsupported component becomes a labelled placeholder and its siblings still render", () => {
    assert.match(out.unknown!.html, /<div role="note" class="placeholder">Unsupported widget: Chart<\/div>/);
    assert.match(out.unknown!.html, /after the chart/);
    assert.match(out.unknownRoot!.html, />Unsupported widget: Form</);
    assert.match(out.notAnObject!.html, />Unsupported widget: malformed node</);
  });

  test("malformed nodes and unsafe values neither crash the tree nor reach the markup", () => {
    const { html } = out.malformed!;
    assert.equal(html.match(/Unsupported widget: malformed node/g)?.length, 2, "null and 42");
    assert.match(html, /Unsupported widget: node without a type/);
    assert.match(html, /<div class="card"><\/div>/, "a Card whose children are not a list is empty");
    assert.match(html, /<p class="text"><\/p>/, "a Text whose value is not text is empty");
    assert.match(html, /<button type="button" class="button tonePrimary solid" disabled="">/);
    assert.match(html, /<div class="row"><p class="text">a lone child<\/p><\/div>/);
    assert.match(html, /Image not shown: evil/);
    assert.doesNotMatch(html, /<img/);
    assert.doesNotMatch(html, /javascript:|url\(|position|z-index/);
    assert.doesNotMatch(html, /class="icon"/, "an unknown icon renders nothing");
    assert.match(html, /<p class="text">injected<\/p>/);
  });

  test("a tree nested past any real widget is cut off with a placeholder", () => {
    assert.match(out.deep!.html, /Unsupported widget: Box nested too deeply/);
    assert.doesNotMatch(out.deep!.html, /bottom/);
  });

  test("colors, layout and the leaf widgets map to safe styles", () => {
    const { html } = out.styled!;
    assert.match(html, /style="color:light-dark\(#111111, #eeeeee\)">pair/);
    assert.match(html, /class="text strike clamp" style="color:var\(--w-success\);--w-lines:2">token/);
    assert.match(html, /class="text truncate" style="color:rgb\(1, 2, 3\)">raw/);
    assert.match(
      html,
      /<div class="row" style="padding-right:12px;padding-left:12px;gap:8px;align-items:center;justify-content:space-between">/,
    );
    assert.match(html, /<span aria-hidden="true" class="icon" style="color:var\(--w-danger\)">★\uFE0E<\/span>/u);
    assert.match(html, /<img src="https:\/\/example.com\/cat.png" alt="A cat"/);
    assert.match(html, /<hr class="divider"\/>/);
    assert.match(html, /<div aria-hidden="true" class="spacer"><\/div>/);
    assert.match(html, /<p class="caption">inside a transition<\/p>/);
  });
});
