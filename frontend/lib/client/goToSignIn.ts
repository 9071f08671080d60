// Leaving for the sign-in page when the session has ended, in the browser: shared by the
// chat's fetch and the tasks panel, which can both see the same 401.
import "client-only";

export const SIGNED_OUT_PATH = "/login?expired=1";

let leaving = false;

/**
 * Off to the sign-in page, once: the chat and the tasks panel can both see the same 401,
 * and a second navigation would abort the first.
 */
export function goToSignIn(): void {
  if (leaving) return;
  leaving = true;
  window.location.assign(SIGNED_OUT_PATH);
}
