"use client";

// The 👍/👎 votes of the open thread in the built-in chat UI: read from /api/feedback when a
// thread opens (ChatKit's items carry no feedback), given with ChatKit's `items.feedback`
// over /api/chatkit. A vote shows at once; one the server did not take is put back as it
// was, and the person is told why.
import { useCallback, useEffect, useRef, useState } from "react";

import { ChatRequestError, chatRequest } from "@/lib/builtin/transport";
import { fetchVotes } from "@/lib/client/feedbackApi";
import type { FeedbackKind } from "@/lib/shared/feedback";

type Votes = Readonly<Record<string, FeedbackKind>>;

/** Why a vote on an item was not saved. */
export type FeedbackFailure = { itemId: string; message: string };

export type FeedbackControl = {
  /** The person's vote on each answer that has one. */
  votes: Votes;
  /** Answers whose vote is on its way to the server. */
  sending: ReadonlySet<string>;
  failure: FeedbackFailure | null;
  /** Vote `kind` on the answer `itemId`; the vote it already has changes nothing. */
  vote: (itemId: string, kind: FeedbackKind) => void;
};

type State = {
  /** The thread these belong to: state of another thread is never shown. */
  threadId: string | null;
  /** As the server had them when the thread opened. */
  loaded: Votes;
  /** Given here since, which win over `loaded` (a click can come before the read). */
  given: Votes;
  sending: readonly string[];
  failure: FeedbackFailure | null;
};

function fresh(threadId: string | null): State {
  return { threadId, loaded: {}, given: {}, sending: [], failure: null };
}

function notSaved(error: unknown): string {
  if (error instanceof ChatRequestError && error.status === 404) {
    return "Your vote was not saved: this answer is no longer in the conversation.";
  }
  const why = error instanceof ChatRequestError ? error.message : "The chat service could not be reached.";
  return `Your vote was not saved. ${why}`;
}

export function useFeedback(threadId: string | null): FeedbackControl {
  const [stored, setState] = useState<State>(() => fresh(threadId));
  const state = stored.threadId === threadId ? stored : fresh(threadId);
  // The latest state, for `vote`, which must not change identity per render.
  const current = useRef(state);
  useEffect(() => {
    current.current = state;
  });

  /** Change the state of thread `id` (starting afresh if another thread's is held). */
  const update = useCallback((id: string, change: (state: State) => State) => {
    setState((held) => change(held.threadId === id ? held : fresh(id)));
  }, []);

  useEffect(() => {
    if (threadId === null) return;
    const controller = new AbortController();
    fetchVotes(threadId, controller.signal).then(
      (votes) => {
        const loaded = Object.fromEntries(votes.map((vote) => [vote.item_id, vote.kind]));
        update(threadId, (held) => ({ ...held, loaded }));
      },
      // Not shown: the answers show no vote, and a vote given again is kept as before.
      () => undefined,
    );
    return () => controller.abort();
  }, [threadId, update]);

  const vote = useCallback(
    (itemId: string, kind: FeedbackKind) => {
      const held = current.current;
      const id = held.threadId;
      if (id === null || held.sending.includes(itemId)) return;
      const before = held.given[itemId] ?? held.loaded[itemId];
      if (before === kind) return;
      const withVote = (votes: Votes, vote: FeedbackKind | undefined): Votes => {
        const changed = { ...votes };
        if (vote === undefined) delete changed[itemId];
        else changed[itemId] = vote;
        return changed;
      };
      const done = (sending: readonly string[]) => sending.filter((item) => item !== itemId);
      update(id, (state) => ({
        ...state,
        given: withVote(state.given, kind),
        sending: [...state.sending, itemId],
        failure: state.failure?.itemId === itemId ? null : state.failure,
      }));
      chatRequest<object>({ type: "items.feedback", params: { thread_id: id, item_ids: [itemId], kind } }).then(
        () => update(id, (state) => ({ ...state, sending: done(state.sending) })),
        (error: unknown) =>
          update(id, (state) => ({
            ...state,
            given: withVote(state.given, before),
            sending: done(state.sending),
            failure: { itemId, message: notSaved(error) },
          })),
      );
    },
    [update],
  );

  return {
    votes: { ...state.loaded, ...state.given },
    sending: new Set(state.sending),
    failure: state.failure,
    vote,
  };
}
