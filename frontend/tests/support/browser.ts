// The browser tests' shared parts: Debian's chromium through playwright-core, a profile whose
// only way off loopback is OpenAI's CDN URL (routed to tests/stub/chatkit.js, a labelled test
// double, or blocked), and the steps a person takes on the pages.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

import { DEFAULT_CHATKIT_SCRIPT_URL } from "../../lib/server/config";
import { TEST_PASSWORD, uniqueEmail } from "./session";
import { FRONTEND_DIR } from "./stack";

export const SCREENSHOTS = path.join(FRONTEND_DIR, "tests", "screenshots");
export const STUB = readFileSync(path.join(FRONTEND_DIR, "tests", "stub", "chatkit.js"), "utf8");

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

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_FLAGS });
}

export type Cdn = "stub" | "blocked";

/** Send the CDN URL to the stub (or nowhere), and everything else off loopback nowhere. */
export async function routeCdn(context: BrowserContext, cdn: Cdn): Promise<void> {
  await context.route(
    (url) => url.hostname !== "127.0.0.1",
    (route) =>
      cdn === "stub" && route.request().url() === DEFAULT_CHATKIT_SCRIPT_URL
        ? route.fulfill({ contentType: "text/javascript", body: STUB })
        : route.abort("blockedbyclient"),
  );
}

/** A fresh browser profile on `appUrl` whose only way off loopback is the CDN URL. */
export async function newContext(browser: Browser, appUrl: string, cdn: Cdn): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: appUrl, viewport: { width: 1280, height: 800 } });
  await routeCdn(context, cdn);
  return context;
}

/** Register a new account through the page's form; returns its email, on /chat. */
export async function registerInPage(page: Page, name: string): Promise<string> {
  const email = uniqueEmail();
  await page.goto("/register");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(TEST_PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/chat");
  return email;
}

/** Sign in with `email` through the page's form; ends on /chat. */
export async function signInInPage(page: Page, email: string): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(TEST_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/chat");
}

export const widget = (page: Page) => page.locator("openai-chatkit");

/** Type `text` into the (stub) widget's composer and send it. */
export async function sendInWidget(page: Page, text: string): Promise<void> {
  await widget(page).locator("[data-stub-composer]").fill(text);
  await widget(page).getByRole("button", { name: "Send" }).click();
}
