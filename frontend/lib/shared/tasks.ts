// A task as the backend's GET /api/tasks sends it, and the check that an answer is a list
// of them: the /api/tasks route checks the backend's answer with it on the server, and the
// tasks panel reads the route's answer with it in the browser.

/** The server's client effect after tasks change (chat/widgets/actions.py `TASKS_CHANGED`). */
export const TASKS_CHANGED = "tasks.changed";

export type Priority = "low" | "normal" | "high";

/** A task, mirroring the backend's TaskPublic (src/taskchat/tasks/schemas.py). */
export type Task = {
  id: string;
  title: string;
  notes: string;
  priority: Priority;
  /** A calendar date, `YYYY-MM-DD`, not an instant. */
  due_date: string | null;
  done: boolean;
  /** Instants, in ISO 8601 with their offset. */
  created_at: string;
  updated_at: string;
  completed_at: string | null;
};

/** GET /api/tasks's answer, mirroring the backend's TaskList. */
export type TaskList = { data: Task[] };

const PRIORITIES: ReadonlySet<unknown> = new Set<Priority>(["low", "normal", "high"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringOrNull(value: unknown): value is string | null {
  return value === null || typeof value === "string";
}

/** Whether `value` has every field of a Task, each of its type (more fields are allowed). */
export function isTask(value: unknown): value is Task {
  return (
    isRecord(value) &&
    typeof value.id === "string" &&
    typeof value.title === "string" &&
    typeof value.notes === "string" &&
    PRIORITIES.has(value.priority) &&
    isStringOrNull(value.due_date) &&
    typeof value.done === "boolean" &&
    typeof value.created_at === "string" &&
    typeof value.updated_at === "string" &&
    isStringOrNull(value.completed_at)
  );
}

/** Whether `value` is a task list: `{"data": [<task>, ...]}`. */
export function isTaskList(value: unknown): value is TaskList {
  return isRecord(value) && Array.isArray(value.data) && value.data.every(isTask);
}
