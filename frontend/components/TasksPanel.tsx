"use client";

import { useCallback, useEffect, useState } from "react";

import { errorDetail } from "@/lib/client/errorDetail";
import { goToSignIn } from "@/lib/client/goToSignIn";
import { fetchTasks } from "@/lib/client/tasksApi";
import { isTask, type Task } from "@/lib/shared/tasks";

type PanelState =
  | { kind: "loading" }
  | { kind: "ready"; tasks: Task[] }
  | { kind: "failed"; message: string; tasks: Task[] | null };

/** Mark a task done (or open again) through /api/tasks/<id>; the task as it now is. */
async function markTask(task: Task, done: boolean): Promise<Task> {
  const response = await fetch(`/api/tasks/${encodeURIComponent(task.id)}`, {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ done }),
    cache: "no-store",
  });
  if (response.status === 401) {
    goToSignIn();
    throw new Error("Your session ended.");
  }
  if (!response.ok) {
    const fallback = `“${task.title}” could not be changed (${response.status}).`;
    throw new Error(await errorDetail(response, fallback));
  }
  const body: unknown = await response.json().catch(() => null);
  if (!isTask(body)) throw new Error(`“${task.title}” could not be changed (an unreadable answer).`);
  return body;
}

function formatDue(date: string): string {
  // A calendar date, not an instant: show it as written, in the reader's locale.
  const [year, month, day] = date.split("-").map(Number);
  if (!year || !month || !day) return date;
  return new Date(year, month - 1, day).toLocaleDateString(undefined, {
    month: "short",
    day: "numeric",
  });
}

type RowProps = { task: Task; pending: boolean; onToggle: (task: Task) => void };

function TaskRow({ task, pending, onToggle }: RowProps) {
  return (
    <li className={task.done ? "task done" : "task"} data-task-id={task.id}>
      <button
        type="button"
        className="task-mark"
        aria-label={task.done ? `Mark “${task.title}” not done` : `Mark “${task.title}” done`}
        disabled={pending}
        onClick={() => onToggle(task)}
      >
        <span aria-hidden="true">{task.done ? "✓" : ""}</span>
      </button>
      <span className="task-body">
        <span className="task-title">{task.title}</span>
        {task.notes ? <span className="task-notes">{task.notes}</span> : null}
      </span>
      <span className="task-meta">
        {task.priority !== "normal" ? (
          <span className={`badge ${task.priority}`}>{task.priority}</span>
        ) : null}
        {task.due_date ? <span className="due">{formatDue(task.due_date)}</span> : null}
      </span>
    </li>
  );
}

/** The signed-in person's tasks, reloaded whenever `version` changes (a response ended). */
export function TasksPanel({ version }: { version: number }) {
  const [state, setState] = useState<PanelState>({ kind: "loading" });
  const [reloads, setReloads] = useState(0);
  // Tasks whose change is on its way, and the last change that failed.
  const [pending, setPending] = useState<ReadonlySet<string>>(new Set());
  const [changeError, setChangeError] = useState<string | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    fetchTasks({ status: "all", limit: 100 }, abort.signal).then(
      (tasks) => setState({ kind: "ready", tasks }),
      (error: Error) => {
        if (abort.signal.aborted) return;
        // Keep showing what we had: a failed refresh should not empty the list.
        setState((previous) => ({
          kind: "failed",
          message: error.message,
          tasks: previous.kind === "loading" ? null : previous.tasks,
        }));
      },
    );
    return () => abort.abort();
  }, [version, reloads]);

  const replaceTask = useCallback((changed: Task) => {
    setState((previous) =>
      previous.kind === "loading" || previous.tasks === null
        ? previous
        : { ...previous, tasks: previous.tasks.map((task) => (task.id === changed.id ? changed : task)) },
    );
  }, []);

  const onToggle = useCallback(
    (task: Task) => {
      const done = !task.done;
      setChangeError(null);
      setPending((ids) => new Set(ids).add(task.id));
      // Shown at once; the backend's answer replaces it, or the old task comes back.
      replaceTask({ ...task, done });
      markTask(task, done)
        .then(replaceTask, (error: Error) => {
          replaceTask(task);
          setChangeError(error.message);
        })
        .finally(() =>
          setPending((ids) => {
            const rest = new Set(ids);
            rest.delete(task.id);
            return rest;
          }),
        );
    },
    [replaceTask],
  );

  const tasks = state.kind === "loading" ? null : state.tasks;
  const open = tasks?.filter((task) => !task.done) ?? [];
  const done = tasks?.filter((task) => task.done) ?? [];

  return (
    <aside className="tasks-panel" aria-labelledby="tasks-title" aria-busy={state.kind === "loading"}>
      <div className="tasks-header">
        <h2 id="tasks-title">Your tasks</h2>
        {tasks ? <span className="count">{open.length} open</span> : null}
        <button type="button" className="link-button" onClick={() => setReloads((n) => n + 1)}>
          Refresh
        </button>
      </div>
      {state.kind === "loading" ? <p className="muted">Loading your tasks…</p> : null}
      {state.kind === "failed" ? (
        <p className="error" role="alert">
          {state.message}
        </p>
      ) : null}
      {changeError ? (
        <p className="error" role="alert">
          {changeError}
        </p>
      ) : null}
      {tasks && tasks.length === 0 ? (
        <p className="muted empty">No tasks yet. Ask the assistant to add one.</p>
      ) : null}
      {open.length ? (
        <ul className="task-list" aria-label="Open tasks">
          {open.map((task) => (
            <TaskRow key={task.id} task={task} pending={pending.has(task.id)} onToggle={onToggle} />
          ))}
        </ul>
      ) : null}
      {done.length ? (
        <details className="done-section">
          <summary>Done ({done.length})</summary>
          <ul className="task-list" aria-label="Done tasks">
            {done.map((task) => (
              <TaskRow key={task.id} task={task} pending={pending.has(task.id)} onToggle={onToggle} />
            ))}
          </ul>
        </details>
      ) : null}
      <p className="hint muted">Select any text on this page to ask the assistant about it.</p>
    </aside>
  );
}
