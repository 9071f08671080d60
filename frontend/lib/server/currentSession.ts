// The signed-in person for a page, from the session cookie.
import "server-only";

import { cookies } from "next/headers";
import { redirect } from "next/navigation";

import { SESSION_COOKIE, liveClaims, type SessionClaims } from "./session";

/** The session's claims, or `null` when there is no live session. */
export async function currentSession(): Promise<SessionClaims | null> {
  const jar = await cookies();
  return liveClaims(jar.get(SESSION_COOKIE)?.value);
}

/** The session's claims; without one, off to the sign-in page (noting an expired one). */
export async function requireSession(): Promise<SessionClaims> {
  const jar = await cookies();
  const token = jar.get(SESSION_COOKIE)?.value;
  const claims = liveClaims(token);
  if (!claims) redirect(token ? "/login?expired=1" : "/login");
  return claims;
}
