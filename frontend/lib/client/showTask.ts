// Bringing a task into view in the tasks panel, for a click on its @-mention in the chat.
import "client-only";

const FLASH_CLASS = "task-flash";
const FLASH_MS = 1600;

/** Scroll the panel to `taskId` (opening the done section if it is there) and mark it
 * briefly; false when the panel does not list it (deleted since, or not loaded). */
export function showTask(taskId: string): boolean {
  const row = document.querySelector<HTMLElement>(`.tasks-panel [data-task-id="${CSS.escape(taskId)}"]`);
  if (!row) return false;
  const folded = row.closest("details");
  if (folded) folded.open = true;
  row.scrollIntoView({ block: "center", behavior: "smooth" });
  row.classList.add(FLASH_CLASS);
  window.setTimeout(() => row.classList.remove(FLASH_CLASS), FLASH_MS);
  row.querySelector<HTMLElement>("button")?.focus({ preventScroll: true });
  return true;
}
