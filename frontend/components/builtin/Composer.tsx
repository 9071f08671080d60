"use client";

// Where a person writes: Enter sends, Shift+Enter starts a new line, the length limit shows
// before it is reached, and while an answer streams the Send button becomes Stop.
import { useId, useState, type FormEvent, type KeyboardEvent, type RefObject } from "react";

import { withMention } from "@/lib/builtin/mentions";
import type { Task } from "@/lib/shared/tasks";

import styles from "./builtin.module.css";
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
}: Props) {
  const countId = useId();
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
  const canSend = !streaming && !blank && !tooLong;

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
    <form className={styles.composer} onSubmit={submit}>
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
