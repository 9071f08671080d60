"use client";

// The composer's "@" menu: while "@query" is being typed, the person's matching tasks
// (GET /api/tasks?q=), to pick with the arrow keys and Enter (or a click).
import { useEffect, useState } from "react";

import { mentionAt } from "@/lib/builtin/mentions";
import { searchTasks } from "@/lib/client/tasksApi";
import type { Task } from "@/lib/shared/tasks";

/** How long typing pauses before the tasks are searched. */
const SEARCH_DELAY_MS = 120;

export type MentionMenu = {
  /** The "@query" being typed, if any: where it starts, and its text. */
  at: { start: number; query: string } | null;
  options: Task[];
  active: number;
  setActive: (index: number) => void;
  /** Closes the menu until the next "@". */
  dismiss: () => void;
};

export function useMentionMenu(text: string, caret: number): MentionMenu {
  const found = mentionAt(text, caret);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const at = found && found.start !== dismissedAt ? found : null;
  const query = at?.query ?? null;
  const [results, setResults] = useState<{ query: string; tasks: Task[] } | null>(null);
  const [active, setActive] = useState(0);

  useEffect(() => {
    if (query === null) return;
    const abort = new AbortController();
    const timer = window.setTimeout(() => {
      searchTasks(query, abort.signal).then(
        (tasks) => {
          setResults({ query, tasks });
          setActive(0);
        },
        () => undefined, // No menu is better than an error in the middle of a sentence.
      );
    }, SEARCH_DELAY_MS);
    return () => {
      window.clearTimeout(timer);
      abort.abort();
    };
  }, [query]);

  const options = query !== null && results?.query === query ? results.tasks : [];
  return {
    at,
    options,
    active: Math.min(active, Math.max(options.length - 1, 0)),
    setActive,
    dismiss: () => setDismissedAt(found?.start ?? null),
  };
}
