// The app in a real browser (Debian's chromium through playwright-core) against
// its production server (`npm start`), the real backend and the scripted model. Only OpenAI's CDN is replaced:
// its URL is routed to tests/stub/chatkit.js (a labelled test double) or blocked.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

import { DEFAULT_CHATKIT_SCRIPT_URL } from "../lib/server/config";
import { COOKIE, TEST_PASSWORD, expiredToken, register, uniqueEmail } from "./support/session";
import { FRONTEND_DIR, eventually, startStack, type Stack } from "./support/stack";

const SCREENSHOTS = path.join(FRONTEND_DIR, "tests", "screenshots");
const STUB = readFileSync(path.join(FRONTEND_DIR, "tests", "stub", "chatkit.js"), "utf8");

// The flags these machines need: no sandbox as root, and no background calls to Google's
// services, which this closed network refuses.
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function chromiumPath(): string {
  const given = process.env.CHROMIUM_PATH;
  if (given) return given;
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(
      "The browser tests need Chromium: `apt-get install -y chromium` (or set CHROMIUM_PATH).",
    );
  }
}

let stack: Stack;
let browser: Browser;

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  stack = await startStack();
  browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_FLAGS });
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A fresh browser profile whose only way off loopback is the CDN URL, stubbed or not. */
async function newContext(cdn: "stub" | "blocked"): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: stack.appUrl, viewport: { width: 1280, height: 800 } });
  await context.route(
    (url) => url.hostname !== "127.0.0.1",
    (route) =>
      cdn === "stub" && route.request().url() === DEFAULT_CHATKIT_SCRIPT_URL
        ? route.fulfill({ contentType: "text/javascript", body: STUB })
        : route.abort("blockedbyclient"),
  );
  return context;
}

async function registerInPage(page: Page, name: string): Promise<string> {
  const email = uniqueEmail();
  await page.goto("/register");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(TEST_PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/chat");
  return email;
}

const widget = (page: Page) => page.locator("openai-chatkit");

async function sendInWidget(page: Page, text: string): Promise<void> {
  await widget(page).locator("[data-stub-composer]").fill(text);
  await widget(page).getByRole("button", { name: "Send" }).click();
}

describe("in the browser", () => {
  test("register, chat through the real proxy, and see the task the agent added", async () => {
    const context = await newContext("stub");
    const page = await context.newPage();

    await page.goto("/chat");
    await page.waitForURL("**/login");
    await page.getByRole("heading", { name: "Sign in to Taskchat" }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, "login.png") });

    await registerInPage(page, "Ada Lovelace");
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name === COOKIE);
    assert.ok(session, "no session cookie");
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, "Lax");
    assert.ok(!(await page.evaluate(() => document.cookie)).includes(COOKIE), "page script can read the token");
    await page.getByText("Ada Lovelace").waitFor();

    // The widget is wired: our start screen, prompts and composer options reached it.
    await page.locator("openai-chatkit[data-stub-ready]").waitFor();
    await widget(page).getByText("What's on your plate today?").waitFor();
    await widget(page).getByRole("button", { name: "Add a task" }).waitFor();
    await widget(page).getByRole("button", { name: "What's on my list?" }).waitFor();
    await page.getByText("No tasks yet").waitFor();

    // Next sets the title after a client-side navigation; the page context carries it.
    await page.waitForFunction(() => document.title === "Chat · Taskchat");
    await stack.model.reset();
    await stack.model.script(
      { tool_calls: [{ name: "add_task", arguments: { title: "Buy oat milk", priority: "high" } }] },
      { text: ["I added ", "Buy oat milk", " to your list."], chunk_delay: 0.05 },
    );
    await sendInWidget(page, "Remind me to buy oat milk");
    await widget(page).locator('[data-role="assistant"]', { hasText: "I added Buy oat milk to your list." }).waitFor();
    // The panel reloads when the response ends.
    await page.locator(".tasks-panel .task-title", { hasText: "Buy oat milk" }).waitFor();
    await page.locator(".tasks-panel .badge.high").waitFor();

    // Page context went to the model as request metadata.
    const { requests } = await stack.model.state();
    const system = JSON.stringify(requests[0]?.messages?.[0]?.content ?? "");
    assert.ok(system.includes(`${stack.appUrl}/chat`), `no page URL in ${system}`);
    assert.ok(system.includes("Chat · Taskchat"), `no page title in ${system}`);
    await page.screenshot({ path: path.join(SCREENSHOTS, "chat.png") });

    // Select text on the page -> "Ask about this" -> the composer holds the quote.
    await page.locator(".tasks-panel .task-title", { hasText: "Buy oat milk" }).selectText();
    await page.getByRole("button", { name: "Ask about this" }).click();
    assert.equal(await widget(page).locator("[data-stub-composer]").inputValue(), 'About "Buy oat milk": ');

    // The thread is remembered across a reload.
    const thread = await widget(page).getAttribute("data-thread-id");
    assert.match(thread ?? "", /^thr_/);
    await page.reload();
    await widget(page).locator('[data-role="user"]', { hasText: "Remind me to buy oat milk" }).waitFor();
    assert.equal(await widget(page).getAttribute("data-thread-id"), thread);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/login");
    assert.ok(!(await context.cookies()).some((cookie) => cookie.name === COOKIE && cookie.value));
    await context.close();
  });

  test("a session that ends mid-chat leads back to sign-in", async () => {
    const context = await newContext("stub");
    const session = await register(stack.appUrl, "Grace Hopper");
    await context.addCookies([{ name: COOKIE, value: session.token, url: stack.appUrl, httpOnly: true }]);
    const page = await context.newPage();
    await page.goto("/chat");
    await widget(page).locator("[data-stub-composer]").waitFor();
    // The token expires while the page is open; the backend now refuses it.
    await context.addCookies([{ name: COOKIE, value: expiredToken(), url: stack.appUrl, httpOnly: true }]);
    await sendInWidget(page, "Anything due today?");
    await page.waitForURL("**/login?expired=1");
    await page.getByText("Your session ended").waitFor();
    await context.close();
  });

  test("with the CDN unreachable the page says the chat could not load, and retry recovers", async () => {
    const context = await newContext("blocked");
    const page = await context.newPage();
    await registerInPage(page, "Offline Person");
    const failure = page.getByRole("alert").filter({ hasText: "The chat could not load" });
    await failure.waitFor();
    await page.getByRole("button", { name: "Try again" }).waitFor();
    // The rest of the page still works: the tasks panel loaded.
    await page.getByText("No tasks yet").waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, "load-failure.png") });

    await context.unrouteAll();
    await context.route(
      (url) => url.hostname !== "127.0.0.1",
      (route) =>
        route.request().url() === DEFAULT_CHATKIT_SCRIPT_URL
          ? route.fulfill({ contentType: "text/javascript", body: STUB })
          : route.abort("blockedbyclient"),
    );
    await page.getByRole("button", { name: "Try again" }).click();
    await widget(page).locator("[data-stub-composer]").waitFor();
    await eventually("the failure state to go", async () => (await failure.count()) === 0);
    await context.close();
  });
});
