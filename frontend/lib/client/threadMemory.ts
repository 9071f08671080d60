// The last thread a person had open, remembered in this browser across reloads. Keyed by
// user, so a shared browser does not offer one person's thread to another (the backend
// would refuse it anyway: threads are scoped to their owner).
import "client-only";

function key(userId: string): string {
  return `taskchat.thread.${userId}`;
}

export function rememberedThread(userId: string): string | null {
  try {
    return window.localStorage.getItem(key(userId));
  } catch {
    return null; // Storage can be disabled; then nothing is remembered.
  }
}

export function rememberThread(userId: string, threadId: string | null): void {
  try {
    if (threadId) window.localStorage.setItem(key(userId), threadId);
    else window.localStorage.removeItem(key(userId));
  } catch {
    // Storage can be disabled or full; the chat still works, it just forgets.
  }
}
