// The security headers on the real production server (`npm start`, with proxy.ts), and the
// pages working under them in a real browser (Debian's chromium through playwright-core)
// against the real backend and the scripted model, with no Content-Security-Policy
// violation reported. OpenAI's CDN URL is routed to tests/stub/chatkit.js, as in
// browser.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import type { Browser, BrowserContext, Page } from "playwright-core";

import {
  launchBrowser,
  newContext,
  registerInPage,
  sendInWidget,
  signInInPage,
  widget,
} from "./support/browser";
import { directives, nonceOf } from "./support/csp";
import { register, type Session } from "./support/session";
import { eventually, startStack, type Stack } from "./support/stack";

let stack: Stack;
let browser: Browser;
let session: Session;

before(async () => {
  stack = await startStack();
  browser = await launchBrowser();
  session = await register(stack.appUrl, "Header Checker");
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** `path`'s response and its body, read at once so a failed check leaves no connection busy. */
async function get(path: string, headers: Record<string, string> = {}): Promise<{ response: Response; body: string }> {
  const response = await fetch(`${stack.appUrl}${path}`, { headers, redirect: "manual" });
  return { response, body: await response.text() };
}

/** Every `<script>` start tag in `html`. */
function scriptTags(html: string): string[] {
  return html.match(/<script\b[^>]*>/g) ?? [];
}

describe("over HTTP", () => {
  // The sign-in pages, the chat (signed in) and a page that does not exist.
  const pages: [string, () => Record<string, string>][] = [
    ["/login", () => ({})],
    ["/register", () => ({})],
    ["/chat", () => ({ cookie: session.cookie })],
    ["/no-such-page", () => ({})],
  ];

  for (const [path, headersOf] of pages) {
    test(`${path}: a CSP with a fresh nonce that every script carries, and the other headers`, async () => {
      const nonces = new Set<string>();
      for (let i = 0; i < 2; i++) {
        const { response, body } = await get(path, headersOf());
        assert.equal(response.status, path === "/no-such-page" ? 404 : 200);
        const policy = response.headers.get("content-security-policy");
        assert.ok(policy, `no Content-Security-Policy on ${path}`);
        const parsed = directives(policy);
        assert.deepEqual(parsed.get("frame-ancestors"), ["'none'"]);
        assert.deepEqual(parsed.get("object-src"), ["'none'"]);
        assert.deepEqual(parsed.get("connect-src"), ["'self'"]);
        assert.ok(!policy.includes("unsafe-eval"), "production allows eval");
        assert.ok(!parsed.get("script-src")?.includes("'unsafe-inline'"));
        const nonce = nonceOf(policy);
        assert.ok(nonce, `no nonce in ${policy}`);
        nonces.add(nonce);

        // Next put this response's nonce on every script it rendered, inline ones included.
        const scripts = scriptTags(body);
        assert.ok(scripts.some((tag) => !tag.includes(" src=")), `no inline script on ${path}`);
        for (const tag of scripts) assert.ok(tag.includes(`nonce="${nonce}"`), `${tag} lacks the nonce`);

        const permissions = response.headers.get("permissions-policy") ?? "";
        for (const feature of ["camera", "microphone", "geolocation", "payment", "usb"]) {
          assert.ok(permissions.includes(`${feature}=()`), `${feature} not off in ${permissions}`);
        }
        assert.equal(response.headers.get("strict-transport-security"), null, "HSTS over plain http");
        // next.config.ts's headers are still there.
        assert.equal(response.headers.get("x-frame-options"), "DENY");
        assert.equal(response.headers.get("x-content-type-options"), "nosniff");
        assert.equal(response.headers.get("referrer-policy"), "same-origin");
      }
      assert.equal(nonces.size, 2, "the nonce was reused");
    });
  }

  test("HSTS when the TLS proxy says the browser came in over HTTPS, not otherwise", async () => {
    const { response: secure } = await get("/login", { "x-forwarded-proto": "https" });
    assert.equal(secure.headers.get("strict-transport-security"), "max-age=31536000");
    const { response: plain } = await get("/login", { "x-forwarded-proto": "http" });
    assert.equal(plain.headers.get("strict-transport-security"), null);
  });

  test("a browser-sent Content-Security-Policy header does not choose the nonce", async () => {
    // Next would take it as the nonce if the proxy passed it on.
    const { response, body } = await get("/login", { "content-security-policy": "script-src 'nonce-chosen'" });
    assert.notEqual(nonceOf(response.headers.get("content-security-policy")), "chosen");
    assert.ok(!body.includes("chosen"));
  });

  test("static files and API routes keep next.config.ts's headers and skip the proxy", async () => {
    const { body: html } = await get("/login");
    const chunk = /<script src="(\/_next\/static\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(chunk, "no static chunk on /login");
    for (const path of [chunk, "/api/health"]) {
      const { response } = await get(path);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff", path);
      assert.equal(response.headers.get("content-security-policy"), null, path);
    }
  });
});

type Report = { kind: "violation" | "console"; text: string };

/**
 * Every CSP violation the pages of `context` report, as `securitypolicyviolation` events and
 * as console messages (where Chromium also reports a header it cannot read).
 */
async function watchViolations(context: BrowserContext): Promise<Report[]> {
  const reports: Report[] = [];
  await context.exposeBinding("__reportViolation", (_source, text: string) => {
    reports.push({ kind: "violation", text });
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      const report = (window as unknown as { __reportViolation: (text: string) => void }).__reportViolation;
      report(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"} on ${event.documentURI}`);
    });
  });
  context.on("console", (message) => {
    if (/content security policy|permissions-policy/i.test(message.text())) {
      reports.push({ kind: "console", text: message.text() });
    }
  });
  return reports;
}

describe("in the browser", () => {
  test("sign-in, chat through the ChatKit stub and the tasks panel work, with no CSP violation", async () => {
    const context = await newContext(browser, stack.appUrl, "stub");
    const reports = await watchViolations(context);
    const page = await context.newPage();

    const email = await registerInPage(page, "Strict Person");
    // The widget's script came from the CDN's origin, which the policy names.
    await page.locator("openai-chatkit[data-stub-ready]").waitFor();
    await page.getByText("No tasks yet").waitFor();

    await stack.model.reset();
    await stack.model.script(
      { tool_calls: [{ name: "add_task", arguments: { title: "Renew passport", priority: "high" } }] },
      { text: ["Added ", "Renew passport", "."] },
    );
    await sendInWidget(page, "Remind me to renew my passport");
    await widget(page).locator('[data-role="assistant"]', { hasText: "Added Renew passport." }).waitFor();
    await page.locator(".tasks-panel .task-title", { hasText: "Renew passport" }).waitFor();

    // Out, and back in through the sign-in form (a client-side move to /chat, under the
    // policy /login came with): the thread and the task are there.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/login");
    await signInInPage(page, email);
    await widget(page).locator('[data-role="user"]', { hasText: "Remind me to renew my passport" }).waitFor();
    await page.locator(".tasks-panel .task-title", { hasText: "Renew passport" }).waitFor();

    await page.goto("/no-such-page");
    await page.getByText("This page could not be found").waitFor();

    assert.deepEqual(reports, []);
    await context.close();
  });

  test("the policy is enforced and its violations are seen: an injected inline script does not run", async () => {
    const context = await newContext(browser, stack.appUrl, "stub");
    const reports = await watchViolations(context);
    const page: Page = await context.newPage();
    await page.goto("/login");
    await page.getByRole("heading", { name: "Sign in to Taskchat" }).waitFor();
    await page.evaluate(() => {
      const script = document.createElement("script");
      script.textContent = "window.__injected = true;";
      document.body.append(script);
    });
    await eventually("the violation to be reported", () =>
      reports.some((report) => report.kind === "violation" && report.text.startsWith("script-src")),
    );
    assert.equal(await page.evaluate(() => (window as unknown as { __injected?: boolean }).__injected), undefined);
    // Chromium says so in the console too.
    await eventually("the console message", () => reports.some((report) => report.kind === "console"));
    await context.close();
  });
});
