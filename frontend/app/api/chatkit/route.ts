// The only ChatKit route: the browser's ChatKit requests, sent on to the backend's
// /chatkit with the cookie's token as Bearer, and its SSE answer streamed back as it comes.
import type { NextRequest } from "next/server";

import {
  callBackend,
  endRefusedSession,
  problem,
  refuseForeignOrigin,
  relayedHeaders,
  upstreamHeaders,
} from "@/lib/server/backend";
import { SESSION_COOKIE } from "@/lib/server/session";

/** One ChatKit request: JSON in, JSON or an SSE stream out. */
export async function POST(request: NextRequest): Promise<Response> {
  const refused = refuseForeignOrigin(request);
  if (refused) return refused;
  const token = request.cookies.get(SESSION_COOKIE)?.value;
  if (!token) return problem(401, "not_signed_in", "Sign in to chat.");

  // Stopping a response in the widget aborts the browser's request; passing that on makes
  // the backend stop the model and store the partial answer.
  const upstreamAbort = new AbortController();
  const abortUpstream = (): void => upstreamAbort.abort();
  request.signal.addEventListener("abort", abortUpstream, { once: true });

  const upstream = await callBackend("/chatkit", {
    method: "POST",
    headers: upstreamHeaders(request, token),
    body: request.body,
    signal: upstreamAbort.signal,
    timeout: false,
  });
  const type = upstream.headers.get("content-type") ?? "";
  if (!type.startsWith("text/event-stream") || !upstream.body) {
    request.signal.removeEventListener("abort", abortUpstream);
    // Status and JSON errors pass through unchanged (401 sends the page back to sign-in,
    // and clears the cookie the backend refused).
    return endRefusedSession(
      request,
      new Response(await upstream.arrayBuffer(), {
        status: upstream.status,
        headers: relayedHeaders(upstream, {
          "content-type": type || "application/json",
          "cache-control": "no-store",
        }),
      }),
    );
  }

  const reader = upstream.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    // Pull one chunk at a time: each SSE event is sent on as soon as it arrives.
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          request.signal.removeEventListener("abort", abortUpstream);
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        request.signal.removeEventListener("abort", abortUpstream);
        controller.error(error);
      }
    },
    // The browser went away: Next cancels this stream, and we hang up on the backend.
    cancel() {
      abortUpstream();
      return reader.cancel().catch(() => undefined);
    },
  });
  return new Response(body, {
    status: upstream.status,
    headers: relayedHeaders(upstream, {
      "content-type": "text/event-stream; charset=utf-8",
      // no-transform keeps compression from buffering the stream; the other two stop
      // caches and reverse proxies (nginx) from holding events back.
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    }),
  });
}
