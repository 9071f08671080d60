// The fetch ChatKit uses for /api/chatkit, in the browser: it adds the page's context to
// each request's metadata, sends the person to sign-in when the session has ended, and
// turns a refused turn (429 too fast, 503 database down, ...) into a chat error message.
import "client-only";

import { refusalAsErrorEvent } from "../shared/chatRefusal";
import { goToSignIn } from "./goToSignIn";

/** The request body with `metadata.page` set to this page's URL and title. */
export function withPageContext(body: BodyInit | null | undefined): BodyInit | null | undefined {
  if (typeof body !== "string") return body;
  let request: unknown;
  try {
    request = JSON.parse(body);
  } catch {
    return body;
  }
  if (typeof request !== "object" || request === null || Array.isArray(request)) return body;
  const fields = request as Record<string, unknown>;
  const metadata =
    typeof fields.metadata === "object" && fields.metadata !== null ? fields.metadata : {};
  // Untrusted on the server too: it is quoted to the model as context, never identity.
  // The title can still be empty just after a client-side navigation; then send none.
  const title = document.title;
  fields.metadata = {
    ...metadata,
    page: { url: window.location.href, ...(title ? { title } : {}) },
  };
  return JSON.stringify(fields);
}

/** A fetch for ChatKit's `api.fetch` option. */
export const chatFetch: typeof fetch = async (input, init) => {
  const body = withPageContext(init?.body);
  const response = await fetch(input, { ...init, body });
  if (response.status === 401) goToSignIn();
  return refusalAsErrorEvent(response, body);
};
