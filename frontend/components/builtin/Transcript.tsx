"use client";

// The open thread's items, oldest first, with "Load earlier" above them and the running
// answer's progress, notice or error below. The list is a live log: screen readers hear
// what is added to it, streamed text included.
import type { Widgets } from "@openai/chatkit";

import { retryTarget, type Conversation } from "@/lib/builtin/conversation";
import { attachmentContentUrl } from "@/lib/builtin/uploads";
import type { ThreadItem } from "@/lib/protocol";

import styles from "./builtin.module.css";
import { FeedbackButtons } from "./FeedbackButtons";
import { MessageMarkdown } from "./MessageMarkdown";
import { RetryAnswer } from "./RetryAnswer";
import type { FeedbackControl } from "./useFeedback";
import { WidgetView, type WidgetAction } from "./widgets/WidgetView";

type Props = {
  conversation: Conversation;
  streaming: boolean;
  loading: boolean;
  onLoadEarlier: () => void;
  onRetry: () => void;
  /** Answer the newest message again, in place of its answer. */
  onRetryAnswer: () => void;
  onAction: (action: WidgetAction, itemId: string) => void;
  /** An @-mentioned task's tag was clicked. */
  onTagClick: (taskId: string) => void;
  /** The person's 👍/👎 on the answers. */
  feedback: FeedbackControl;
};

type ItemProps = Pick<Props, "streaming" | "onAction" | "onTagClick"> & {
  item: ThreadItem;
  /** Set on the answer that can be had again (the newest). */
  onRetry?: () => void;
  /** Votes on this item: none while it is still being written. */
  feedback: FeedbackControl | null;
};

function Item({ item, streaming, onAction, onTagClick, onRetry, feedback }: ItemProps) {
  switch (item.type) {
    case "user_message":
      return (
        <li className={styles.user} data-role="user" dir="auto">
          {item.quoted_text ? <blockquote className={styles.quote}>{item.quoted_text}</blockquote> : null}
          <p className={styles.userText}>
            {item.content.map((part, index) =>
              part.type === "input_tag" ? (
                <button key={index} type="button" className={styles.tag} onClick={() => onTagClick(part.id)}>
                  @{part.text}
                </button>
              ) : (
                <span key={index}>{part.text}</span>
              ),
            )}
          </p>
          {item.attachments.length ? (
            <ul className={styles.chips} aria-label="Attached files">
              {item.attachments.map((attachment) => (
                <li key={attachment.id} className={styles.chip}>
                  {/* This origin's route by id, whatever origin the stored preview URL has. */}
                  <a href={attachmentContentUrl(attachment.id)} target="_blank" rel="noopener">
                    {attachment.type === "image" ? (
                      // A plain <img>: next/image would fetch it on the server, without the cookie.
                      // eslint-disable-next-line @next/next/no-img-element
                      <img className={styles.thumb} src={attachmentContentUrl(attachment.id)} alt={attachment.name} />
                    ) : (
                      <span className={styles.chipName}>{attachment.name}</span>
                    )}
                  </a>
                </li>
              ))}
            </ul>
          ) : null}
        </li>
      );
    case "assistant_message":
      return (
        <li className={styles.assistant} data-role="assistant" dir="auto">
          {item.content.map((part, index) => (
            <MessageMarkdown key={index} text={part.text} />
          ))}
          {feedback || onRetry ? (
            <div className={styles.answerBar}>
              {feedback ? (
                <FeedbackButtons
                  vote={feedback.votes[item.id]}
                  busy={feedback.sending.has(item.id)}
                  failure={feedback.failure?.itemId === item.id ? feedback.failure.message : null}
                  onVote={(kind) => feedback.vote(item.id, kind)}
                />
              ) : null}
              {onRetry ? <RetryAnswer onRetry={onRetry} /> : null}
            </div>
          ) : null}
        </li>
      );
    case "widget":
      return (
        <li className={styles.widget} data-role="widget">
          {/* The server's widget JSON, typed by the SDK's Python models; the renderer
              checks each node itself, so the web component's types are enough here. */}
          <WidgetView
            widget={item.widget as unknown as Widgets.WidgetRoot}
            busy={streaming}
            onAction={(action) => onAction(action, item.id)}
          />
        </li>
      );
    case "workflow":
      return (
        <li className={styles.workflow} data-role="workflow">
          {item.workflow.tasks.map((task, index) => (
            <p key={index} className={styles.muted}>
              {"title" in task && task.title ? task.title : "Working…"}
            </p>
          ))}
        </li>
      );
    case "task":
      return (
        <li className={styles.workflow} data-role="task">
          <p className={styles.muted}>{"title" in item.task && item.task.title ? item.task.title : "Working…"}</p>
        </li>
      );
    default:
      // Client tool calls, generated images, structured input: not used by Taskchat yet.
      return null;
  }
}

export function Transcript({
  conversation,
  streaming,
  loading,
  onLoadEarlier,
  onRetry,
  onRetryAnswer,
  onAction,
  onTagClick,
  feedback,
}: Props) {
  const { items, earlier, progress, notice, failure } = conversation;
  // Not while an answer streams, nor beside a failure's own Retry.
  const again = streaming || failure ? null : retryTarget(conversation);
  // The answer being written is the newest item while a stream runs: no votes on it yet.
  const writing = streaming ? items.at(-1)?.id : undefined;
  return (
    <div className={styles.transcript}>
      {earlier !== null ? (
        <button type="button" className={styles.linkButton} onClick={onLoadEarlier} disabled={loading}>
          {loading ? "Loading…" : "Load earlier messages"}
        </button>
      ) : null}
      <ol className={styles.items} role="log" aria-live="polite" aria-label="Messages">
        {items.map((item) => (
          <Item
            key={item.id}
            item={item}
            streaming={streaming}
            onAction={onAction}
            onTagClick={onTagClick}
            onRetry={again?.answerId === item.id ? onRetryAnswer : undefined}
            feedback={item.id === writing ? null : feedback}
          />
        ))}
      </ol>
      {progress && streaming ? (
        <p className={styles.progress} role="status">
          {progress}
        </p>
      ) : null}
      {streaming && !progress ? (
        <p className={styles.progress} role="status" aria-label="Answering">
          <span className={styles.dots} aria-hidden="true" />
        </p>
      ) : null}
      {notice ? (
        <div className={styles[`notice_${notice.level}`]} role="status">
          {notice.title ? <strong>{notice.title} </strong> : null}
          {notice.message}
        </div>
      ) : null}
      {failure ? (
        <div className={styles.failure} role="alert">
          <p>{failure.message}</p>
          {failure.allowRetry ? (
            <button type="button" onClick={onRetry} disabled={streaming}>
              Retry
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
