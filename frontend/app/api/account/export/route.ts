// The signed-in person's data as a JSON file: the backend's GET /api/account/export with the
// cookie's token as Bearer, its answer passed on as it arrives (never held here whole).
import type { NextRequest } from "next/server";

import {
  callBackend,
  endRefusedSession,
  problem,
  relayJson,
  relayedHeaders,
  upstreamHeaders,
} from "@/lib/server/backend";
import { SESSION_COOKIE } from "@/lib/server/session";

/** The export download; the backend's errors pass through as JSON. */
export async function GET(request: NextRequest): Promise<Response> {
  const token = request.cookies.get(SESSION_COOKIE)?.value;
  if (!token) return problem(401, "not_signed_in", "Sign in to export your data.");
  const upstream = await callBackend("/api/account/export", {
    headers: upstreamHeaders(request, token),
    signal: request.signal,
    // The backend writes the file as it reads it: a large one may take a while.
    timeout: false,
  });
  if (!upstream.ok || !upstream.body) return endRefusedSession(request, await relayJson(upstream));
  const headers = relayedHeaders(upstream, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
  });
  const disposition = upstream.headers.get("content-disposition");
  if (disposition) headers.set("content-disposition", disposition);
  return new Response(upstream.body, { status: upstream.status, headers });
}
