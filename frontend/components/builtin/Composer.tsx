"use client";

// Where a person writes: Enter sends, Shift+Enter starts a new line, the length limit shows
// before it is reached, and while an answer streams the Send button becomes Stop.
import { useId, type FormEvent, type KeyboardEvent, type RefObject } from "react";

import styles from "./builtin.module.css";

type Props = {
  value: string;
  onChange: (value: string) => void;
  onSend: (text: string) => void;
  onStop: () => void;
  streaming: boolean;
  /** Whether the running answer may be stopped (the server's stream options). */
  canStop: boolean;
  maxChars: number;
  inputRef: RefObject<HTMLTextAreaElement | null>;
};

/** From this share of the limit on, the count is shown. */
const SHOW_COUNT_FROM = 0.8;

export function Composer({ value, onChange, onSend, onStop, streaming, canStop, maxChars, inputRef }: Props) {
  const countId = useId();
  const length = [...value].length;
  const tooLong = length > maxChars;
  const blank = value.trim() === "";
  const canSend = !streaming && !blank && !tooLong;

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (canSend) onSend(value);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // Not while an input method composes a word (Enter picks its candidate there).
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <form className={styles.composer} onSubmit={submit}>
      <textarea
        ref={inputRef}
        className={styles.input}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        onKeyDown={onKeyDown}
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
