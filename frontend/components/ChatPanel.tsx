"use client";

import { ChatKit, useChatKit } from "@openai/chatkit-react";
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from "react";

import { chatFetch } from "@/lib/client/chatFetch";
import { loadChatKitScript } from "@/lib/client/chatkitScript";
import { showTask } from "@/lib/client/showTask";
import { searchTasks } from "@/lib/client/tasksApi";
import { rememberThread, rememberedThread } from "@/lib/client/threadMemory";
import { ATTACHMENTS_PER_MESSAGE, ATTACHMENT_TYPES } from "@/lib/shared/attachments";
import type { ChatUi } from "@/lib/shared/chatUi";

import { BuiltinChat } from "./builtin/BuiltinChat";
import type { ChatHandle } from "./chatHandle";

type Props = {
  chatUi: ChatUi;
  userId: string;
  domainKey: string;
  scriptUrl: string;
  loadTimeoutMs: number;
  maxMessageChars: number;
  /** The largest file a person may attach (ATTACHMENT_MAX_BYTES). */
  attachmentMaxBytes: number;
  onResponseEnd: () => void;
  /** A `client_effect` the server sent in a stream. */
  onEffect: (name: string, data: Record<string, unknown>) => void;
  onHandle: (handle: ChatHandle | null) => void;
};

type LoadState = { kind: "loading" } | { kind: "ready" } | { kind: "failed"; reason: string };

/** The chat column: the UI CHAT_UI names (lib/shared/chatUi.ts). */
export function ChatPanel({ chatUi, ...props }: Props) {
  if (chatUi === "builtin") return <BuiltinChat {...props} />;
  return <WebComponentChat {...props} fallBack={chatUi === "auto"} />;
}

/**
 * The ChatKit web component once its script is in. If it cannot load: the built-in UI with
 * a note saying why (`fallBack`, CHAT_UI=auto), or a clear failure state with a retry.
 */
function WebComponentChat({
  scriptUrl,
  loadTimeoutMs,
  maxMessageChars,
  fallBack,
  ...widget
}: Omit<Props, "chatUi"> & { fallBack: boolean }) {
  const [attempt, setAttempt] = useState(0);
  // The outcome of a load, with the load it belongs to: a retry (or another script) is
  // loading until its own outcome arrives, with no reset to make in the effect.
  const [outcome, setOutcome] = useState<{ load: string; state: LoadState } | null>(null);
  const load = JSON.stringify([scriptUrl, loadTimeoutMs, attempt]);
  const state: LoadState = outcome?.load === load ? outcome.state : { kind: "loading" };

  useEffect(() => {
    let current = true;
    loadChatKitScript(scriptUrl, loadTimeoutMs).then(
      () => current && setOutcome({ load, state: { kind: "ready" } }),
      (error: Error) =>
        current && setOutcome({ load, state: { kind: "failed", reason: error.message } }),
    );
    return () => {
      current = false;
    };
  }, [scriptUrl, loadTimeoutMs, load]);

  if (state.kind === "ready") return <ChatWidget {...widget} />;
  if (state.kind === "failed" && fallBack) {
    return (
      <BuiltinChat
        userId={widget.userId}
        maxMessageChars={maxMessageChars}
        attachmentMaxBytes={widget.attachmentMaxBytes}
        onResponseEnd={widget.onResponseEnd}
        onEffect={widget.onEffect}
        onHandle={widget.onHandle}
        note={<FallbackNote reason={state.reason} host={new URL(scriptUrl).host} />}
      />
    );
  }
  if (state.kind === "loading") {
    return (
      <div className="chat-state" role="status">
        <div className="spinner" aria-hidden="true" />
        <p>Loading the chat…</p>
      </div>
    );
  }
  return (
    <div className="chat-state chat-failed" role="alert">
      <h2>The chat could not load</h2>
      <p>
        The chat window is drawn by OpenAI&apos;s ChatKit script, which {state.reason}. Check your
        connection, or whether a content blocker stops <code>{new URL(scriptUrl).host}</code>, then
        try again. Your tasks are still listed on this page.
      </p>
      <button type="button" onClick={() => setAttempt((n) => n + 1)}>
        Try again
      </button>
    </div>
  );
}

/** Why the built-in UI shows instead of the web component; it can be dismissed. */
function FallbackNote({ reason, host }: { reason: string; host: string }) {
  const [shown, setShown] = useState(true);
  if (!shown) return null;
  return (
    <p className="fallback-note" role="status">
      <span>
        This is Taskchat&apos;s own chat window: OpenAI&apos;s ChatKit script from <code>{host}</code>{" "}
        {reason}.
      </span>
      <button type="button" className="link-button" onClick={() => setShown(false)} aria-label="Dismiss this note">
        ✕
      </button>
    </p>
  );
}

const DARK_QUERY = "(prefers-color-scheme: dark)";

function subscribeToScheme(onChange: () => void): () => void {
  const query = window.matchMedia(DARK_QUERY);
  query.addEventListener("change", onChange);
  return () => query.removeEventListener("change", onChange);
}

function usePrefersDark(): boolean {
  return useSyncExternalStore(
    subscribeToScheme,
    () => window.matchMedia(DARK_QUERY).matches,
    () => false,
  );
}

type WidgetProps = Omit<Props, "chatUi" | "scriptUrl" | "loadTimeoutMs" | "maxMessageChars">;

function ChatWidget({ userId, domainKey, attachmentMaxBytes, onResponseEnd, onEffect, onHandle }: WidgetProps) {
  const dark = usePrefersDark();
  // Read once per mount: later thread changes are ChatKit's to make, we only record them.
  const initialThread = useMemo(() => rememberedThread(userId), [userId]);
  const onThreadChange = useCallback(
    ({ threadId }: { threadId: string | null }) => rememberThread(userId, threadId),
    [userId],
  );
  const chatkit = useChatKit({
    // Two-phase uploads: attachments.create answers where to send the file, which is this
    // app's /api/attachments/<id>/upload (the backend builds it on our origin).
    api: { url: "/api/chatkit", domainKey, fetch: chatFetch, uploadStrategy: { type: "two_phase" } },
    initialThread,
    theme: {
      colorScheme: dark ? "dark" : "light",
      radius: "round",
      density: "normal",
      color: { accent: { primary: "#2f6fed", level: 2 } },
    },
    startScreen: {
      greeting: "What's on your plate today?",
      prompts: [
        { label: "Add a task", prompt: "Add a task: ", icon: "plus" },
        { label: "What's on my list?", prompt: "What's on my list?", icon: "book-open" },
        { label: "What's due soon?", prompt: "Which of my tasks are due this week?", icon: "calendar" },
      ],
    },
    composer: {
      placeholder: "Ask about your tasks, or add one…",
      // What the backend accepts (lib/shared/attachments.ts): the widget says so first.
      attachments: {
        enabled: true,
        maxSize: attachmentMaxBytes,
        maxCount: ATTACHMENTS_PER_MESSAGE,
        accept: ATTACHMENT_TYPES,
      },
    },
    history: { enabled: true, showDelete: true, showRename: true },
    // Retry on an answer: the server answers the message again without repeating what the
    // first answer's tools did (docs/features.md, "Retrying an answer"). 👍/👎 under each answer, sent
    // as items.feedback and kept by the server (one vote per answer; chat/feedback/votes.py). The
    // protocol has no way to send a kept vote back to the widget, so after a reload it shows
    // none (the built-in UI reads them from /api/feedback).
    threadItemActions: { feedback: true, retry: true },
    // "@" in the composer offers the person's tasks; the server looks a tagged task up
    // again by its id (chat/turn/history.py), so nothing here is trusted.
    entities: {
      onTagSearch: async (query: string) =>
        (await searchTasks(query)).map((task) => ({
          id: task.id,
          title: task.title,
          group: "Tasks",
          interactive: true,
        })),
      onClick: (entity: { id: string }) => void showTask(entity.id),
    },
    onThreadChange,
    onResponseEnd,
    onEffect: ({ name, data }: { name: string; data?: Record<string, unknown> }) => onEffect(name, data ?? {}),
  });

  // useChatKit's methods keep their identity for the hook's lifetime (memoized once in
  // @openai/chatkit-react 1.6.1), so the handle is made once per onHandle.
  const { setComposerValue, focusComposer } = chatkit;
  useEffect(() => {
    onHandle({
      askAbout: (text) => {
        void setComposerValue({ text: `About "${text}": ` }).then(() => focusComposer());
      },
    });
    return () => onHandle(null);
  }, [onHandle, setComposerValue, focusComposer]);

  return <ChatKit control={chatkit.control} className="chatkit" />;
}
