"use client";

// The person's threads: open one, start a new one, rename or delete one, load older ones.
import { useState, type FormEvent } from "react";

import type { ThreadSummary } from "@/lib/protocol";

import styles from "./builtin.module.css";
import type { ThreadList as ThreadListState } from "./useThreadList";

type Props = {
  list: ThreadListState;
  currentId: string | null;
  onOpen: (threadId: string | null) => void;
  onRenamed: (thread: ThreadSummary) => void;
  onDeleted: (threadId: string) => void;
};

export const UNTITLED = "New conversation";

// Drawn, not emoji: a machine without an emoji font would show an empty box.
const PENCIL = "M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4";
const TRASH = "M5 7h14M10 7V4h4v3M7 7l1 13h8l1-13";

function Glyph({ path }: { path: string }) {
  return (
    <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={path} fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

function Row({ thread, current, list, onOpen, onRenamed, onDeleted }: Omit<Props, "currentId"> & {
  thread: ThreadSummary;
  current: boolean;
}) {
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(thread.title ?? "");
  const [confirming, setConfirming] = useState(false);
  const name = thread.title || UNTITLED;

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const wanted = title.trim();
    if (!wanted) return;
    const saved = await list.rename(thread.id, wanted);
    if (saved) {
      setEditing(false);
      onRenamed(saved);
    }
  };

  if (editing) {
    return (
      <li className={styles.threadRow}>
        <form className={styles.renameForm} onSubmit={save}>
          <input
            className={styles.renameInput}
            value={title}
            onChange={(event) => setTitle(event.target.value)}
            onKeyDown={(event) => event.key === "Escape" && setEditing(false)}
            aria-label={`New name for ${name}`}
            maxLength={200}
            autoFocus
            dir="auto"
          />
          <button type="submit">Save</button>
          <button type="button" className={styles.linkButton} onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      </li>
    );
  }
  return (
    <li className={current ? styles.threadRowCurrent : styles.threadRow}>
      <button
        type="button"
        className={styles.threadOpen}
        onClick={() => onOpen(thread.id)}
        aria-current={current ? "true" : undefined}
        dir="auto"
      >
        {name}
      </button>
      {confirming ? (
        <span className={styles.threadActions}>
          <button
            type="button"
            className={styles.danger}
            onClick={async () => {
              if (await list.remove(thread.id)) onDeleted(thread.id);
              setConfirming(false);
            }}
          >
            Delete
          </button>
          <button type="button" className={styles.linkButton} onClick={() => setConfirming(false)}>
            Keep
          </button>
        </span>
      ) : (
        <span className={styles.threadActions}>
          <button
            type="button"
            className={styles.iconButton}
            onClick={() => {
              setTitle(thread.title ?? "");
              setEditing(true);
            }}
            aria-label={`Rename ${name}`}
            title="Rename"
          >
            <Glyph path={PENCIL} />
          </button>
          <button
            type="button"
            className={styles.iconButton}
            onClick={() => setConfirming(true)}
            aria-label={`Delete ${name}`}
            title="Delete"
          >
            <Glyph path={TRASH} />
          </button>
        </span>
      )}
    </li>
  );
}

export function ThreadList(props: Props) {
  const { list, currentId, onOpen } = props;
  return (
    <nav className={styles.threads} aria-label="Conversations">
      <button type="button" className={styles.newThread} onClick={() => onOpen(null)}>
        + New conversation
      </button>
      {list.error ? (
        <p className={styles.error} role="alert">
          {list.error}
        </p>
      ) : null}
      <ul className={styles.threadList}>
        {list.threads.map((thread) => (
          <Row key={thread.id} {...props} thread={thread} current={thread.id === currentId} />
        ))}
      </ul>
      {list.hasMore ? (
        <button type="button" className={styles.linkButton} onClick={list.loadMore} disabled={list.loading}>
          {list.loading ? "Loading…" : "Older conversations"}
        </button>
      ) : null}
      {!list.loading && list.threads.length === 0 && !list.error ? (
        <p className={styles.muted}>No conversations yet.</p>
      ) : null}
    </nav>
  );
}
