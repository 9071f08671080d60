"use client";

// 👍/👎 under an answer of the built-in chat UI: two toggle buttons, the pressed one being the
// person's vote as the server keeps it. A vote can be changed, not taken back: ChatKit's
// protocol has no request for that.
import type { FeedbackKind } from "@/lib/shared/feedback";

import styles from "./builtin.module.css";

type Props = {
  /** The person's vote on this answer, if any. */
  vote: FeedbackKind | undefined;
  /** True while a vote on it is on its way (clicks wait for it). */
  busy: boolean;
  /** Why the last vote on it was not saved. */
  failure: string | null;
  onVote: (kind: FeedbackKind) => void;
};

const BUTTONS: { kind: FeedbackKind; label: string; icon: string }[] = [
  { kind: "positive", label: "Good answer", icon: "👍" },
  { kind: "negative", label: "Bad answer", icon: "👎" },
];

export function FeedbackButtons({ vote, busy, failure, onVote }: Props) {
  return (
    <div className={styles.feedback} role="group" aria-label="Rate this answer">
      {BUTTONS.map(({ kind, label, icon }) => (
        <button
          key={kind}
          type="button"
          className={vote === kind ? styles.votePressed : styles.vote}
          aria-label={label}
          title={label}
          aria-pressed={vote === kind}
          // aria-disabled, not disabled: a disabled button would drop the keyboard focus.
          aria-disabled={busy || undefined}
          onClick={() => {
            if (!busy) onVote(kind);
          }}
        >
          <span aria-hidden="true">{icon}</span>
        </button>
      ))}
      {failure ? (
        <p className={styles.voteFailure} role="alert">
          {failure}
        </p>
      ) : null}
    </div>
  );
}
