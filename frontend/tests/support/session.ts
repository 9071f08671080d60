// Accounts for tests, made through the app's own register route (real JWTs, real cookies).
import { randomUUID } from "node:crypto";

export const COOKIE = "taskchat_session";

/** The password of every account the tests make: random per run, never a real one. */
export const TEST_PASSWORD = `pw-${randomUUID()}`;

export type Session = {
  /** The `Cookie` header value that carries the session. */
  cookie: string;
  token: string;
  setCookie: string;
  user: { id: string; email: string; name: string };
};

export function uniqueEmail(): string {
  return `person-${randomUUID()}@example.com`;
}

/** Register a new account through `appUrl`'s route handler and keep its cookie. */
export async function register(appUrl: string, name = "Ada Lovelace"): Promise<Session> {
  const response = await fetch(`${appUrl}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: appUrl },
    body: JSON.stringify({ name, email: uniqueEmail(), password: TEST_PASSWORD }),
  });
  if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
  const setCookie = response.headers.getSetCookie().find((value) => value.startsWith(`${COOKIE}=`));
  if (!setCookie) throw new Error("register set no session cookie");
  const token = setCookie.slice(COOKIE.length + 1).split(";")[0]!;
  const { user } = (await response.json()) as { user: Session["user"] };
  return { cookie: `${COOKIE}=${token}`, token, setCookie, user };
}

function unsignedToken(exp: number): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part({ sub: "usr_x", exp, name: "X" })}.c2ln`;
}

/** A well-formed token whose `exp` has passed (unsigned: the frontend only reads claims). */
export function expiredToken(): string {
  return unsignedToken(Math.floor(Date.now() / 1000) - 60);
}

/**
 * A well-formed token that has not expired but that the backend refuses (401), as it does a
 * revoked one: to the frontend, which reads only the claims, it looks like a live session.
 */
export function refusedToken(): string {
  return unsignedToken(Math.floor(Date.now() / 1000) + 3600);
}
