// A refused ChatKit turn as a chat error message: the widget shows a stream's error event
// where the answer would be, but only a generic failure for an HTTP error. Shared code (no
// browser or server APIs beyond fetch's), so node tests can run it.

/**
 * The ChatKit request types answered with a stream (chatkit-python's `StreamingReq`;
 * tests/test_frontend_protocol.py checks the two lists agree).
 */
export const STREAMING_REQUESTS: ReadonlySet<string> = new Set([
  "threads.create",
  "threads.add_user_message",
  "threads.add_client_tool_output",
  "threads.add_structured_input",
  "threads.retry_after_item",
  "threads.custom_action",
]);

function requestType(body: BodyInit | null | undefined): string | null {
  if (typeof body !== "string") return null;
  try {
    const parsed: unknown = JSON.parse(body);
    const type = (parsed as { type?: unknown } | null)?.type;
    return typeof type === "string" ? type : null;
  } catch {
    return null;
  }
}

/**
 * A refused streaming request as the stream of one ChatKit error event, so the widget
 * shows the server's sentence ("try again in 12 seconds") where the answer would be,
 * instead of a generic failure. Any other answer is returned as it is.
 */
export async function refusalAsErrorEvent(
  response: Response,
  body: BodyInit | null | undefined,
): Promise<Response> {
  if (response.ok || response.status === 401) return response;
  const type = requestType(body);
  if (type === null || !STREAMING_REQUESTS.has(type)) return response;
  const problem: unknown = await response
    .clone()
    .json()
    .catch(() => null);
  const detail = (problem as { detail?: unknown } | null)?.detail;
  if (typeof detail !== "string" || !detail) return response;
  const retryAfter = response.headers.get("retry-after");
  const event = {
    type: "error",
    code: "custom",
    message: detail,
    // Waiting helps with limits and outages; a request the server refused as wrong won't.
    allow_retry: response.status === 429 || response.status >= 500,
  };
  const headers = new Headers({ "content-type": "text/event-stream", "cache-control": "no-store" });
  if (retryAfter) headers.set("retry-after", retryAfter);
  return new Response(`data: ${JSON.stringify(event)}\n\n`, { status: 200, headers });
}
