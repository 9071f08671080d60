// A vote as the backend's GET /api/feedback sends it, and the check that an answer is a list
// of them: the /api/feedback route checks the backend's answer with it on the server, and the
// built-in chat UI reads the route's answer with it in the browser.

/** 👍 or 👎 (ChatKit's `FeedbackKind`). */
export type FeedbackKind = "positive" | "negative";

/** The person's vote on one assistant message, mirroring the backend's Vote (chat/feedback/votes.py). */
export type Vote = { item_id: string; kind: FeedbackKind };

/** GET /api/feedback's answer, mirroring the backend's VoteList. */
export type VoteList = { data: Vote[] };

/** The ids the backend makes (`thr_` and hex), with room to spare: anything else is no thread. */
export const THREAD_ID = /^[A-Za-z0-9_-]{1,100}$/;

function isVote(value: unknown): value is Vote {
  if (typeof value !== "object" || value === null) return false;
  const { item_id: itemId, kind } = value as Record<string, unknown>;
  return typeof itemId === "string" && (kind === "positive" || kind === "negative");
}

/** Whether `value` is a vote list: `{"data": [<vote>, ...]}`. */
export function isVoteList(value: unknown): value is VoteList {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const { data } = value as Record<string, unknown>;
  return Array.isArray(data) && data.every(isVote);
}
