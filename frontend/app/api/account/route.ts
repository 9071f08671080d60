// The signed-in person's account: what is kept about them (GET), and deleting it (DELETE),
// through the backend's /api/account with the cookie's token as Bearer.
import { NextResponse, type NextRequest } from "next/server";

import {
  callBackend,
  endRefusedSession,
  problem,
  refuseForeignOrigin,
  relayJson,
  upstreamHeaders,
} from "@/lib/server/backend";
import { accountDeleteTimeoutMs } from "@/lib/server/config";
import { SESSION_COOKIE, clearedSessionCookie } from "@/lib/server/session";
import { DELETION_UNCONFIRMED, isAccount } from "@/lib/shared/account";

/** What is kept about the signed-in person, and what deleting asks for (`has_password`). */
export async function GET(request: NextRequest): Promise<Response> {
  const token = request.cookies.get(SESSION_COOKIE)?.value;
  if (!token) return problem(401, "not_signed_in", "Sign in to see your account.");
  const upstream = await callBackend("/api/account", {
    headers: upstreamHeaders(request, token),
    signal: request.signal,
  });
  return endRefusedSession(request, await relayJson(upstream, isAccount));
}

/**
 * Delete the signed-in person's data, and their account if it is Taskchat's, with
 * `{"password"}` or `{"confirmation": "delete my data"}` as the backend asks. On success the
 * session cookie is cleared: the page then goes to the sign-in page. Not confirmed within
 * ACCOUNT_DELETE_TIMEOUT_MS, it is a 504 `deletion_unconfirmed` that clears the cookie too:
 * the deletion may have happened, and signing in again shows whether it did.
 */
export async function DELETE(request: NextRequest): Promise<Response> {
  const refused = refuseForeignOrigin(request);
  if (refused) return refused;
  const token = request.cookies.get(SESSION_COOKIE)?.value;
  if (!token) return problem(401, "not_signed_in", "Sign in to delete your account.");
  let proof: unknown;
  try {
    proof = await request.json();
  } catch {
    return problem(400, "invalid_json", 'Send {"password": ...} or {"confirmation": ...} as JSON.');
  }
  const headers = upstreamHeaders(request, token);
  headers.set("content-type", "application/json");
  const upstream = await callBackend("/api/account", {
    method: "DELETE",
    headers,
    body: JSON.stringify(proof),
    // Neither the browser's abort nor BACKEND_TIMEOUT_MS: the backend finishes a deletion it
    // has begun whether anyone waits or not, so giving up early would tell the person to try
    // again while everything goes.
    timeout: accountDeleteTimeoutMs(),
  });
  if (upstream.status === 504) return sessionEnded(request, DELETION_UNCONFIRMED);
  if (!upstream.ok) return endRefusedSession(request, await relayJson(upstream));
  return sessionEnded(request);
}

/** The session cookie cleared, with a 204, or with a 504 and `unconfirmed`'s sentence. */
function sessionEnded(request: NextRequest, unconfirmed?: string): Response {
  const headers = { "cache-control": "no-store" };
  const response = unconfirmed
    ? NextResponse.json({ error: "deletion_unconfirmed", detail: unconfirmed }, { status: 504, headers })
    : new NextResponse(null, { status: 204, headers });
  response.cookies.set(clearedSessionCookie(request));
  return response;
}
