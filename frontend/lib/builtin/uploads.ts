// Attaching a file in the built-in chat UI, the two-phase way the ChatKit protocol has:
// `attachments.create` through /api/chatkit, then the file to the upload URL it answers
// (this app's /api/attachments/<id>/upload), with the upload's progress.
import "client-only";

import type { FileAttachment, ImageAttachment } from "@/lib/protocol";

import { goToSignIn } from "../client/goToSignIn";
import { ChatRequestError, chatRequest } from "./transport";

export type Attachment = FileAttachment | ImageAttachment;

/** Where the built-in UI shows or downloads an attachment's file (always this origin). */
export function attachmentContentUrl(attachmentId: string): string {
  return `/api/attachments/${encodeURIComponent(attachmentId)}/content`;
}

/**
 * Make an attachment for `file` and upload it; `onProgress` hears the share sent (0 to 1).
 * Rejects with a ChatRequestError carrying the server's sentence (a 400 for a type it does
 * not take, a 413 for a file too large), or an AbortError when `signal` aborts. Either way
 * the attachment made for it is discarded: the server counts every unsent attachment
 * against a person's limit (20), and a failed or cancelled one would never be sent.
 */
export async function uploadFile(
  file: File,
  onProgress: (sent: number) => void,
  signal: AbortSignal,
): Promise<Attachment> {
  // Not aborted by `signal`: cut off, the request could still make the attachment on the
  // server without our learning its id, and nothing could discard it.
  const made = await chatRequest<Attachment>({
    type: "attachments.create",
    params: { name: file.name, size: file.size, mime_type: file.type },
  });
  const upload = made.upload_descriptor;
  if (!upload) return made;
  try {
    if (signal.aborted) throw new DOMException("The upload was cancelled.", "AbortError");
    return await send(upload.url, upload.method, file, onProgress, signal);
  } catch (error) {
    discardAttachment(made.id);
    throw error;
  }
}

/** Forget an attachment taken out of the composer before sending (its file goes too). */
export function discardAttachment(attachmentId: string): void {
  // Nothing to tell the person if it fails: an unsent attachment is swept after a day.
  chatRequest({ type: "attachments.delete", params: { attachment_id: attachmentId } }).catch(() => undefined);
}

/** The file as multipart/form-data (field `file`); XMLHttpRequest, for upload progress. */
function send(
  url: string,
  method: string,
  file: File,
  onProgress: (sent: number) => void,
  signal: AbortSignal,
): Promise<Attachment> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    request.responseType = "json";
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      const body = request.response as { detail?: unknown } | null;
      if (request.status >= 200 && request.status < 300 && body) {
        resolve(body as Attachment);
        return;
      }
      if (request.status === 401) goToSignIn();
      const detail = typeof body?.detail === "string" && body.detail ? body.detail : null;
      reject(new ChatRequestError(detail ?? `The upload was refused (${request.status}).`, request.status));
    };
    request.onerror = () =>
      reject(new ChatRequestError("The upload did not get through; check the connection and try again.", 0));
    request.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
    signal.addEventListener("abort", () => request.abort(), { once: true });
    const form = new FormData();
    form.append("file", file, file.name);
    request.send(form);
  });
}
