// The tasks panel's one change: the backend's PATCH /api/tasks/{task_id} (`{"done": bool}`)
// with the cookie's token as Bearer.
import type { NextRequest } from "next/server";

import {
  callBackend,
  endRefusedSession,
  problem,
  refuseForeignOrigin,
  relayJson,
  upstreamHeaders,
} from "@/lib/server/backend";
import { SESSION_COOKIE } from "@/lib/server/session";
import { isTask } from "@/lib/shared/tasks";

// The shape of the ids the backend makes (`task_` and hex), with room to spare. Anything else
// is not a task, and is never put in the backend's path (no `..`, no `/`, no `?`).
const TASK_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * Mark one of the signed-in person's tasks done, or open again; answers the task as it now
 * is. A successful answer that is not a task is a 502, so the panel can count on its shape.
 */
export async function PATCH(
  request: NextRequest,
  { params }: { params: Promise<{ taskId: string }> },
): Promise<Response> {
  const refused = refuseForeignOrigin(request);
  if (refused) return refused;
  const token = request.cookies.get(SESSION_COOKIE)?.value;
  if (!token) return problem(401, "not_signed_in", "Sign in to change your tasks.");
  const { taskId } = await params;
  if (!TASK_ID.test(taskId)) {
    // The backend's answer for a task that is not the person's, word for word.
    return problem(404, "not_found", "That task no longer exists; refresh the list.");
  }
  let change: unknown;
  try {
    change = await request.json();
  } catch {
    return problem(400, "invalid_json", 'Send the change as JSON: {"done": true} or {"done": false}.');
  }
  const headers = upstreamHeaders(request, token);
  headers.set("content-type", "application/json");
  const upstream = await callBackend(`/api/tasks/${taskId}`, {
    method: "PATCH",
    headers,
    body: JSON.stringify(change),
    signal: request.signal,
  });
  return endRefusedSession(request, await relayJson(upstream, isTask));
}
