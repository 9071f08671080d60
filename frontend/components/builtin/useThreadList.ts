"use client";

// The built-in chat UI's list of the person's threads, newest first, a page at a time,
// with rename and delete (threads.list, threads.update, threads.delete).
import { useCallback, useEffect, useState } from "react";

import { summary } from "@/lib/builtin/conversation";
import { ChatRequestError, chatRequest } from "@/lib/builtin/transport";
import type { ThreadPage, ThreadSummary } from "@/lib/protocol";

export const THREADS_PER_PAGE = 20;

export type ThreadList = {
  threads: ThreadSummary[];
  /** Whether older threads can be loaded. */
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  /** Loads the first page again (after the server created or renamed a thread). */
  refresh: () => void;
  loadMore: () => void;
  rename: (threadId: string, title: string) => Promise<ThreadSummary | null>;
  remove: (threadId: string) => Promise<boolean>;
};

function message(error: unknown): string {
  return error instanceof ChatRequestError ? error.message : "The threads could not be loaded.";
}

export function useThreadList(): ThreadList {
  const [threads, setThreads] = useState<ThreadSummary[]>([]);
  const [after, setAfter] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    chatRequest<ThreadPage>(
      { type: "threads.list", params: { limit: THREADS_PER_PAGE, order: "desc" } },
      controller.signal,
    ).then(
      (page) => {
        setThreads(page.data.map(summary));
        setAfter(page.after ?? null);
        setHasMore(page.has_more);
        setError(null);
        setLoading(false);
      },
      (failure: unknown) => {
        if (controller.signal.aborted) return;
        setError(message(failure));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [version]);

  const refresh = useCallback(() => setVersion((n) => n + 1), []);

  const loadMore = useCallback(() => {
    if (after === null) return;
    setLoading(true);
    chatRequest<ThreadPage>({
      type: "threads.list",
      params: { limit: THREADS_PER_PAGE, order: "desc", after },
    }).then(
      (page) => {
        setThreads((known) => {
          const ids = new Set(known.map((thread) => thread.id));
          return [...known, ...page.data.filter((thread) => !ids.has(thread.id)).map(summary)];
        });
        setAfter(page.after ?? null);
        setHasMore(page.has_more);
        setLoading(false);
      },
      (failure: unknown) => {
        setError(message(failure));
        setLoading(false);
      },
    );
  }, [after]);

  const rename = useCallback(async (threadId: string, title: string) => {
    try {
      const thread = summary(
        await chatRequest<ThreadSummary>({ type: "threads.update", params: { thread_id: threadId, title } }),
      );
      setThreads((known) => known.map((existing) => (existing.id === threadId ? thread : existing)));
      setError(null);
      return thread;
    } catch (failure) {
      setError(message(failure));
      return null;
    }
  }, []);

  const remove = useCallback(async (threadId: string) => {
    try {
      await chatRequest<object>({ type: "threads.delete", params: { thread_id: threadId } });
      setThreads((known) => known.filter((thread) => thread.id !== threadId));
      setError(null);
      return true;
    } catch (failure) {
      setError(message(failure));
      return false;
    }
  }, []);

  return { threads, hasMore, loading, error, refresh, loadMore, rename, remove };
}
