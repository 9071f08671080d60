"use client";

// Where a person writes: Enter sends, Shift+Enter starts a new line, the length limit shows
// before it is reached, and while an answer streams the Send button becomes Stop. Files are
// attached with the paperclip, or pasted or dropped in; each shows as a chip (an image as
// its preview) with its upload's progress or why it was refused, and can be removed.
import { useId, useRef, useState, type FormEvent, type KeyboardEvent, type RefObject } from "react";

import { withMention } from "@/lib/builtin/mentions";
import { attachmentContentUrl } from "@/lib/builtin/uploads";
import { ATTACHMENT_ACCEPT } from "@/lib/shared/attachments";
import type { Task } from "@/lib/shared/tasks";

import styles from "./builtin.module.css";
import type { Attachments } from "./useAttachments";
import { useMentionMenu } from "./useMentionMenu";

type Props = {
  value: string;
  onChange: (value: string) => void;
  onSend: (text: string) => void;
  /** A task picked from the "@" menu: it is now in the text as `@title`. */
  onMention: (task: Task) => void;
  onStop: () => void;
  streaming: boolean;
  /** Whether the running answer may be stopped (the server's stream options). */
  canStop: boolean;
  maxChars: number;
  inputRef: RefObject<HTMLTextAreaElement | null>;
  attachments: Attachments;
};

/** From this share of the limit on, the count is shown. */
const SHOW_COUNT_FROM = 0.8;

export function Composer({
  value,
  onChange,
  onSend,
  onMention,
  onStop,
  streaming,
  canStop,
  maxChars,
  inputRef,
  attachments,
}: Props) {
  const countId = useId();
  const picker = useRef<HTMLInputElement | null>(null);
  const menuId = useId();
  const [caret, setCaret] = useState(0);
  const menu = useMentionMenu(value, caret);
  const menuOpen = menu.at !== null && menu.options.length > 0;
  const pick = (task: Task) => {
    if (!menu.at) return;
    const next = withMention(value, menu.at.start, caret, task.title);
    onMention(task);
    onChange(next.text);
    setCaret(next.caret);
    // After React has put the new text in: the caret goes after the mention.
    requestAnimationFrame(() => inputRef.current?.setSelectionRange(next.caret, next.caret));
  };
  const length = [...value].length;
  const tooLong = length > maxChars;
  const blank = value.trim() === "";
  // A message may be files alone; not while one is still uploading.
  const hasContent = !blank || attachments.ready.length > 0;
  const canSend = !streaming && hasContent && !tooLong && !attachments.uploading;

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (canSend) onSend(value);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (menuOpen) {
      const last = menu.options.length - 1;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        menu.setActive((menu.active + step + last + 1) % (last + 1));
        return;
      }
      if ((event.key === "Enter" || event.key === "Tab") && !event.nativeEvent.isComposing) {
        event.preventDefault();
        pick(menu.options[menu.active]!);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        menu.dismiss();
        return;
      }
    }
    // Not while an input method composes a word (Enter picks its candidate there).
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <form
      className={styles.composer}
      onSubmit={submit}
      onDragOver={(event) => {
        if (event.dataTransfer.types.includes("Files")) event.preventDefault();
      }}
      onDrop={(event) => {
        if (!event.dataTransfer.files.length) return;
        event.preventDefault();
        attachments.add([...event.dataTransfer.files]);
      }}
    >
      {menuOpen ? (
        <ul className={styles.mentionMenu} id={menuId} role="listbox" aria-label="Your tasks">
          {menu.options.map((task, index) => (
            <li
              key={task.id}
              id={`${menuId}-${index}`}
              role="option"
              aria-selected={index === menu.active}
              className={index === menu.active ? styles.mentionActive : styles.mentionOption}
              // Before the textarea loses focus: the pick keeps the caret where it was.
              onMouseDown={(event) => {
                event.preventDefault();
                pick(task);
              }}
            >
              <span dir="auto">{task.title}</span>
              {task.done ? <span className={styles.muted}> · done</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
      {attachments.files.length ? (
        <ul className={styles.chips} aria-label="Files to send">
          {attachments.files.map((file) => (
            <li key={file.key} className={file.error ? styles.chipFailed : styles.chip}>
              {file.image && file.attachment ? (
                // A plain <img>: next/image would fetch it on the server, without the cookie.
                // eslint-disable-next-line @next/next/no-img-element
                <img className={styles.chipThumb} src={attachmentContentUrl(file.attachment.id)} alt={file.name} />
              ) : null}
              <span className={styles.chipName}>{file.name}</span>
              {file.error ? (
                <span className={styles.error} role="alert">
                  {file.error}
                </span>
              ) : file.attachment ? null : (
                <progress className={styles.upload} value={file.progress} aria-label={`Uploading ${file.name}`} />
              )}
              <button
                type="button"
                className={styles.chipRemove}
                onClick={() => attachments.remove(file.key)}
                aria-label={`Remove ${file.name}`}
              >
                ✕
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {attachments.notice ? (
        <p className={styles.error} role="alert">
          {attachments.notice}
        </p>
      ) : null}
      <textarea
        ref={inputRef}
        className={styles.input}
        value={value}
        onChange={(event) => {
          onChange(event.target.value);
          setCaret(event.target.selectionStart);
        }}
        onSelect={(event) => setCaret(event.currentTarget.selectionStart)}
        onKeyDown={onKeyDown}
        onPaste={(event) => {
          if (!event.clipboardData.files.length) return;
          event.preventDefault();
          attachments.add([...event.clipboardData.files]);
        }}
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={menuOpen}
        aria-controls={menuOpen ? menuId : undefined}
        aria-activedescendant={menuOpen ? `${menuId}-${menu.active}` : undefined}
        placeholder="Ask about your tasks, or add one…"
        aria-label="Message"
        aria-describedby={countId}
        aria-invalid={tooLong}
        rows={2}
        dir="auto"
      />
      <div className={styles.composerBar}>
        <button
          type="button"
          className={styles.attach}
          onClick={() => picker.current?.click()}
          aria-label="Attach files"
          title="Attach images or text files"
        >
          <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round">
            <path d="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9" />
          </svg>
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          accept={ATTACHMENT_ACCEPT}
          className={styles.visuallyHidden}
          tabIndex={-1}
          aria-hidden="true"
          onChange={(event) => {
            attachments.add([...(event.target.files ?? [])]);
            // The same file can be picked again after being removed.
            event.target.value = "";
          }}
        />
        <span id={countId} className={tooLong ? styles.countOver : styles.count} aria-live="polite">
          {length >= maxChars * SHOW_COUNT_FROM
            ? tooLong
              ? `${length} / ${maxChars} characters: shorten it by ${length - maxChars} to send`
              : `${length} / ${maxChars} characters`
            : ""}
        </span>
        {streaming ? (
          <button type="button" className={styles.stop} onClick={onStop} disabled={!canStop}>
            Stop
          </button>
        ) : (
          <button type="submit" disabled={!canSend}>
            Send
          </button>
        )}
      </div>
    </form>
  );
}
