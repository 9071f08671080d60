// Leaving for the sign-in page when the session has ended, in the browser: shared by the
// chat's fetch and the tasks panel, which can both see the same 401.
import "client-only";

export const SIGNED_OUT_PATH = "/login?expired=1";

let leaving = false;

/**
 * Off to the sign-in page, once: the chat and the tasks panel can both see the same 401,
 * and a second navigation would abort the first. The 401 that brings us here has already
 * cleared the session cookie (the routes' `endRefusedSession`), and the sign-in page never
 * sends a person it gave a notice back to the chat, so this cannot loop.
 */
export function goToSignIn(): void {
  if (leaving) return;
  leaving = true;
  // A full page load, not the router: this runs outside React (ChatKit's fetch calls it,
  // where there is no router), and nothing the page holds for the ended session (the
  // widget's state, the router's cache) should outlive it.
  // eslint-disable-next-line @next/next/no-location-assign-relative-destination
  window.location.assign(SIGNED_OUT_PATH);
}
