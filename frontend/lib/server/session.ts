// The session: the backend's JWT, kept only in an httpOnly cookie.
//
// The frontend never verifies the token: the backend does, on every request. The frontend
// reads its claims only to decide where to send a person (sign-in page or chat) and to
// greet them by name; a forged token gets no further than the backend's 401.
import "server-only";

import { appOrigin, cookieSecureMode } from "./config";

export const SESSION_COOKIE = "taskchat_session";

/** The attributes `NextResponse.cookies.set` takes for the session cookie. */
export type SessionCookie = {
  name: string;
  value: string;
  httpOnly: true;
  sameSite: "lax";
  secure: boolean;
  path: "/";
  maxAge: number;
  expires?: Date;
};

export type SessionClaims = {
  /** The user id; the backend takes identity from the verified token, never from us. */
  sub: string;
  /** Expiry, in seconds since the epoch. */
  exp: number;
  name?: string;
};

/** The token's claims if it is well-formed and not expired; `null` otherwise. */
export function liveClaims(token: string | undefined, now: number = Date.now()): SessionClaims | null {
  if (!token) return null;
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) return null;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (typeof payload !== "object" || payload === null) return null;
  const { sub, exp, name } = payload as Record<string, unknown>;
  if (typeof sub !== "string" || !sub || typeof exp !== "number") return null;
  if (exp * 1000 <= now) return null;
  return { sub, exp, ...(typeof name === "string" ? { name } : {}) };
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * The origin the browser used: APP_ORIGIN, else its Host header and X-Forwarded-Proto (which
 * Next's server fills from the connection itself when a request comes without one).
 */
export function browserOrigin(request: Request): URL | null {
  const configured = appOrigin();
  if (configured) return new URL(configured);
  // Not the server's own URL: under `next start` that is its bind address, not the host
  // the browser asked for.
  const host = request.headers.get("host");
  if (!host) return null;
  const proto = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim() || "http";
  try {
    return new URL(`${proto}://${host}`);
  } catch {
    return null;
  }
}

/**
 * Whether the session cookie must be `Secure` (see COOKIE_SECURE): in `auto`, everywhere
 * except plain-http loopback, where browsers would refuse to store a Secure cookie.
 */
export function secureCookieFor(request: Request): boolean {
  const mode = cookieSecureMode();
  if (mode !== "auto") return mode === "always";
  const origin = browserOrigin(request);
  if (!origin) return true;
  return !(origin.protocol === "http:" && LOOPBACK_HOSTS.has(origin.hostname));
}

/**
 * Whether the browser reached the app over HTTPS, by the same reading of the request as the
 * cookie's `Secure` choice: APP_ORIGIN's scheme, else X-Forwarded-Proto. (Not COOKIE_SECURE:
 * that setting forces the cookie's flag; it says nothing about the connection.)
 */
export function servedOverHttps(request: Request): boolean {
  return browserOrigin(request)?.protocol === "https:";
}

/** The session cookie for `token`, living exactly as long as the token does. */
export function sessionCookie(token: string, expiresAt: Date, request: Request): SessionCookie {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  return {
    name: SESSION_COOKIE,
    value: token,
    httpOnly: true,
    sameSite: "lax",
    secure: secureCookieFor(request),
    path: "/",
    maxAge,
    expires: expiresAt,
  };
}

/** A cookie that replaces the session cookie and expires at once (sign-out). */
export function clearedSessionCookie(request: Request): SessionCookie {
  return {
    name: SESSION_COOKIE,
    value: "",
    httpOnly: true,
    sameSite: "lax",
    secure: secureCookieFor(request),
    path: "/",
    maxAge: 0,
  };
}
