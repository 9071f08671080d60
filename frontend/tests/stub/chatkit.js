// TEST DOUBLE: a stand-in for OpenAI's ChatKit web component, for the browser tests only.
//
// The real <openai-chatkit> comes from OpenAI's CDN, which these machines cannot reach.
// The browser tests route the CDN URL to this file. It defines the same element with the
// parts of its interface our page uses (setOptions, setComposerValue, focusComposer,
// setThreadId, sendUserMessage, the chatkit.* events) and speaks the real ChatKit protocol
// to `api.url` through `api.fetch`, so everything behind it (our proxy, the backend, the
// agent) is the real thing. It is never served by the app itself.
(() => {
  const DELTA = "assistant_message.content_part.text_delta";

  class ChatKitStub extends HTMLElement {
    constructor() {
      super();
      this.options = null;
      this.threadId = null;
      this.loadedInitial = false;
    }

    setOptions(options) {
      const first = this.options === null;
      this.options = options;
      if (first) this.render();
      if (!this.loadedInitial && options.initialThread) {
        this.loadedInitial = true;
        void this.loadThread(options.initialThread);
      }
      this.querySelector("[data-stub-greeting]").textContent = options.startScreen?.greeting ?? "";
      const prompts = this.querySelector("[data-stub-prompts]");
      prompts.replaceChildren(
        ...(options.startScreen?.prompts ?? []).map((prompt) => {
          const button = document.createElement("button");
          button.type = "button";
          button.textContent = prompt.label;
          button.addEventListener("click", () => void this.send(String(prompt.prompt)));
          return button;
        }),
      );
      this.composer.placeholder = options.composer?.placeholder ?? "";
      // For the tests to read: how the page configured attachments and their upload.
      this.dataset.stubAttachments = JSON.stringify(options.composer?.attachments ?? null);
      this.dataset.stubUploadStrategy = JSON.stringify(options.api?.uploadStrategy ?? null);
      this.dataset.colorScheme = options.theme?.colorScheme ?? "light";
    }

    render() {
      this.innerHTML = `
        <div style="display:flex;flex-direction:column;height:100%;font:14px system-ui;">
          <div style="background:#fff3c4;color:#5c4400;padding:4px 8px;font-size:12px">
            ChatKit test stub (browser tests only)
          </div>
          <div data-stub-start style="padding:12px">
            <h3 data-stub-greeting style="margin:0 0 8px"></h3>
            <div data-stub-prompts style="display:flex;gap:6px;flex-wrap:wrap"></div>
          </div>
          <ol data-stub-messages style="flex:1;overflow:auto;list-style:none;margin:0;padding:12px"></ol>
          <p data-stub-error role="alert" style="color:#b42318;margin:0 12px"></p>
          <form data-stub-form style="display:flex;gap:6px;padding:12px">
            <textarea data-stub-composer rows="2" style="flex:1"></textarea>
            <button type="submit">Send</button>
          </form>
        </div>`;
      this.composer = this.querySelector("[data-stub-composer]");
      this.messages = this.querySelector("[data-stub-messages]");
      this.querySelector("[data-stub-form]").addEventListener("submit", (event) => {
        event.preventDefault();
        const text = this.composer.value.trim();
        this.composer.value = "";
        if (text) void this.send(text);
      });
      this.dataset.stubReady = "true";
    }

    emit(name, detail) {
      this.dispatchEvent(new CustomEvent(name, { detail }));
    }

    bubble(role, text) {
      const item = document.createElement("li");
      item.dataset.role = role;
      const body = document.createElement("span");
      body.dataset.stubText = "";
      body.textContent = text;
      item.append(body);
      this.messages.append(item);
      return item;
    }

    // threadItemActions.feedback: 👍/👎 under an answer, sent as items.feedback (the real
    // widget's request); a button shows pressed once the server took the vote.
    withFeedback(bubble, itemId) {
      bubble.dataset.itemId = itemId;
      if (!this.options.threadItemActions?.feedback || bubble.querySelector("[data-stub-feedback]")) return;
      const actions = document.createElement("span");
      actions.dataset.stubFeedback = "";
      for (const [kind, label] of [["positive", "Good response"], ["negative", "Bad response"]]) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = kind === "positive" ? "👍" : "👎";
        button.setAttribute("aria-label", label);
        button.setAttribute("aria-pressed", "false");
        button.addEventListener("click", async () => {
          const response = await this.post({
            type: "items.feedback",
            params: { thread_id: this.threadId, item_ids: [bubble.dataset.itemId], kind },
          });
          if (!response.ok) return;
          for (const other of actions.querySelectorAll("button")) other.setAttribute("aria-pressed", String(other === button));
        });
        actions.append(button);
      }
      bubble.append(actions);
    }

    async post(body) {
      const fetcher = this.options.api.fetch ?? window.fetch;
      return fetcher(this.options.api.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    }

    setThread(threadId) {
      this.threadId = threadId;
      this.dataset.threadId = threadId ?? "";
      this.emit("chatkit.thread.change", { threadId });
    }

    async loadThread(threadId) {
      const response = await this.post({
        type: "items.list",
        params: { thread_id: threadId, limit: 50, order: "asc" },
      });
      if (!response.ok) {
        this.emit("chatkit.error", { error: new Error(`thread ${response.status}`) });
        this.setThread(null);
        return;
      }
      this.threadId = threadId;
      this.dataset.threadId = threadId;
      for (const item of (await response.json()).data) {
        if (item.type === "user_message" || item.type === "assistant_message") {
          const text = item.content.map((part) => part.text).join("");
          const bubble = this.bubble(item.type === "user_message" ? "user" : "assistant", text);
          if (item.type === "assistant_message") this.withFeedback(bubble, item.id);
        }
      }
    }

    async send(text) {
      const input = {
        content: [{ type: "input_text", text }],
        attachments: [],
        inference_options: {},
      };
      const body = this.threadId
        ? { type: "threads.add_user_message", params: { thread_id: this.threadId, input } }
        : { type: "threads.create", params: { input } };
      this.bubble("user", text);
      this.querySelector("[data-stub-error]").textContent = "";
      this.emit("chatkit.response.start");
      try {
        const response = await this.post(body);
        if (!response.ok || !response.body) {
          const problem = await response.json().catch(() => ({}));
          throw new Error(problem.detail ?? `HTTP ${response.status}`);
        }
        const answer = this.bubble("assistant", "");
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf("\n\n")) !== -1) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block.split("\n").find((line) => line.startsWith("data: "));
            if (data) this.apply(JSON.parse(data.slice(6)), answer);
          }
        }
      } catch (error) {
        this.querySelector("[data-stub-error]").textContent = String(error.message ?? error);
        this.emit("chatkit.error", { error });
      } finally {
        this.emit("chatkit.response.end");
      }
    }

    apply(event, answer) {
      if (event.type === "thread.created") this.setThread(event.thread.id);
      if (event.type === "thread.item.updated" && event.update?.type === DELTA) {
        answer.querySelector("[data-stub-text]").textContent += event.update.delta;
      }
      if (event.type === "thread.item.done" && event.item?.type === "assistant_message") {
        this.withFeedback(answer, event.item.id);
      }
      if (event.type === "error") {
        this.querySelector("[data-stub-error]").textContent = event.message ?? "error";
      }
      // The element's event for a stream's client_effect (ChatKit's 'chatkit.effect').
      if (event.type === "client_effect") this.emit("chatkit.effect", { name: event.name, data: event.data });
    }

    async setComposerValue({ text }) {
      this.composer.value = text ?? "";
    }

    async focusComposer() {
      this.composer.focus();
    }

    async setThreadId(threadId) {
      this.messages.replaceChildren();
      if (threadId) await this.loadThread(threadId);
      else this.setThread(null);
    }

    async sendUserMessage({ text }) {
      await this.send(text ?? "");
    }
  }

  customElements.define("openai-chatkit", ChatKitStub);
})();
