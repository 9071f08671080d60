// The built-in chat UI (CHAT_UI=builtin) in a real browser, against the production server,
// the real backend and the scripted model, with no stub at all: every request the page
// makes off its own origin is refused and recorded, and there must be none.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import type { Browser, BrowserContext, Locator, Page } from "playwright-core";

import { SCREENSHOTS, launchBrowser, registerInPage } from "./support/browser";
import { eventually, startStack, type Stack } from "./support/stack";

let stack: Stack;
let browser: Browser;

/** A 2x2 red PNG. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==",
  "base64",
);

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Many turns per person here (threads for paging): the per-minute limit is raised.
  stack = await startStack({ CHAT_UI: "builtin", MAX_MESSAGE_CHARS: "200" }, { chat_turns_per_minute: "200" });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

type Visit = { context: BrowserContext; page: Page; offSite: string[] };

/** A fresh profile whose requests off the app's origin are refused and listed. */
async function visit(viewport = { width: 1280, height: 800 }): Promise<Visit> {
  const context = await browser.newContext({ baseURL: stack.appUrl, viewport });
  const offSite: string[] = [];
  const origin = new URL(stack.appUrl).origin;
  await context.route(
    (url) => url.origin !== origin,
    (route) => {
      offSite.push(route.request().url());
      return route.abort("blockedbyclient");
    },
  );
  const page = await context.newPage();
  return { context, page, offSite };
}

const chat = (page: Page) => page.getByRole("region", { name: "Conversation" });
const messages = (page: Page) => page.getByRole("log", { name: "Messages" });
const assistant = (page: Page) => messages(page).locator('[data-role="assistant"]');
const userMessages = (page: Page) => messages(page).locator('[data-role="user"]');
const composer = (page: Page) => page.getByRole("combobox", { name: "Message" });
const threads = (page: Page) => page.getByRole("navigation", { name: "Conversations" });

async function send(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press("Enter");
}

async function settled(page: Page): Promise<void> {
  await chat(page).getByRole("button", { name: "Send" }).waitFor();
}

async function text(locator: Locator): Promise<string> {
  return (await locator.innerText()).trim();
}

describe("the built-in chat UI", () => {
  test("register, chat with streaming, see the agent's task in the panel, nothing off-site", async () => {
    const { context, page, offSite } = await visit();
    await registerInPage(page, "Air Gapped");
    await chat(page).getByText("What's on your plate today?").waitFor();
    // The composer: Shift+Enter is a new line, not a send.
    await composer(page).fill("first line");
    await composer(page).press("Shift+Enter");
    await composer(page).pressSequentially("second line");
    assert.equal(await composer(page).inputValue(), "first line\nsecond line");
    // The length limit shows before sending (MAX_MESSAGE_CHARS=200 here), and blocks it.
    await composer(page).fill("x".repeat(210));
    await chat(page).getByText("210 / 200 characters: shorten it by 10 to send").waitFor();
    assert.ok(await chat(page).getByRole("button", { name: "Send" }).isDisabled());

    await stack.model.reset();
    await stack.model.titles("Oat milk reminder");
    await stack.model.script(
      { tool_calls: [{ name: "add_task", arguments: { title: "Buy oat milk", priority: "high" } }] },
      { text: ["I added ", "**Buy oat milk**", " to your list."], hold_after: 1 },
    );
    await send(page, "Remind me to buy oat milk");
    // Streaming: the first chunk shows while the model holds the rest back.
    await assistant(page).filter({ hasText: "I added" }).waitFor();
    assert.ok(!(await text(assistant(page).last())).includes("to your list"));
    assert.ok(await composer(page).isEnabled(), "the composer stays usable for the next message");
    await chat(page).getByRole("button", { name: "Stop" }).waitFor();
    await stack.model.release();
    await assistant(page).filter({ hasText: "I added Buy oat milk to your list." }).waitFor();
    // Markdown: the bold part is bold.
    await assistant(page).locator("strong", { hasText: "Buy oat milk" }).waitFor();
    await settled(page);
    assert.equal(await text(userMessages(page).first()), "Remind me to buy oat milk");
    // The tasks panel shows what the agent did.
    await page.locator(".tasks-panel .task-title", { hasText: "Buy oat milk" }).waitFor();
    // The page's context went to the model as request metadata, as with the web component.
    const { requests } = await stack.model.state();
    const system = JSON.stringify(requests[0]?.messages?.[0]?.content ?? "");
    assert.ok(system.includes(`${stack.appUrl}/chat`), `no page URL in ${system}`);
    // "Ask about this": the quote lands in the composer, which has the focus.
    await page.locator(".tasks-panel .task-title", { hasText: "Buy oat milk" }).selectText();
    await page.getByRole("button", { name: "Ask about this" }).click();
    assert.equal(await composer(page).inputValue(), 'About "Buy oat milk": ');
    assert.ok(await composer(page).evaluate((element) => element === document.activeElement));
    await composer(page).fill("");
    // The new thread is in the list and remembered across a reload.
    // Named by the title call (which came back while the answer was held): in the list and
    // the heading.
    await threads(page).getByRole("button", { name: "Oat milk reminder", exact: true }).waitFor();
    await chat(page).getByRole("heading", { name: "Oat milk reminder" }).waitFor();
    await page.reload();
    await assistant(page).filter({ hasText: "I added Buy oat milk to your list." }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, "builtin-desktop-light.png") });

    assert.deepEqual(offSite, [], "the page asked for something off its own origin");
    await context.close();
  });

  test("attach an image: its preview shows, it reaches the model; a refused file says why", async () => {
    const { context, page, offSite } = await visit();
    await registerInPage(page, "Attach Person");
    await stack.model.reset();
    await stack.model.script({ text: ["A red square."] });
    const attach = async (file: { name: string; mimeType: string; buffer: Buffer }) => {
      const chooser = page.waitForEvent("filechooser");
      await chat(page).getByRole("button", { name: "Attach files" }).click();
      await (await chooser).setFiles(file);
    };
    await attach({ name: "square.png", mimeType: "image/png", buffer: PNG });
    const toSend = chat(page).getByRole("list", { name: "Files to send" });
    const preview = toSend.getByRole("img", { name: "square.png" });
    await preview.waitFor();
    // Drawn from the server's copy, through the proxy with the cookie: a real 2x2 image.
    await eventually("the preview to load", () =>
      preview.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth === 2),
    );
    // PNG bytes said to be text: the server's 400, on the file's chip; it can be removed.
    await attach({ name: "notes.txt", mimeType: "text/plain", buffer: PNG });
    await toSend.getByRole("alert").filter({ hasText: "its content is a PNG image" }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, "builtin-attachments.png") });
    await toSend.getByRole("button", { name: "Remove notes.txt" }).click();
    assert.equal(await toSend.getByRole("listitem").count(), 1);
    await send(page, "What is this?");
    await assistant(page).filter({ hasText: "A red square." }).waitFor();
    await settled(page);
    // The sent message shows the image, and the composer is empty again.
    await userMessages(page).getByRole("img", { name: "square.png" }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, "builtin-attachments-sent.png") });
    assert.equal(await toSend.count(), 0);
    // The model got the image itself, as image input.
    const { requests } = await stack.model.state();
    const sent = JSON.stringify(requests.at(-1)?.messages ?? []);
    assert.ok(sent.includes(`data:image/png;base64,${PNG.toString("base64")}`), "no image in the model request");
    // After a reload, from the server: the message still has its image.
    await page.reload();
    await userMessages(page).getByRole("img", { name: "square.png" }).waitFor();
    assert.deepEqual(offSite, [], "the page asked for something off its own origin");
    await context.close();
  });

  test("a refused upload and a file removed mid-upload leave no attachment on the server", async () => {
    const { context, page } = await visit();
    await registerInPage(page, "Tidy Person");
    // The person's attachments as the server keeps them, sent or not (the export lists them).
    const kept = async (): Promise<{ id: string; name: string }[]> => {
      const response = await page.request.get("/api/account/export");
      assert.equal(response.status(), 200);
      return ((await response.json()) as { attachments: { id: string; name: string }[] }).attachments;
    };
    const attach = async (file: { name: string; mimeType: string; buffer: Buffer }) => {
      const chooser = page.waitForEvent("filechooser");
      await chat(page).getByRole("button", { name: "Attach files" }).click();
      await (await chooser).setFiles(file);
    };
    const toSend = chat(page).getByRole("list", { name: "Files to send" });

    // Refused by the server (PNG bytes said to be text): its attachment is discarded, not
    // left to count against the 20 unsent ones a person may have.
    await attach({ name: "notes.txt", mimeType: "text/plain", buffer: PNG });
    await toSend.getByRole("alert").filter({ hasText: "its content is a PNG image" }).waitFor();
    await eventually("the refused file's attachment to be discarded", async () => (await kept()).length === 0);

    // Removed while its file is still on the way (the upload is held in the browser): the
    // attachment made for it goes too.
    const held: string[] = [];
    await page.route("**/api/attachments/*/upload", (route) => {
      held.push(route.request().url());
    });
    await attach({ name: "square.png", mimeType: "image/png", buffer: PNG });
    await eventually("the upload to start", () => held.length === 1);
    assert.deepEqual((await kept()).map((attachment) => attachment.name), ["square.png"]);
    await toSend.getByRole("progressbar", { name: "Uploading square.png" }).waitFor();
    await toSend.getByRole("button", { name: "Remove square.png" }).click();
    await eventually("the removed file's attachment to be discarded", async () => (await kept()).length === 0);
    await context.close();
  });

  test("Stop ends the answer, keeps what arrived, and the server keeps it too", async () => {
    const { context, page } = await visit();
    await registerInPage(page, "Stop Person");
    await stack.model.reset();
    await stack.model.script({ text: ["Here is the start", " and the rest"], hold_after: 1 });
    await send(page, "Tell me something long");
    await assistant(page).filter({ hasText: "Here is the start" }).waitFor();
    await chat(page).getByRole("button", { name: "Stop" }).click();
    await settled(page);
    assert.match(await text(assistant(page).last()), /Here is the start/);
    await stack.model.release();
    // What the server saved: the partial answer, once.
    await eventually("the partial answer to be saved", async () => {
      await page.reload();
      await userMessages(page).first().waitFor();
      return (await assistant(page).filter({ hasText: "Here is the start" }).count()) === 1;
    });
    assert.equal(await userMessages(page).count(), 1);
    await context.close();
  });

  test("a model error offers Retry, which answers the same message once", async () => {
    const { context, page } = await visit();
    await registerInPage(page, "Retry Person");
    await stack.model.reset();
    await stack.model.script({ status: 400 });
    await send(page, "What is due today?");
    const failure = chat(page).getByRole("alert").filter({ hasText: "The AI model failed (HTTP 400)" });
    await failure.waitFor();
    await stack.model.script({ text: ["Nothing is due today."] });
    await failure.getByRole("button", { name: "Retry" }).click();
    await assistant(page).filter({ hasText: "Nothing is due today." }).waitFor();
    await settled(page);
    assert.equal(await failure.count(), 0);
    // Retried, not sent again: one user message, here and on the server.
    assert.equal(await userMessages(page).count(), 1);
    await page.reload();
    await assistant(page).filter({ hasText: "Nothing is due today." }).waitFor();
    assert.equal(await userMessages(page).count(), 1);
    await context.close();
  });

  test("Retry under an answer: a new answer replaces it, and the task is there once", async () => {
    const { context, page } = await visit();
    await registerInPage(page, "Retry Answer Person");
    await stack.model.reset();
    const addMilk = { tool_calls: [{ name: "add_task", arguments: { title: "Buy milk" } }] };
    await stack.model.script(addMilk, { text: ["Added **Buy milk**."] });
    await send(page, "add milk");
    await assistant(page).filter({ hasText: "Added Buy milk." }).waitFor();
    await settled(page);
    const milk = page.locator(".tasks-panel .task-title", { hasText: "Buy milk" });
    await milk.waitFor();

    // Asked again, the model adds the same task again: the server does not.
    await stack.model.script(addMilk, { text: ["Milk is on your list."] });
    await messages(page).getByRole("button", { name: "Retry" }).click();
    await assistant(page).filter({ hasText: "Milk is on your list." }).waitFor();
    await settled(page);
    assert.equal(await assistant(page).count(), 1, "the first answer is replaced, not kept");
    assert.equal(await userMessages(page).count(), 1);
    assert.equal(await messages(page).locator('[data-role="widget"]').count(), 1);
    assert.equal(await milk.count(), 1);
    // As the server has it.
    await page.reload();
    await assistant(page).filter({ hasText: "Milk is on your list." }).waitFor();
    await milk.waitFor();
    assert.equal(await assistant(page).count(), 1);
    assert.equal(await milk.count(), 1);
    // Only the newest answer offers it, and not while a message waits for its own.
    await messages(page).getByRole("button", { name: "Retry" }).waitFor();
    await stack.model.script({ text: ["Later."], hold_after: 0 });
    await send(page, "anything else?");
    await chat(page).getByRole("button", { name: "Stop" }).waitFor();
    assert.equal(await messages(page).getByRole("button", { name: "Retry" }).count(), 0);
    await stack.model.release();
    await assistant(page).filter({ hasText: "Later." }).waitFor();
    await settled(page);
    assert.equal(await messages(page).getByRole("button", { name: "Retry" }).count(), 1);
    await context.close();
  });

  test("👍/👎: a vote stays pressed across a reload, a changed one too; one the server refuses is put back and told", async () => {
    const { context, page } = await visit();
    await registerInPage(page, "Feedback Person");
    await stack.model.reset();
    await stack.model.script({ text: ["Tuesday is free."] });
    await send(page, "Is Tuesday free?");
    const answer = assistant(page).filter({ hasText: "Tuesday is free." });
    await answer.waitFor();
    await settled(page);
    const good = answer.getByRole("button", { name: "Good answer" });
    const bad = answer.getByRole("button", { name: "Bad answer" });
    const pressed = async () => [await good.getAttribute("aria-pressed"), await bad.getAttribute("aria-pressed")];
    assert.deepEqual(await pressed(), ["false", "false"]);
    // The thread's id, as the app's own route lists it with this page's cookie.
    const origin = { origin: stack.appUrl };
    const listed = await page.request.post("/api/chatkit", { data: { type: "threads.list", params: {} }, headers: origin });
    const threadId = ((await listed.json()) as { data: { id: string }[] }).data[0]!.id;
    const kept = async () => {
      const response = await page.request.get(`/api/feedback?thread_id=${threadId}`);
      return ((await response.json()) as { data: { kind: string }[] }).data.map((vote) => vote.kind);
    };

    await bad.click();
    assert.deepEqual(await pressed(), ["false", "true"]);
    await eventually("the 👎 to be kept", async () => (await kept()).join() === "negative");
    await page.reload();
    await answer.waitFor();
    await eventually("the kept 👎 to show", async () => (await bad.getAttribute("aria-pressed")) === "true");
    assert.equal(await good.getAttribute("aria-pressed"), "false");

    await good.click();
    await eventually("the 👍 to be kept", async () => (await kept()).join() === "positive");
    await page.reload();
    await eventually("the kept 👍 to show", async () => (await good.getAttribute("aria-pressed")) === "true");
    assert.equal(await bad.getAttribute("aria-pressed"), "false");

    // Deleted elsewhere (another tab), still shown here: the server refuses the vote.
    const deleted = await page.request.post("/api/chatkit", {
      data: { type: "threads.delete", params: { thread_id: threadId } },
      headers: origin,
    });
    assert.equal(deleted.status(), 200);
    await bad.click();
    await answer.getByRole("alert").filter({ hasText: "Your vote was not saved" }).waitFor();
    assert.deepEqual(await pressed(), ["true", "false"]);
    await context.close();
  });

  test("threads: switch, rename, delete, and load earlier messages", async () => {
    const { context, page } = await visit();
    await registerInPage(page, "Thread Person");
    await stack.model.reset();
    // The first thread gets 11 turns: 22 items, more than one page (20).
    const turns = 11;
    await stack.model.script(...Array.from({ length: turns }, (_, n) => ({ text: [`Answer ${n + 1}.`] })));
    for (let n = 1; n <= turns; n += 1) {
      await send(page, `Question ${n}`);
      await assistant(page).filter({ hasText: `Answer ${n}.` }).waitFor();
      await settled(page);
    }
    // A second thread.
    await threads(page).getByRole("button", { name: "+ New conversation" }).click();
    await stack.model.script({ text: ["Second thread answer."] });
    await send(page, "A second thread");
    await assistant(page).filter({ hasText: "Second thread answer." }).waitFor();
    await settled(page);
    await eventually("two threads in the list", async () => (await threads(page).getByRole("listitem").count()) === 2);

    // Rename the current one: the list and the heading follow, and it sticks.
    // (No titles scripted here: each thread is named by its first message.)
    await threads(page).getByRole("button", { name: "Rename A second thread" }).click();
    await threads(page).getByRole("textbox").fill("Groceries");
    await threads(page).getByRole("button", { name: "Save" }).click();
    await threads(page).getByRole("button", { name: "Groceries", exact: true }).waitFor();
    await chat(page).getByRole("heading", { name: "Groceries" }).waitFor();

    // Switch to the long thread: its newest page, then the earlier messages on request.
    await threads(page).getByRole("button", { name: "Question 1", exact: true }).click();
    await assistant(page).filter({ hasText: "Answer 11." }).waitFor();
    assert.equal(await userMessages(page).filter({ hasText: "Question 1" }).filter({ hasText: /^Question 1$/ }).count(), 0);
    await chat(page).getByRole("button", { name: "Load earlier messages" }).click();
    await userMessages(page).filter({ hasText: /^Question 1$/ }).waitFor();
    await eventually("the earlier page to be the last", async () =>
      (await chat(page).getByRole("button", { name: "Load earlier messages" }).count()) === 0,
    );
    assert.equal(await userMessages(page).count(), turns);

    // Delete the renamed one; after a reload it is still gone.
    await threads(page).getByRole("button", { name: "Delete Groceries" }).click();
    await threads(page).getByRole("button", { name: "Delete", exact: true }).click();
    await eventually("the thread to leave the list", async () => (await threads(page).getByRole("listitem").count()) === 1);
    await page.reload();
    await threads(page).getByRole("listitem").first().waitFor();
    assert.equal(await threads(page).getByRole("button", { name: "Groceries", exact: true }).count(), 0);
    await context.close();
  });

  test("the thread list pages: older conversations load on request", async () => {
    const { context, page } = await visit();
    await registerInPage(page, "Many Threads");
    await stack.model.reset();
    const count = 22; // more than one page of the list (20)
    await stack.model.script(...Array.from({ length: count }, (_, n) => ({ text: [`Reply ${n}.`] })));
    // Made through the same proxy the page uses, with its cookie.
    await page.evaluate(async (total) => {
      for (let n = 0; n < total; n += 1) {
        const body = {
          type: "threads.create",
          params: { input: { content: [{ type: "input_text", text: `Thread ${n}` }], attachments: [], inference_options: {} } },
        };
        const response = await fetch("/api/chatkit", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        await response.text();
      }
    }, count);
    await page.reload();
    const rows = threads(page).getByRole("listitem");
    await eventually("the first page of threads", async () => (await rows.count()) === 20);
    await threads(page).getByRole("button", { name: "Older conversations" }).click();
    await eventually("the second page of threads", async () => (await rows.count()) === count);
    assert.equal(await threads(page).getByRole("button", { name: "Older conversations" }).count(), 0);
    await context.close();
  });

  test("Markdown from the model cannot run script, and right-to-left text reads right to left", async () => {
    const { context, page } = await visit();
    await registerInPage(page, "Safe Person");
    await stack.model.reset();
    await stack.model.script({
      text: [
        "Look: <script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">",
        " [click me](javascript:window.__pwned=3) and [docs](https://example.com/docs)",
      ],
    });
    await send(page, "میرے کام کیا ہیں؟");
    const answer = assistant(page).filter({ hasText: "click me" });
    await answer.waitFor();
    await settled(page);
    assert.equal(await answer.locator("script, img, iframe").count(), 0);
    const hrefs = await answer.locator("a").evaluateAll((links) => links.map((link) => link.getAttribute("href")));
    assert.ok(!hrefs.some((href) => href?.toLowerCase().startsWith("javascript:")), `unsafe link in ${hrefs}`);
    const docs = answer.getByRole("link", { name: "docs" });
    assert.equal(await docs.getAttribute("target"), "_blank");
    assert.match((await docs.getAttribute("rel")) ?? "", /noopener/);
    await answer.getByText("click me").click();
    assert.equal(await page.evaluate(() => (window as { __pwned?: number }).__pwned), undefined);
    // Urdu: the user's message is laid out right to left.
    const urdu = userMessages(page).first();
    assert.equal(await urdu.evaluate((element) => element.matches(":dir(rtl)")), true);
    await context.close();
  });

  test("a task list widget: Done updates the widget and the panel at once, no reload", async () => {
    const { context, page } = await visit();
    await registerInPage(page, "Widget Person");
    await stack.model.reset();
    await stack.model.script(
      { tool_calls: [{ name: "add_task", arguments: { title: "Water the plants" }, call_id: "call_add" }] },
      // Held after its first chunk: the panel must show the task before the answer ends.
      { text: ["Added it.", " Anything else?"], hold_after: 1 },
    );
    await send(page, "Remind me to water the plants");
    // The change's card, and the panel updated by the tasks.changed effect mid-answer.
    const card = messages(page).locator('[data-role="widget"]', { hasText: "Task added" });
    await card.waitFor();
    await page.locator(".tasks-panel .task-title", { hasText: "Water the plants" }).waitFor();
    assert.ok(await chat(page).getByRole("button", { name: "Stop" }).isVisible(), "the answer had ended");
    await stack.model.release();
    await settled(page);

    await stack.model.script(
      { tool_calls: [{ name: "list_tasks", arguments: {}, call_id: "call_list" }] },
      { text: ["Here is your list."] },
    );
    await send(page, "What's on my list?");
    const list = messages(page).locator('[data-role="widget"]').filter({ hasText: "1 task" });
    await list.waitFor();
    await assistant(page).filter({ hasText: "Here is your list." }).waitFor();
    await settled(page);
    const calls = (await stack.model.state()).requests.length;
    await list.getByRole("button", { name: "Done" }).click();
    // The widget turns the row into an Undo, and the panel moves the task to done.
    await list.getByRole("button", { name: "Undo" }).waitFor();
    // (Done tasks sit in the panel's folded "done" section: present, not visible.)
    await page
      .locator(".tasks-panel .task.done .task-title", { hasText: "Water the plants" })
      .waitFor({ state: "attached" });
    assert.equal((await stack.model.state()).requests.length, calls, "a button press ran a model turn");
    await page.screenshot({ path: path.join(SCREENSHOTS, "builtin-task-widget.png") });
    // Stored: after a reload the list still shows the task done.
    await page.reload();
    await messages(page).locator('[data-role="widget"]').filter({ hasText: "1 task" }).getByRole("button", { name: "Undo" }).waitFor();
    await context.close();
  });

  test("a delete waits for the person: Keep leaves the task, Delete removes it", async () => {
    const { context, page } = await visit();
    await registerInPage(page, "Careful Person");
    await stack.model.reset();
    await stack.model.script(
      { tool_calls: [{ name: "add_task", arguments: { title: "Dentist appointment" }, call_id: "call_add" }] },
      { text: ["Added."] },
    );
    await send(page, "Add a dentist appointment");
    const panelTask = page.locator(".tasks-panel .task-title", { hasText: "Dentist appointment" });
    await panelTask.waitFor();
    await settled(page);
    const taskId = await page.locator(".tasks-panel .task").first().getAttribute("data-task-id");
    assert.match(taskId ?? "", /^task_/);

    const askToDelete = async () => {
      await stack.model.script(
        { tool_calls: [{ name: "delete_task", arguments: { task_id: taskId }, call_id: "call_delete" }] },
        { text: ["Done as you said."] },
      );
      await send(page, "Delete the dentist appointment");
      const card = messages(page)
        .locator('[data-role="widget"]')
        .filter({ hasText: "Delete 'Dentist appointment'?" })
        .last();
      await card.getByRole("button", { name: "Delete" }).waitFor();
      await settled(page);
      return card;
    };

    // Keep: the task stays, and the card says so, without its buttons.
    const first = await askToDelete();
    assert.equal(await panelTask.count(), 1);
    await first.getByRole("button", { name: "Keep" }).click();
    await first.getByText("Kept: nothing was done").waitFor();
    assert.equal(await first.getByRole("button").count(), 0);
    await assistant(page).filter({ hasText: "Done as you said." }).waitFor();
    await settled(page);
    assert.equal(await panelTask.count(), 1);

    // Delete: the task goes, from the panel too, and the agent answers.
    const second = await askToDelete();
    await page.screenshot({ path: path.join(SCREENSHOTS, "builtin-confirm-delete.png") });
    await second.getByRole("button", { name: "Delete" }).click();
    await second.getByText("Confirmed").waitFor();
    await eventually("the task to leave the panel", async () => (await panelTask.count()) === 0);
    await assistant(page).filter({ hasText: "Done as you said." }).nth(1).waitFor();
    await context.close();
  });

  test("@ offers matching tasks; the tag reaches the model as the task, and a click shows it in the panel", async () => {
    const { context, page } = await visit();
    await registerInPage(page, "Mention Person");
    await stack.model.reset();
    await stack.model.script(
      { tool_calls: [{ name: "add_task", arguments: { title: "Dentist appointment", priority: "high" }, call_id: "a1" }] },
      { tool_calls: [{ name: "add_task", arguments: { title: "Buy bread" }, call_id: "a2" }] },
      { text: ["Added both."] },
    );
    await send(page, "Add the dentist and bread");
    await assistant(page).filter({ hasText: "Added both." }).waitFor();
    await settled(page);

    await composer(page).fill("Move ");
    await composer(page).pressSequentially("@den");
    const menu = page.getByRole("listbox", { name: "Your tasks" });
    await menu.getByRole("option", { name: "Dentist appointment" }).waitFor();
    assert.equal(await menu.getByRole("option").count(), 1, "only the matching task is offered");
    await composer(page).press("Enter");
    assert.equal(await composer(page).inputValue(), "Move @Dentist appointment ");
    assert.equal(await menu.count(), 0);
    await composer(page).pressSequentially("to Friday");
    await stack.model.script({ text: ["Moved."] });
    await composer(page).press("Enter");
    await assistant(page).filter({ hasText: "Moved." }).waitFor();
    // The model got the task as the server looked it up: its id and priority.
    const { requests } = await stack.model.state();
    const sent = JSON.stringify(requests.at(-1)?.messages ?? []);
    assert.match(sent, /refers to this task of the user's, as it is now: \[ \] Dentist appointment \(high priority\) id=task_/);
    // The tag in the message shows the task in the panel.
    const tag = userMessages(page).last().getByRole("button", { name: "@Dentist appointment" });
    await tag.click();
    await page.locator(".tasks-panel .task.task-flash .task-title", { hasText: "Dentist appointment" }).waitFor();
    await context.close();
  });

  test("narrow screens: the conversations are a drawer; dark scheme screenshots", async () => {
    const { context, page } = await visit({ width: 390, height: 760 });
    await registerInPage(page, "Narrow Person");
    await composer(page).waitFor();
    assert.equal(await threads(page).isVisible(), false);
    const toggle = chat(page).getByRole("button", { name: "Conversations" });
    // By keyboard: the toggle opens the drawer with focus inside it; Escape closes it again.
    await toggle.focus();
    await page.keyboard.press("Enter");
    const newThread = threads(page).getByRole("button", { name: "+ New conversation" });
    await newThread.waitFor();
    assert.equal(await toggle.getAttribute("aria-expanded"), "true");
    await eventually("focus to move into the drawer", () => newThread.evaluate((button) => button === document.activeElement));
    await page.keyboard.press("Escape");
    assert.equal(await threads(page).isVisible(), false);
    assert.equal(await toggle.evaluate((button) => button === document.activeElement), true);
    await toggle.click();
    await page.screenshot({ path: path.join(SCREENSHOTS, "builtin-narrow-light.png") });
    await threads(page).getByRole("button", { name: "+ New conversation" }).click();
    assert.equal(await threads(page).isVisible(), false);
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: path.join(SCREENSHOTS, "builtin-narrow-dark.png") });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: path.join(SCREENSHOTS, "builtin-desktop-dark.png") });
    await context.close();
  });
});
