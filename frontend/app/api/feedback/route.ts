// The built-in chat UI's read of its votes: the backend's GET /api/feedback?thread_id=... with
// the cookie's token as Bearer. Votes are given with ChatKit's items.feedback on /api/chatkit.
import type { NextRequest } from "next/server";

import { callBackend, endRefusedSession, problem, relayJson, upstreamHeaders } from "@/lib/server/backend";
import { SESSION_COOKIE } from "@/lib/server/session";
import { THREAD_ID, isVoteList } from "@/lib/shared/feedback";

/**
 * The signed-in person's votes in one of their threads. A thread id that could not be one is
 * answered as the backend answers a missing thread, without asking it; a successful answer
 * that is not a vote list is a 502, so the chat can count on its shape.
 */
export async function GET(request: NextRequest): Promise<Response> {
  const token = request.cookies.get(SESSION_COOKIE)?.value;
  if (!token) return problem(401, "not_signed_in", "Sign in to see your votes.");
  const threadId = request.nextUrl.searchParams.get("thread_id");
  if (threadId === null) return problem(400, "invalid_input", "thread_id: Field required");
  if (!THREAD_ID.test(threadId)) return problem(404, "not_found", `Thread ${threadId} not found`);
  const upstream = await callBackend(`/api/feedback?${new URLSearchParams({ thread_id: threadId })}`, {
    headers: upstreamHeaders(request, token),
    signal: request.signal,
  });
  return endRefusedSession(request, await relayJson(upstream, isVoteList));
}
