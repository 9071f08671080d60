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
import { SESSION_COOKIE, clearedSessionCookie } from "@/lib/server/session";
import { isAccount } from "@/lib/shared/account";

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
 * session cookie is cleared: the page then goes to the sign-in page.
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
  });
  if (!upstream.ok) return endRefusedSession(request, await relayJson(upstream));
  const response = new NextResponse(null, { status: 204, headers: { "cache-control": "no-store" } });
  response.cookies.set(clearedSessionCookie(request));
  return response;
}
