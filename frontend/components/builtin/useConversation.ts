"use client";

// The open thread of the built-in chat UI: loading it, sending, streaming, stopping,
// retrying and widget actions, over /api/chatkit. The components only draw what it holds.
import { useCallback, useEffect, useRef, useState } from "react";

import type { MessageContent } from "@/lib/builtin/mentions";
import {
  GENERIC_FAILURE,
  NEW_CONVERSATION,
  applyEvent,
  beforeRequest,
  lastUserMessage,
  opened,
  retryTarget,
  retrying,
  withEarlier,
  type Conversation,
} from "@/lib/builtin/conversation";
import { ChatRequestError, chatRequest, chatStream } from "@/lib/builtin/transport";
import type { ChatKitRequest, ItemPage, StreamEvent, ThreadSummary } from "@/lib/protocol";

/** Items per page, for the newest page of a thread and for each "load earlier". */
export const PAGE_SIZE = 20;

/** When to look again for a new thread's title that its first answer did not bring. */
const TITLE_LOOK_AGAIN_MS = 1500;

type Listeners = {
  /** The open thread changed (null: a new conversation). */
  onThreadChange: (threadId: string | null) => void;
  /** A thread was created or renamed by the server: the list may be out of date. */
  onThreadsChanged: () => void;
  /** A streamed answer ended, however it ended. */
  onResponseEnd: () => void;
  /** A `client_effect` event. */
  onEffect?: (name: string, data: Record<string, unknown>) => void;
};

export type ConversationControl = {
  conversation: Conversation;
  /** True while an answer streams. */
  streaming: boolean;
  /** True while a thread or an earlier page loads. */
  loading: boolean;
  /** Why opening the thread failed, if it did. */
  loadError: string | null;
  send: (content: MessageContent, quotedText?: string | null, attachmentIds?: string[]) => void;
  stop: () => void;
  /** Sends again what failed (the failure's Retry). */
  retry: () => void;
  /** Answers the newest message again, in place of its answer (the Retry under it). */
  retryAnswer: () => void;
  loadEarlier: () => void;
  act: (action: { type: string; payload?: Record<string, unknown> }, itemId: string) => void;
  open: (threadId: string | null) => void;
  /** Applies a rename or deletion made in the thread list to the open thread. */
  renamed: (thread: ThreadSummary) => void;
};

function message(error: unknown): string {
  return error instanceof ChatRequestError ? error.message : GENERIC_FAILURE;
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

function userInput(content: MessageContent, quotedText: string | null | undefined, attachmentIds: string[]) {
  return {
    content,
    attachments: attachmentIds,
    inference_options: {},
    ...(quotedText ? { quoted_text: quotedText } : {}),
  };
}

export function useConversation(initialThread: string | null, listeners: Listeners): ConversationControl {
  const [conversation, setConversation] = useState<Conversation>(NEW_CONVERSATION);
  // A thread to load: a new object per `open`, so opening the same thread again reloads it.
  const [opening, setOpening] = useState<{ threadId: string } | null>(
    initialThread === null ? null : { threadId: initialThread },
  );
  const [streaming, setStreaming] = useState(false);
  const [loading, setLoading] = useState(initialThread !== null);
  const [loadError, setLoadError] = useState<string | null>(null);
  // The latest state and listeners, for callbacks that must not change identity per render.
  // Updated after each commit, which comes before any event that calls them.
  const current = useRef({ conversation, listeners });
  useEffect(() => {
    current.current = { conversation, listeners };
  });
  // The thread new messages go to: the one opened, or the one a first answer created.
  const threadId = useRef<string | null>(initialThread);
  const running = useRef<AbortController | null>(null);
  // What to send again on "retry" when the failed request's message was never stored.
  const lastRequest = useRef<ChatKitRequest | null>(null);
  const acceptedMessage = useRef<string | null>(null);

  // Opening a thread (on mount, or when `open` changes it): its title and newest page.
  useEffect(() => {
    if (opening === null) return;
    const { threadId: id } = opening;
    const controller = new AbortController();
    Promise.all([
      chatRequest<ThreadSummary>({ type: "threads.get_by_id", params: { thread_id: id } }, controller.signal),
      chatRequest<ItemPage>(
        { type: "items.list", params: { thread_id: id, order: "desc", limit: PAGE_SIZE } },
        controller.signal,
      ),
    ]).then(
      ([thread, newest]) => {
        setConversation(opened(thread, newest));
        setLoading(false);
      },
      (error: unknown) => {
        if (isAbort(error)) return;
        setLoading(false);
        if (error instanceof ChatRequestError && error.status === 404) {
          // Deleted elsewhere, or never this person's: start afresh rather than show an error.
          threadId.current = null;
          current.current.listeners.onThreadChange(null);
          return;
        }
        setLoadError(message(error));
      },
    );
    return () => controller.abort();
  }, [opening]);

  const open = useCallback((id: string | null) => {
    running.current?.abort();
    setConversation(NEW_CONVERSATION);
    setLoadError(null);
    setLoading(id !== null);
    threadId.current = id;
    setOpening(id === null ? null : { threadId: id });
    current.current.listeners.onThreadChange(id);
  }, []);

  // A new thread's title can come after its first answer (the server does not make the
  // answer wait for it): look once more, a little later.
  const awaitTitle = useCallback((id: string) => {
    window.setTimeout(() => {
      chatRequest<ThreadSummary>({ type: "threads.get_by_id", params: { thread_id: id } }).then(
        (thread) => {
          if (!thread.title) return;
          setConversation((state) =>
            state.thread?.id === id ? { ...state, thread: { ...state.thread, title: thread.title } } : state,
          );
          current.current.listeners.onThreadsChanged();
        },
        () => undefined, // The list shows it on its next load anyway.
      );
    }, TITLE_LOOK_AGAIN_MS);
  }, []);

  const run = useCallback(async (request: ChatKitRequest) => {
    running.current?.abort();
    const controller = new AbortController();
    running.current = controller;
    lastRequest.current = request;
    acceptedMessage.current = null;
    setStreaming(true);
    setConversation(beforeRequest);
    // A thread this request creates, until its title is seen.
    let untitled: string | null = null;
    const handle = (event: StreamEvent): void => {
      const { listeners } = current.current;
      if (event.type === "thread.created") {
        untitled = event.thread.title ? null : event.thread.id;
        threadId.current = event.thread.id;
        listeners.onThreadChange(event.thread.id);
        listeners.onThreadsChanged();
      } else if (event.type === "thread.updated") {
        if (event.thread.title) untitled = null;
        listeners.onThreadsChanged();
      } else if (event.type === "client_effect") {
        listeners.onEffect?.(event.name, event.data);
      } else if (
        (event.type === "thread.item.added" || event.type === "thread.item.done") &&
        event.item.type === "user_message"
      ) {
        acceptedMessage.current = event.item.id;
      }
      setConversation((state) => applyEvent(state, event));
    };
    try {
      for await (const event of chatStream(request, controller.signal)) handle(event);
    } catch (error) {
      if (!isAbort(error)) {
        setConversation((state) => ({ ...state, failure: { message: message(error), allowRetry: true } }));
      }
    } finally {
      if (running.current === controller) {
        running.current = null;
        setStreaming(false);
        setConversation((state) => ({ ...state, progress: null }));
        current.current.listeners.onResponseEnd();
        if (untitled !== null) awaitTitle(untitled);
      }
    }
  }, [awaitTitle]);

  const send = useCallback(
    (content: MessageContent, quotedText?: string | null, attachmentIds: string[] = []) => {
      const id = threadId.current;
      const input = userInput(content, quotedText, attachmentIds);
      void run(
        id === null
          ? { type: "threads.create", params: { input } }
          : { type: "threads.add_user_message", params: { thread_id: id, input } },
      );
    },
    [run],
  );

  const stop = useCallback(() => running.current?.abort(), []);

  const retry = useCallback(() => {
    const { conversation: state } = current.current;
    const id = threadId.current;
    const accepted = acceptedMessage.current;
    const newest = lastUserMessage(state);
    if (id !== null && accepted !== null && newest?.id === accepted) {
      // The message is stored: answer it again rather than store it twice. The server
      // deletes what came after it (a partial answer): so does the transcript.
      setConversation((state) => retrying(state, accepted));
      void run({ type: "threads.retry_after_item", params: { thread_id: id, item_id: accepted } });
    } else if (lastRequest.current) {
      // It was refused before it was stored (a limit, an outage): send it again.
      void run(lastRequest.current);
    }
  }, [run]);

  const retryAnswer = useCallback(() => {
    const id = threadId.current;
    const target = retryTarget(current.current.conversation);
    if (id === null || target === null) return;
    setConversation((state) => retrying(state, target.messageId));
    void run({ type: "threads.retry_after_item", params: { thread_id: id, item_id: target.messageId } });
  }, [run]);

  const loadEarlier = useCallback(() => {
    const { conversation: state } = current.current;
    const id = threadId.current;
    if (id === null || state.earlier === null) return;
    setLoading(true);
    chatRequest<ItemPage>({
      type: "items.list",
      params: { thread_id: id, order: "desc", limit: PAGE_SIZE, after: state.earlier },
    }).then(
      (older) => {
        setConversation((latest) => withEarlier(latest, older));
        setLoading(false);
      },
      (error: unknown) => {
        setLoading(false);
        setConversation((latest) => ({ ...latest, failure: { message: message(error), allowRetry: false } }));
      },
    );
  }, []);

  const act = useCallback(
    (action: { type: string; payload?: Record<string, unknown> }, itemId: string) => {
      const id = threadId.current;
      if (id === null) return;
      void run({ type: "threads.custom_action", params: { thread_id: id, item_id: itemId, action } });
    },
    [run],
  );

  const renamed = useCallback((thread: ThreadSummary) => {
    setConversation((state) =>
      state.thread?.id === thread.id ? { ...state, thread: { ...state.thread, title: thread.title } } : state,
    );
  }, []);

  // Leaving the page ends a running answer's request (the server keeps what it has).
  useEffect(() => () => running.current?.abort(), []);

  return {
    conversation,
    streaming,
    loading,
    loadError,
    send,
    stop,
    retry,
    retryAnswer,
    loadEarlier,
    act,
    open,
    renamed,
  };
}
