"use client";

// The Retry under the newest answer: the server answers the same message again
// (threads.retry_after_item) and the new answer takes this one's place. What the first
// answer's tools did is not done twice (the server keeps it: docs/features.md, "Retrying an answer").
import styles from "./builtin.module.css";

export function RetryAnswer({ onRetry }: { onRetry: () => void }) {
  return (
    <div className={styles.answerActions}>
      <button type="button" className={styles.answerAction} onClick={onRetry} title="Answer this message again">
        <span aria-hidden="true">↻ </span>Retry
      </button>
    </div>
  );
}
