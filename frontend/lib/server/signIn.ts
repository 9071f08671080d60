// Register and sign in: the backend checks the password and mints the token; we only move
// the token into the httpOnly cookie, so page scripts never see it.
import "server-only";

import { NextResponse, type NextRequest } from "next/server";

import { callBackend, problem, refuseForeignOrigin, relayJson, upstreamHeaders } from "./backend";
import { sessionCookie } from "./session";

type BackendSession = {
  token: string;
  expires_at: string;
  user: { id: string; email: string; name: string };
};

function isSession(value: unknown): value is BackendSession {
  if (typeof value !== "object" || value === null) return false;
  const session = value as Record<string, unknown>;
  return (
    typeof session.token === "string" &&
    typeof session.expires_at === "string" &&
    typeof session.user === "object" &&
    session.user !== null
  );
}

/** Forward the form to `backendPath` and, on success, set the session cookie. */
export async function signIn(request: NextRequest, backendPath: string): Promise<Response> {
  const refused = refuseForeignOrigin(request);
  if (refused) return refused;
  let form: unknown;
  try {
    form = await request.json();
  } catch {
    return problem(400, "invalid_json", "Send the form's fields as a JSON object.");
  }
  const headers = upstreamHeaders(request);
  headers.set("content-type", "application/json");
  const upstream = await callBackend(backendPath, {
    method: "POST",
    headers,
    body: JSON.stringify(form),
  });
  if (!upstream.ok) return relayJson(upstream);
  const session: unknown = await upstream.json().catch(() => null);
  if (!isSession(session)) {
    return problem(502, "bad_gateway", "The Taskchat service sent an unreadable answer.");
  }
  const response = NextResponse.json({ user: session.user }, { status: upstream.status });
  response.cookies.set(sessionCookie(session.token, new Date(session.expires_at), request));
  response.headers.set("cache-control", "no-store");
  return response;
}
