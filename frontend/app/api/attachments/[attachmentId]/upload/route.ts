// The second phase of an attachment's upload: the file, as multipart/form-data, sent on to the
// backend's POST /api/attachments/{id}/upload with the cookie's token as Bearer. The body
// streams through, counted: one over ATTACHMENT_MAX_BYTES (declared, or counted as it comes)
// is refused here with a 413, and never reaches the backend whole.
import type { NextRequest } from "next/server";

import { refuseAttachmentId } from "@/lib/server/attachmentId";
import {
  callBackend,
  endRefusedSession,
  problem,
  refuseForeignOrigin,
  relayJson,
  upstreamHeaders,
} from "@/lib/server/backend";
import { attachmentMaxBytes } from "@/lib/server/config";
import { SESSION_COOKIE } from "@/lib/server/session";
import { tooLargeDetail } from "@/lib/shared/attachments";

/** Bytes a form may have besides its file (the backend allows the same). */
const FORM_OVERHEAD = 16 * 1024;

/** Store the file of one of the signed-in person's attachments; answers the attachment. */
export async function POST(
  request: NextRequest,
  { params }: { params: Promise<{ attachmentId: string }> },
): Promise<Response> {
  const refused = refuseForeignOrigin(request);
  if (refused) return refused;
  const token = request.cookies.get(SESSION_COOKIE)?.value;
  if (!token) return problem(401, "not_signed_in", "Sign in to attach files.");
  const { attachmentId } = await params;
  const notOne = refuseAttachmentId(attachmentId);
  if (notOne) return notOne;
  const maxBytes = attachmentMaxBytes();
  const limit = maxBytes + FORM_OVERHEAD;
  // A refusal waits for the end of the body (read and dropped), up to twice the limit: an
  // answer sent while the browser still sends resets its connection instead of saying why.
  const readAtMost = 2 * limit;
  const tooLarge = () => problem(413, "file_too_large", tooLargeDetail(maxBytes));
  const declared = Number(request.headers.get("content-length"));
  if (!request.body) return problem(400, "invalid_upload", "The upload is empty.");
  if (declared > limit) {
    if (declared <= readAtMost) await drop(request.body, readAtMost);
    return tooLarge();
  }
  let received = 0;
  let over = false;
  const counted = request.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        received += chunk.byteLength;
        if (received > readAtMost) controller.error(new Error("far over the upload limit"));
        else if (received > limit) over = true;
        else controller.enqueue(chunk);
      },
      // Over the limit: the backend's request fails, with nothing stored.
      flush(controller) {
        if (over) controller.error(new Error("over the upload limit"));
      },
    }),
  );
  const upstream = await callBackend(`/api/attachments/${attachmentId}/upload`, {
    method: "POST",
    headers: upstreamHeaders(request, token),
    body: counted,
    signal: request.signal,
    // A large file on a slow connection takes its time; the browser's abort still ends it.
    timeout: false,
  });
  if (over || received > readAtMost) return tooLarge();
  return endRefusedSession(request, await relayJson(upstream));
}

/** Read `body` to its end (or past `atMost` bytes), keeping nothing. */
async function drop(body: ReadableStream<Uint8Array>, atMost: number): Promise<void> {
  let received = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      received += value?.byteLength ?? 0;
      if (done || received > atMost) return;
    }
  } catch {
    // The browser went away: nobody to answer.
  } finally {
    reader.releaseLock();
  }
}
