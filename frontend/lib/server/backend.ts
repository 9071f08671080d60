// Talking to the backend on the browser's behalf: what is forwarded, what is refused, and
// how the backend's answers and failures come back as JSON a person can act on.
import "server-only";

import { NextResponse } from "next/server";

import { resolvedClientAddress } from "./clientAddressHook";
import { appOrigin, backendTimeoutMs, backendUrl } from "./config";
import { browserOrigin, clearedSessionCookie } from "./session";

/** `{"error": <code>, "detail": <sentence>}`, the backend's error shape, with `status`. */
export function problem(status: number, error: string, detail: string): Response {
  return Response.json({ error, detail }, { status, headers: { "cache-control": "no-store" } });
}

/**
 * 403 unless the request was sent by this app's own pages: a cross-site form or script
 * must not act with the person's cookie. Browsers always send `Origin` on POST.
 */
export function refuseForeignOrigin(request: Request): Response | null {
  const origin = request.headers.get("origin");
  if (!origin || origin === "null") {
    return problem(403, "origin_required", "Send this request from Taskchat's own pages.");
  }
  let sender: URL;
  try {
    sender = new URL(origin);
  } catch {
    return problem(403, "foreign_origin", "Requests from other sites are refused.");
  }
  const expected = appOrigin();
  const same = expected ? sender.origin === expected : sender.host === request.headers.get("host");
  return same ? null : problem(403, "foreign_origin", "Requests from other sites are refused.");
}

// An allowlist, so nothing else the browser sends reaches the backend: not its own
// Authorization header, not an X-User-Id, not its cookies.
const FORWARDED_HEADERS = ["content-type", "accept", "accept-language", "user-agent"];

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: a front proxy's X-Request-ID when it looks like one, else a new one. */
export function requestIdOf(request: Request): string {
  const given = request.headers.get("x-request-id");
  return given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
}

/** The headers for the backend: the allowlist, the cookie's token as Bearer, the client's address. */
export function upstreamHeaders(request: Request, token?: string): Headers {
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  if (token) headers.set("authorization", `Bearer ${token}`);
  // The backend logs it on every line and echoes it; the browser gets it back from us.
  headers.set("x-request-id", requestIdOf(request));
  // The client's address, for the backend's per-address sign-in limits (it believes this
  // header only from FORWARDED_ALLOW_IPS). One address, which instrumentation.ts put here
  // when the request arrived: the connection's peer, or what a TRUSTED_PROXIES proxy
  // said it saw; never what the browser wrote. Without it the backend counts ours.
  const address = resolvedClientAddress(request);
  if (address) headers.set("x-forwarded-for", address);
  // The app's origin as the browser sees it: the backend builds the URLs it hands back
  // (attachment uploads and previews) on it, so the browser comes back through us.
  const origin = browserOrigin(request);
  if (origin) {
    headers.set("x-forwarded-host", origin.host);
    headers.set("x-forwarded-proto", origin.protocol.replace(/:$/, ""));
  }
  return headers;
}

export type BackendInit = {
  method?: string;
  headers: Headers;
  body?: BodyInit | null;
  /** Aborts the backend call (the browser went away). */
  signal?: AbortSignal;
  /**
   * Abort after BACKEND_TIMEOUT_MS (or after this many milliseconds); `false` for streams,
   * which the browser may keep open.
   */
  timeout?: boolean | number;
};

/** The backend's answer, or a 502/504 problem if it could not be reached in time. */
export async function callBackend(path: string, init: BackendInit): Promise<Response> {
  const signals: AbortSignal[] = [];
  if (init.signal) signals.push(init.signal);
  if (init.timeout !== false) {
    signals.push(AbortSignal.timeout(typeof init.timeout === "number" ? init.timeout : backendTimeoutMs()));
  }
  try {
    return await fetch(`${backendUrl()}${path}`, {
      method: init.method ?? "GET",
      headers: init.headers,
      body: init.body ?? null,
      signal: signals.length ? AbortSignal.any(signals) : null,
      cache: "no-store",
      redirect: "manual",
      // Required by Node's fetch to send a streamed request body.
      ...(init.body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit);
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return problem(504, "backend_timeout", "The Taskchat service took too long to answer; try again.");
    }
    if (init.signal?.aborted) {
      // The browser left; nobody reads this answer.
      return problem(499, "client_closed", "The request was cancelled.");
    }
    return problem(502, "backend_unavailable", "The Taskchat service is not reachable; try again shortly.");
  }
}

/** `base` plus the backend's headers the browser should see: its request id, Retry-After. */
export function relayedHeaders(upstream: Response, base: Record<string, string>): Headers {
  const headers = new Headers(base);
  for (const name of ["retry-after", "x-request-id"]) {
    const value = upstream.headers.get(name);
    if (value) headers.set(name, value);
  }
  return headers;
}

function unreadableAnswer(): Response {
  return problem(502, "bad_gateway", "The Taskchat service sent an unreadable answer.");
}

/**
 * `response`, clearing the session cookie if it is a 401. Every route that forwards the
 * cookie's token answers through this: a 401 there means the backend refused the token
 * (expired, signed with an old secret, or revoked because the account was deleted on
 * another device), and it will never be accepted again. Kept, an unexpired but revoked
 * cookie would look signed-in to the pages, which read only its `exp`.
 */
export function endRefusedSession(request: Request, response: Response): Response {
  if (response.status !== 401) return response;
  const ended = new NextResponse(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  ended.cookies.set(clearedSessionCookie(request));
  return ended;
}

/**
 * The backend's JSON answer, passed through with its status (its errors are already
 * `{"error", "detail"}` with a sentence a person can read). A successful answer that is not
 * JSON, or that `fits` refuses, becomes a 502.
 */
export async function relayJson(
  upstream: Response,
  fits?: (body: unknown) => boolean,
): Promise<Response> {
  const text = await upstream.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return upstream.ok
      ? unreadableAnswer()
      : problem(upstream.status, "backend_error", `The Taskchat service answered ${upstream.status}.`);
  }
  if (upstream.ok && fits && !fits(body)) return unreadableAnswer();
  return Response.json(body, {
    status: upstream.status,
    headers: relayedHeaders(upstream, { "cache-control": "no-store" }),
  });
}
