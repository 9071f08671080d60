// The tasks panel's read: the backend's GET /api/tasks with the cookie's token as Bearer.
import type { NextRequest } from "next/server";

import { callBackend, endRefusedSession, problem, relayJson, upstreamHeaders } from "@/lib/server/backend";
import { SESSION_COOKIE } from "@/lib/server/session";
import { isTaskList } from "@/lib/shared/tasks";

const PASSED_QUERY = ["status", "q", "limit"];

/**
 * The signed-in person's tasks; `status`, `q` and `limit` as the backend takes them. A
 * successful answer that is not a task list is a 502, so the panel can count on its shape.
 */
export async function GET(request: NextRequest): Promise<Response> {
  const token = request.cookies.get(SESSION_COOKIE)?.value;
  if (!token) return problem(401, "not_signed_in", "Sign in to see your tasks.");
  const query = new URLSearchParams();
  for (const name of PASSED_QUERY) {
    const value = request.nextUrl.searchParams.get(name);
    if (value !== null) query.set(name, value);
  }
  const suffix = query.size ? `?${query.toString()}` : "";
  const upstream = await callBackend(`/api/tasks${suffix}`, {
    headers: upstreamHeaders(request, token),
    signal: request.signal,
  });
  return endRefusedSession(request, await relayJson(upstream, isTaskList));
}
