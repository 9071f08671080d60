// The built-in chat UI's calls to /api/chatkit, in the browser: JSON answers, and streamed
// answers read event by event as they arrive. Both go through chatFetch, as the ChatKit
// web component's do: the page's context in the metadata, sign-in when the session has
// ended, and a refused turn (429, 503) as an error event in the stream.
import "client-only";

import { EventSourceParserStream } from "eventsource-parser/stream";

import type { ChatKitRequest, StreamEvent } from "@/lib/protocol";

import { chatFetch } from "../client/chatFetch";
import { errorDetail } from "../client/errorDetail";

const ENDPOINT = "/api/chatkit";

/** A request the server answered with an error; `message` is its sentence for a person. */
export class ChatRequestError extends Error {
  override name = "ChatRequestError";

  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function post(request: ChatKitRequest, signal?: AbortSignal): Promise<Response> {
  return chatFetch(ENDPOINT, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(request),
    signal,
  });
}

async function failure(response: Response): Promise<ChatRequestError> {
  const fallback =
    response.status >= 500
      ? "The chat service is not answering right now; try again in a moment."
      : `The request was refused (${response.status}).`;
  return new ChatRequestError(await errorDetail(response, fallback), response.status);
}

/** A non-streaming request's JSON answer (a thread, a page, or `{}`). */
export async function chatRequest<T>(request: ChatKitRequest, signal?: AbortSignal): Promise<T> {
  const response = await post(request, signal);
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

function isEvent(value: unknown): value is StreamEvent {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

/**
 * A streaming request's events, each as soon as its bytes are in. Aborting `signal` ends
 * the request (the server keeps the partial answer) and the iteration, with an AbortError.
 */
export async function* chatStream(
  request: ChatKitRequest,
  signal: AbortSignal,
): AsyncGenerator<StreamEvent> {
  const response = await post(request, signal);
  if (!response.ok) throw await failure(response);
  if (!response.body) throw new ChatRequestError("The server sent an empty answer.", response.status);
  const messages = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream());
  const reader = messages.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      let event: unknown;
      try {
        event = JSON.parse(value.data);
      } catch {
        continue; // Not an event of the protocol: nothing a person could act on.
      }
      if (isEvent(event)) yield event;
    }
  } finally {
    // Ending early (a Stop, or the consumer gave up) cancels the response body too.
    await reader.cancel().catch(() => undefined);
  }
}
