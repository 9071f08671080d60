// The ids the backend gives attachments (`atc_` and hex), with room to spare. Anything else is
// no attachment, and is never put in the backend's path (no `..`, no `/`, no `?`).
import "server-only";

import { problem } from "./backend";

const ATTACHMENT_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** A 404 for an id that cannot be an attachment's; null for one that may be. */
export function refuseAttachmentId(attachmentId: string): Response | null {
  return ATTACHMENT_ID.test(attachmentId) ? null : problem(404, "not_found", "That attachment does not exist.");
}
