"use client";

// Taskchat's own chat UI: the ChatKit protocol over /api/chatkit, drawn by React, with no
// script from OpenAI. Used when CHAT_UI=builtin, or when the web component cannot load.
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";

import { messageContent, type Mention } from "@/lib/builtin/mentions";
import { showTask } from "@/lib/client/showTask";
import { rememberThread, rememberedThread } from "@/lib/client/threadMemory";
import type { ThreadSummary } from "@/lib/protocol";

import type { ChatHandle } from "../chatHandle";
import styles from "./builtin.module.css";
import { Composer } from "./Composer";
import { ThreadList, UNTITLED } from "./ThreadList";
import { Transcript } from "./Transcript";
import { useAttachments } from "./useAttachments";
import { useConversation } from "./useConversation";
import { useFeedback } from "./useFeedback";
import { useThreadList } from "./useThreadList";

type Props = {
  userId: string;
  maxMessageChars: number;
  attachmentMaxBytes: number;
  onResponseEnd: () => void;
  onEffect: (name: string, data: Record<string, unknown>) => void;
  onHandle: (handle: ChatHandle | null) => void;
  /** Shown above the chat (why this UI is used instead of the web component). */
  note?: ReactNode;
};

/** The start screen's suggestions: sent at once, or put in the composer to finish. */
const PROMPTS = [
  { label: "Add a task", text: "Add a task: ", send: false },
  { label: "What's on my list?", text: "What's on my list?", send: true },
  { label: "What's due soon?", text: "Which of my tasks are due this week?", send: true },
];

export function BuiltinChat({
  userId,
  maxMessageChars,
  attachmentMaxBytes,
  onResponseEnd,
  onEffect,
  onHandle,
  note,
}: Props) {
  const list = useThreadList();
  const [draft, setDraft] = useState("");
  // Tasks picked from the "@" menu for the message being written.
  const [mentions, setMentions] = useState<Mention[]>([]);
  const files = useAttachments(attachmentMaxBytes);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const input = useRef<HTMLTextAreaElement | null>(null);
  const drawerToggle = useRef<HTMLButtonElement | null>(null);
  const drawer = useRef<HTMLDivElement | null>(null);
  // Read once per mount: later changes are recorded as they happen.
  const initialThread = useMemo(() => rememberedThread(userId), [userId]);
  const [currentId, setCurrentId] = useState<string | null>(initialThread);
  const { refresh } = list;

  const chat = useConversation(initialThread, {
    onThreadChange: useCallback(
      (threadId: string | null) => {
        setCurrentId(threadId);
        rememberThread(userId, threadId);
      },
      [userId],
    ),
    onThreadsChanged: refresh,
    onResponseEnd,
    onEffect,
  });
  const { conversation, streaming, send, open, renamed } = chat;
  const feedback = useFeedback(currentId);

  useEffect(() => {
    onHandle({
      askAbout: (text) => {
        setDraft(`About "${text}": `);
        input.current?.focus();
      },
    });
    return () => onHandle(null);
  }, [onHandle]);

  const submit = (text: string) => {
    send(messageContent(text.trim(), mentions), null, files.ready.map((file) => file.id));
    setDraft("");
    setMentions([]);
    files.clear();
  };
  const openThread = (threadId: string | null) => {
    open(threadId);
    setDrawerOpen(false);
    // Whatever was chosen, the next thing a person does is write.
    input.current?.focus();
  };
  const toggleDrawer = () => {
    const opening = !drawerOpen;
    setDrawerOpen(opening);
    // Into the drawer when it opens (its first button); back to the toggle when it closes.
    if (opening) requestAnimationFrame(() => drawer.current?.querySelector("button")?.focus());
  };
  const empty =
    conversation.items.length === 0 && !chat.loading && !streaming && !conversation.failure && !conversation.notice;
  const title = conversation.thread ? conversation.thread.title || UNTITLED : UNTITLED;

  return (
    <div className={styles.chat}>
      <div
        ref={drawer}
        className={drawerOpen ? styles.drawerOpen : styles.drawer}
        id="builtin-threads"
        onKeyDown={(event) => {
          if (event.key === "Escape" && drawerOpen) {
            setDrawerOpen(false);
            drawerToggle.current?.focus();
          }
        }}
      >
        <ThreadList
          list={list}
          currentId={currentId}
          onOpen={openThread}
          onRenamed={(thread: ThreadSummary) => renamed(thread)}
          onDeleted={(threadId) => threadId === currentId && openThread(null)}
        />
      </div>
      <section className={styles.main} aria-label="Conversation">
        <header className={styles.mainHeader}>
          <button
            ref={drawerToggle}
            type="button"
            className={styles.drawerToggle}
            aria-expanded={drawerOpen}
            aria-controls="builtin-threads"
            onClick={toggleDrawer}
          >
            ☰ <span className={styles.visuallyHidden}>Conversations</span>
          </button>
          <h2 className={styles.title} dir="auto">
            {title}
          </h2>
        </header>
        {note}
        {chat.loadError ? (
          <p className={styles.failure} role="alert">
            {chat.loadError}
          </p>
        ) : null}
        {empty ? (
          <div className={styles.start}>
            <p className={styles.greeting}>What&apos;s on your plate today?</p>
            <div className={styles.prompts}>
              {PROMPTS.map((prompt) => (
                <button
                  key={prompt.label}
                  type="button"
                  className={styles.prompt}
                  onClick={() => {
                    if (prompt.send) submit(prompt.text);
                    else {
                      setDraft(prompt.text);
                      input.current?.focus();
                    }
                  }}
                >
                  {prompt.label}
                </button>
              ))}
            </div>
          </div>
        ) : (
          <Transcript
            conversation={conversation}
            streaming={streaming}
            loading={chat.loading}
            onLoadEarlier={chat.loadEarlier}
            onRetry={chat.retry}
            onRetryAnswer={chat.retryAnswer}
            onAction={chat.act}
            onTagClick={showTask}
            feedback={feedback}
          />
        )}
        <Composer
          value={draft}
          onChange={setDraft}
          onSend={submit}
          onMention={(task) => setMentions((known) => [...known, { id: task.id, title: task.title }])}
          onStop={chat.stop}
          streaming={streaming}
          canStop={conversation.allowCancel}
          maxChars={maxMessageChars}
          inputRef={input}
          attachments={files}
        />
      </section>
    </div>
  );
}
