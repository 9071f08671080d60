// The account menu (beside "Sign out", the same in both chat UIs), in a real browser against
// the production server, the real backend and the scripted model: "Export my data" downloads
// the person's data, and deleting the account signs them out for good. Also the routes'
// refusals: another site, no session.
import assert from "node:assert/strict";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import type { Browser, Page } from "playwright-core";

import { SCREENSHOTS, launchBrowser, registerInPage, signInInPage } from "./support/browser";
import { COOKIE, TEST_PASSWORD, register } from "./support/session";
import { startFrontend, startStack, type Stack } from "./support/stack";

let stack: Stack;
let browser: Browser;

/** The backend's JWT secret here, so a test can mint what `taskchat token` would. */
const SECRET = randomBytes(32).toString("hex");

/** An HS256 token for `sub`, as `taskchat token --sub` makes one: no account behind it. */
function developmentToken(sub: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub, name: "Dev Person", iss: "taskchat", aud: "taskchat", iat: now, exp: now + 600 };
  const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}`;
  return `${unsigned}.${createHmac("sha256", SECRET).update(unsigned).digest("base64url")}`;
}

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  stack = await startStack({ CHAT_UI: "builtin" }, { jwt_secret: SECRET });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

async function freshPage(appUrl = stack.appUrl): Promise<Page> {
  const context = await browser.newContext({ baseURL: appUrl, viewport: { width: 1280, height: 800 } });
  // Nothing off the app's own origin (the built-in UI needs nothing else).
  const origin = new URL(appUrl).origin;
  await context.route(
    (url) => url.origin !== origin,
    (route) => route.abort("blockedbyclient"),
  );
  return context.newPage();
}

const accountMenu = (page: Page) => page.getByRole("group", { name: "Account" });

async function openAccountMenu(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Account", exact: true }).click();
  await accountMenu(page).waitFor();
}

/** Delete the signed-in person's account through the menu's dialog, with their password. */
async function deleteAccountInPage(page: Page): Promise<void> {
  await openAccountMenu(page);
  await accountMenu(page).getByRole("button", { name: "Delete my account…" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete your account?" });
  await dialog.getByLabel("Password").fill(TEST_PASSWORD);
  await dialog.getByRole("button", { name: "Delete my account" }).click();
}

/** Whether the page's browser still holds a session cookie with a value. */
async function holdsSession(page: Page): Promise<boolean> {
  return (await page.context().cookies()).some((cookie) => cookie.name === COOKIE && cookie.value !== "");
}

/**
 * The page comes to the sign-in page saying the session ended, and stays there: no further
 * navigation for two seconds, no session cookie left, and the app's front door leads to
 * sign-in rather than back to the chat.
 */
async function settlesOnSignIn(page: Page, navigations: string[]): Promise<void> {
  await page.waitForURL("**/login?expired=1");
  await page.getByText("Your session ended. Please sign in again.").waitFor();
  const seen = navigations.length;
  await sleep(2_000);
  assert.deepEqual(navigations.slice(seen), [], "the sign-in page did not stay");
  assert.match(page.url(), /\/login\?expired=1$/);
  assert.ok(!(await holdsSession(page)), "the refused session's cookie is still there");
  await page.goto("/");
  await page.waitForURL("**/login");
  await page.getByRole("button", { name: "Sign in" }).waitFor();
}

/** The URLs `page`'s main frame navigates to, from now on. */
function navigationsOf(page: Page): string[] {
  const seen: string[] = [];
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) seen.push(frame.url());
  });
  return seen;
}

async function chatOnce(page: Page, text: string, answer: string): Promise<void> {
  await stack.model.reset();
  await stack.model.titles("Garden plans");
  await stack.model.script({ text: [answer] });
  const composer = page.getByRole("combobox", { name: "Message" });
  await composer.fill(text);
  await composer.press("Enter");
  await page.getByRole("log", { name: "Messages" }).getByText(answer).waitFor();
  await page.getByRole("region", { name: "Conversation" }).getByRole("button", { name: "Send" }).waitFor();
}

type Exported = {
  format: string;
  account: { id: string; email: string; name: string };
  threads: { id: string; title: string | null }[];
  items: { thread_id: string; type: string; content?: { text?: string }[] }[];
  tasks: unknown[];
};

describe("the account menu", () => {
  test("Export my data downloads a JSON file of the person's conversations", async () => {
    const page = await freshPage();
    const email = await registerInPage(page, "Exporting Person");
    await chatOnce(page, "Plant tomatoes in May", "Noted: tomatoes in May.");

    await openAccountMenu(page);
    await accountMenu(page).getByText(email).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, "account-menu.png") });
    const downloading = page.waitForEvent("download");
    await accountMenu(page).getByRole("button", { name: "Export my data" }).click();
    const download = await downloading;
    assert.match(download.suggestedFilename(), /^taskchat-data-\d{4}-\d{2}-\d{2}\.json$/);
    const file = await download.path();
    const exported = JSON.parse(await readFile(file, "utf8")) as Exported;

    assert.equal(exported.format, "taskchat-export/1");
    assert.equal(exported.account.email, email);
    assert.equal(exported.account.name, "Exporting Person");
    assert.equal(exported.threads.length, 1);
    const thread = exported.threads[0]!;
    const said = exported.items
      .filter((item) => item.thread_id === thread.id && item.type === "user_message")
      .map((item) => item.content?.[0]?.text);
    assert.deepEqual(said, ["Plant tomatoes in May"]);
    assert.ok(
      exported.items.some((item) => item.type === "assistant_message" && item.content?.[0]?.text === "Noted: tomatoes in May."),
    );
    assert.deepEqual(exported.tasks, []);
    await page.context().close();
  });

  test("deleting the account asks for the password, then signs the person out for good", async () => {
    const page = await freshPage();
    const email = await registerInPage(page, "Leaving Person");
    await chatOnce(page, "Something to forget", "Forgotten soon.");

    await openAccountMenu(page);
    await accountMenu(page).getByRole("button", { name: "Delete my account…" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete your account?" });
    await dialog.waitFor();
    // A wrong password deletes nothing and says so; the person stays signed in.
    await dialog.getByLabel("Password").fill("not-my-password");
    await dialog.getByRole("button", { name: "Delete my account" }).click();
    await dialog.getByRole("alert").filter({ hasText: "That password is incorrect; nothing was deleted." }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, "account-delete.png") });
    assert.match(page.url(), /\/chat$/);
    // Cancel closes the dialog; the conversation is still there.
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("log", { name: "Messages" }).getByText("Forgotten soon.").waitFor();

    await accountMenu(page).getByRole("button", { name: "Delete my account…" }).click();
    await dialog.getByLabel("Password").fill(TEST_PASSWORD);
    await dialog.getByRole("button", { name: "Delete my account" }).click();
    await page.waitForURL("**/login?deleted=account");
    await page.getByText("Your account and everything in it were deleted.").waitFor();
    const cookies = await page.context().cookies();
    assert.ok(!cookies.some((cookie) => cookie.name === "taskchat_session" && cookie.value));
    await page.goto("/chat");
    await page.waitForURL("**/login");

    // Signing in again fails: the account is gone.
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(TEST_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("The email or password is incorrect.").waitFor();
    assert.match(page.url(), /\/login/);
    await page.context().close();
  });

  test("without a password here, deleting the data asks for the typed confirmation", async () => {
    const page = await freshPage();
    const token = developmentToken(`dev-${randomUUID()}`);
    const { hostname } = new URL(stack.appUrl);
    await page.context().addCookies([
      { name: "taskchat_session", value: token, domain: hostname, path: "/", httpOnly: true, sameSite: "Lax" },
    ]);
    await page.goto("/chat");
    await chatOnce(page, "A note to drop", "Dropped later.");

    await openAccountMenu(page);
    await accountMenu(page).getByRole("button", { name: "Delete my data…" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete your data?" });
    await dialog.waitFor();
    const confirm = dialog.getByRole("button", { name: "Delete my data" });
    assert.ok(await confirm.isDisabled(), "nothing to delete with before the words are typed");
    await dialog.getByLabel("Type “delete my data” to confirm").fill("delete my dat");
    assert.ok(await confirm.isDisabled());
    await dialog.getByLabel("Type “delete my data” to confirm").fill("Delete my data");
    await confirm.click();
    await page.waitForURL("**/login?deleted=data");
    await page.getByText("Your data was deleted. Signing in again starts with nothing.").waitFor();
    // The old token is refused by the backend itself, not only forgotten by the browser.
    const refused = await fetch(`${stack.backendUrl}/api/account`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(refused.status, 401);
    await page.context().close();
  });

  test("deleting the account on one device sends the others to sign-in, where they stay", async () => {
    const here = await freshPage();
    const email = await registerInPage(here, "Two Devices");
    // Two more browsers signed in as the same person: one acts next, one reloads.
    const acting = await freshPage();
    await signInInPage(acting, email);
    const reloading = await freshPage();
    await signInInPage(reloading, email);

    await deleteAccountInPage(here);
    await here.waitForURL("**/login?deleted=account");

    // Their cookies are unexpired, but the backend now refuses the tokens (401, revoked).
    const actingNavigations = navigationsOf(acting);
    const composer = acting.getByRole("combobox", { name: "Message" });
    await composer.fill("Is anything due today?");
    await composer.press("Enter");
    await settlesOnSignIn(acting, actingNavigations);

    // Still on the chat page (it asks the backend nothing until it loads again).
    assert.match(reloading.url(), /\/chat$/);
    const reloadingNavigations = navigationsOf(reloading);
    await reloading.reload();
    await settlesOnSignIn(reloading, reloadingNavigations);
    for (const page of [here, acting, reloading]) await page.context().close();
  });

  test("the deletion waits for the backend however short BACKEND_TIMEOUT_MS is", async () => {
    // Every other call through this frontend gives up after 1 ms; the deletion must not, or
    // the person would be told to try again while the backend deletes everything.
    const hasty = await startFrontend(stack.backendUrl, { CHAT_UI: "builtin", BACKEND_TIMEOUT_MS: "1" });
    try {
      const session = await register(stack.appUrl, "Patient Person");
      const deleted = await fetch(`${hasty.appUrl}/api/account`, {
        method: "DELETE",
        headers: { cookie: session.cookie, origin: hasty.appUrl, "content-type": "application/json" },
        body: JSON.stringify({ password: TEST_PASSWORD }),
      });
      assert.equal(deleted.status, 204, await deleted.text());
      assert.ok(deleted.headers.getSetCookie().some((value) => /^taskchat_session=;.*Max-Age=0/i.test(value)));
      const refused = await fetch(`${stack.backendUrl}/api/account`, {
        headers: { authorization: `Bearer ${session.token}` },
      });
      assert.equal(refused.status, 401);
    } finally {
      await hasty.stop();
    }
  });

  test("a deletion not confirmed in time says it may have happened, and ends the session", async () => {
    const unsure = await startFrontend(stack.backendUrl, { CHAT_UI: "builtin", ACCOUNT_DELETE_TIMEOUT_MS: "1" });
    try {
      // The route: a 504 that says what may have happened, with the session cookie cleared.
      const session = await register(stack.appUrl, "Unsure Person");
      const answer = await fetch(`${unsure.appUrl}/api/account`, {
        method: "DELETE",
        headers: { cookie: session.cookie, origin: unsure.appUrl, "content-type": "application/json" },
        body: JSON.stringify({ password: TEST_PASSWORD }),
      });
      assert.equal(answer.status, 504);
      const body = (await answer.json()) as { error: string; detail: string };
      assert.equal(body.error, "deletion_unconfirmed");
      assert.match(body.detail, /may still have happened/);
      assert.ok(answer.headers.getSetCookie().some((value) => /^taskchat_session=;.*Max-Age=0/i.test(value)));

      // The page: off to sign-in, which says so instead of "nothing was deleted".
      const page = await freshPage(unsure.appUrl);
      await registerInPage(page, "Unsure Page Person");
      await deleteAccountInPage(page);
      await page.waitForURL("**/login?deleted=unconfirmed");
      await page.getByText("Taskchat did not confirm the deletion in time").waitFor();
      assert.ok(!(await holdsSession(page)));
      await page.context().close();
    } finally {
      await unsure.stop();
    }
  });

  test("the routes refuse other sites and missing sessions, and relay the backend's refusals", async () => {
    const session = await register(stack.appUrl, "Route Person");
    const deleteFrom = (origin: string | null, body: unknown, cookie = session.cookie) =>
      fetch(`${stack.appUrl}/api/account`, {
        method: "DELETE",
        headers: { cookie, "content-type": "application/json", ...(origin ? { origin } : {}) },
        body: JSON.stringify(body),
      });
    assert.equal((await deleteFrom("https://evil.example", { password: TEST_PASSWORD })).status, 403);
    assert.equal((await deleteFrom(null, { password: TEST_PASSWORD })).status, 403);
    assert.equal((await deleteFrom(stack.appUrl, { password: TEST_PASSWORD }, "")).status, 401);
    assert.equal((await fetch(`${stack.appUrl}/api/account/export`)).status, 401);
    assert.equal((await fetch(`${stack.appUrl}/api/account`)).status, 401);
    const wrong = await deleteFrom(stack.appUrl, { password: "nope-nope-nope" });
    assert.equal(wrong.status, 403);
    assert.equal(((await wrong.json()) as { error: string }).error, "wrong_password");
    assert.equal(wrong.headers.getSetCookie().length, 0, "a refused deletion keeps the session");

    // The account is still there after all of that; the right password deletes it and the
    // answer clears the cookie, after which the old token is refused by the backend.
    const described = await fetch(`${stack.appUrl}/api/account`, { headers: { cookie: session.cookie } });
    assert.equal(((await described.json()) as { email: string }).email, session.user.email);
    const deleted = await deleteFrom(stack.appUrl, { password: TEST_PASSWORD });
    assert.equal(deleted.status, 204);
    assert.ok(deleted.headers.getSetCookie().some((value) => /^taskchat_session=;.*Max-Age=0/i.test(value)));
    const after = await fetch(`${stack.appUrl}/api/account/export`, { headers: { cookie: session.cookie } });
    assert.equal(after.status, 401);
  });
});
