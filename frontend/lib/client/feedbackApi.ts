// Reading the signed-in person's votes in a thread through /api/feedback, in the browser: the
// built-in chat UI shows them again when a thread opens (ChatKit's items carry no feedback).
import "client-only";

import { isVoteList, type Vote } from "../shared/feedback";
import { errorDetail } from "./errorDetail";
import { goToSignIn } from "./goToSignIn";

/** The person's votes in `threadId`; a sentence a person can read when it fails. */
export async function fetchVotes(threadId: string, signal?: AbortSignal): Promise<Vote[]> {
  const query = new URLSearchParams({ thread_id: threadId });
  const response = await fetch(`/api/feedback?${query.toString()}`, { signal, cache: "no-store" });
  if (response.status === 401) {
    goToSignIn();
    throw new Error("Your session ended.");
  }
  if (!response.ok) {
    throw new Error(await errorDetail(response, `Your votes could not load (${response.status}).`));
  }
  const body: unknown = await response.json().catch(() => null);
  if (!isVoteList(body)) throw new Error("Your votes could not load (an unreadable answer).");
  return body.data;
}
