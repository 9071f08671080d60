// Reading the signed-in person's tasks through /api/tasks, in the browser: for the tasks
// panel, and for finding a task to @-mention in either chat UI.
import "client-only";

import { isTaskList, type Task } from "../shared/tasks";
import { errorDetail } from "./errorDetail";
import { goToSignIn } from "./goToSignIn";

export type TaskQuery = { status?: "open" | "done" | "all"; q?: string; limit?: number };

/** The tasks `query` selects; a sentence a person can read when it fails. */
export async function fetchTasks(query: TaskQuery, signal?: AbortSignal): Promise<Task[]> {
  const params = new URLSearchParams({
    status: query.status ?? "all",
    limit: String(query.limit ?? 100),
    ...(query.q ? { q: query.q } : {}),
  });
  const response = await fetch(`/api/tasks?${params.toString()}`, { signal, cache: "no-store" });
  if (response.status === 401) {
    goToSignIn();
    throw new Error("Your session ended.");
  }
  if (!response.ok) {
    throw new Error(await errorDetail(response, `The list could not load (${response.status}).`));
  }
  const body: unknown = await response.json().catch(() => null);
  if (!isTaskList(body)) throw new Error("The list could not load (an unreadable answer).");
  return body.data;
}

/** Tasks to offer for "@query": the best few, open and done. */
export function searchTasks(query: string, signal?: AbortSignal): Promise<Task[]> {
  return fetchTasks({ status: "all", q: query.trim() || undefined, limit: 8 }, signal);
}
