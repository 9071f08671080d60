// The tasks panel in a real browser (Debian's chromium through playwright-core) against the
// production server (`npm start`) and the real backend: the chat's failure text says where
// the tasks are truthfully, whether the panel sits beside the chat or below it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import type { Browser } from "playwright-core";

import { launchBrowser, registerInPage, routeCdn } from "./support/browser";
import { startStack, type Stack } from "./support/stack";

let stack: Stack;
let browser: Browser;

before(async () => {
  stack = await startStack();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("the chat's failure text", () => {
  for (const [layout, width] of [["beside the chat", 1280], ["below the chat", 600]] as const) {
    test(`says where the tasks are when the panel is ${layout}`, async () => {
      const context = await browser.newContext({ baseURL: stack.appUrl, viewport: { width, height: 900 } });
      await routeCdn(context, "blocked");
      const page = await context.newPage();
      await registerInPage(page, "Narrow Reader");
      const failure = page.getByRole("alert").filter({ hasText: "The chat could not load" });
      await failure.waitFor();
      const chat = await failure.boundingBox();
      const panel = await page.locator(".tasks-panel").boundingBox();
      assert.ok(chat && panel);
      // The layout is the one named: the panel to the right, or under the chat.
      if (width === 600) assert.ok(panel.y >= chat.y + chat.height, "the panel is not below");
      else assert.ok(panel.x >= chat.x + chat.width, "the panel is not beside");
      const text = (await failure.textContent()) ?? "";
      assert.match(text, /Your tasks are still listed on this page\./);
      assert.doesNotMatch(text, /beside|below/i);
      await context.close();
    });
  }
});
