// The page-weight budget of the built-in chat UI, read from `next build`'s output (npm test
// builds first): the JavaScript /chat loads beyond what the sign-in page loads, gzipped,
// holds the built-in UI with its Markdown renderer, and the web component's React wrapper
// and the tasks panel too. So it bounds what the built-in UI adds to the chat page.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";

import { FRONTEND_DIR } from "./support/stack";

const BUDGET_BYTES = 150 * 1024;
const BUILD = path.join(FRONTEND_DIR, ".next");

/** The JavaScript files `page` loads first, from its client reference manifest. */
function entryScripts(page: string): string[] {
  const manifest = readFileSync(path.join(BUILD, "server", "app", page, "page_client-reference-manifest.js"), "utf8");
  const scripts = manifest.slice(manifest.indexOf('"entryJSFiles"'));
  const listed = new RegExp(`"\\[project\\]/app/${page}/page":(\\[[^\\]]*\\])`).exec(scripts);
  assert.ok(listed, `no entry scripts for /${page} in its manifest: has next build's output changed shape?`);
  const files = JSON.parse(listed[1]!) as unknown[];
  return files.filter((file): file is string => typeof file === "string" && file.endsWith(".js"));
}

test("the built-in UI adds at most 150 KB of gzipped JavaScript to the chat page", (context) => {
  const shared = new Set(entryScripts("login"));
  const own = entryScripts("chat").filter((file) => !shared.has(file));
  const sources = own.map((file) => readFileSync(path.join(BUILD, file)));
  // Not vacuous: the built-in UI is in what is measured (its text is in these chunks).
  assert.ok(
    sources.some((source) => source.includes("Load earlier messages")),
    "the built-in UI is not among /chat's own scripts",
  );
  const gzipped = sources.reduce((total, source) => total + gzipSync(source, { level: 9 }).length, 0);
  context.diagnostic(`/chat's own JavaScript: ${(gzipped / 1024).toFixed(1)} KB gzipped in ${own.length} files`);
  assert.ok(gzipped <= BUDGET_BYTES, `${gzipped} bytes gzipped, over the ${BUDGET_BYTES} budget`);
});
