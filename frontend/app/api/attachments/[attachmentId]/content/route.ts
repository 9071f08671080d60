// An attachment's file (an image's preview, a text file's download), from the backend's
// GET /api/attachments/{id}/content with the cookie's token as Bearer: the person's own
// files only, whatever id the page asks for. The bytes stream through with the backend's
// type, Content-Disposition and Content-Security-Policy, and never sniffed.
import type { NextRequest } from "next/server";

import { refuseAttachmentId } from "@/lib/server/attachmentId";
import {
  callBackend,
  endRefusedSession,
  problem,
  relayJson,
  relayedHeaders,
  upstreamHeaders,
} from "@/lib/server/backend";
import { SESSION_COOKIE } from "@/lib/server/session";

/** The backend's headers that describe the file, passed on as they are. */
const FILE_HEADERS = ["content-type", "content-length", "content-disposition", "content-security-policy", "cache-control"];

/** The file of one of the signed-in person's attachments. */
export async function GET(
  request: NextRequest,
  { params }: { params: Promise<{ attachmentId: string }> },
): Promise<Response> {
  const token = request.cookies.get(SESSION_COOKIE)?.value;
  if (!token) return problem(401, "not_signed_in", "Sign in to see your files.");
  const { attachmentId } = await params;
  const notOne = refuseAttachmentId(attachmentId);
  if (notOne) return notOne;
  const upstream = await callBackend(`/api/attachments/${attachmentId}/content`, {
    headers: upstreamHeaders(request, token),
    signal: request.signal,
    // The bytes stream to the browser at its pace; its abort still ends the call.
    timeout: false,
  });
  if (!upstream.ok || !upstream.body) return endRefusedSession(request, await relayJson(upstream));
  const headers = relayedHeaders(upstream, { "x-content-type-options": "nosniff" });
  for (const name of FILE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value) headers.set(name, value);
  }
  return new Response(upstream.body, { status: 200, headers });
}
