// The frontend's settings, read from the environment at request time (not at build time),
// so one build serves every deployment. Each is documented in docs/configuration.md and .env.example.
// Server code only (importing it into a client component fails the build): none of these
// reach the browser except through props a page passes.
import "server-only";

import { isChatUi, type ChatUi } from "../shared/chatUi";
import { parseTrustedProxies, type TrustedProxies } from "./clientAddress";

export const DEFAULT_CHATKIT_SCRIPT_URL =
  "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js";

export class ConfigError extends Error {
  override name = "ConfigError";
}

function read(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

function httpUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${name} must use http or https, got ${JSON.stringify(value)}`);
  }
  return url;
}

function positiveInteger(name: string, fallback: number): number {
  const value = read(name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) {
    throw new ConfigError(`${name} must be a positive whole number, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

/** Where the Taskchat backend listens, without a trailing slash (BACKEND_URL). */
export function backendUrl(): string {
  const url = httpUrl("BACKEND_URL", read("BACKEND_URL") ?? "http://127.0.0.1:8000");
  return url.toString().replace(/\/+$/, "");
}

/** How long a non-streaming call to the backend may take (BACKEND_TIMEOUT_MS). */
export function backendTimeoutMs(): number {
  return positiveInteger("BACKEND_TIMEOUT_MS", 15_000);
}

/**
 * How long the proxy waits for the backend to delete an account (ACCOUNT_DELETE_TIMEOUT_MS):
 * long, since the backend finishes a deletion it has started whether or not anyone waits.
 */
export function accountDeleteTimeoutMs(): number {
  return positiveInteger("ACCOUNT_DELETE_TIMEOUT_MS", 300_000);
}

/** Which chat UI the page shows (CHAT_UI): `auto` (the default), `chatkit` or `builtin`. */
export function chatUi(): ChatUi {
  const value = (read("CHAT_UI") ?? "auto").toLowerCase();
  if (!isChatUi(value)) {
    throw new ConfigError(`CHAT_UI must be auto, chatkit or builtin, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The longest message the backend accepts, in characters (MAX_MESSAGE_CHARS, the backend's
 * setting of the same name): the built-in composer shows the count before it is reached.
 */
export function maxMessageChars(): number {
  return positiveInteger("MAX_MESSAGE_CHARS", 20_000);
}

/**
 * The largest file a person may attach, in bytes (ATTACHMENT_MAX_BYTES, the backend's setting
 * of the same name): both composers refuse a larger one, and the upload route a larger body.
 */
export function attachmentMaxBytes(): number {
  return positiveInteger("ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024);
}

/** The ChatKit web component's script (CHATKIT_SCRIPT_URL): OpenAI's CDN unless mirrored. */
export function chatkitScriptUrl(): string {
  return httpUrl("CHATKIT_SCRIPT_URL", read("CHATKIT_SCRIPT_URL") ?? DEFAULT_CHATKIT_SCRIPT_URL)
    .toString();
}

/** The domain key registered with OpenAI for this site (CHATKIT_DOMAIN_KEY). */
export function chatkitDomainKey(): string {
  return read("CHATKIT_DOMAIN_KEY") ?? "domain_pk_localhost_dev";
}

/** How long the page waits for the ChatKit script before showing the failure state. */
export function chatkitLoadTimeoutMs(): number {
  return positiveInteger("CHATKIT_LOAD_TIMEOUT_MS", 15_000);
}

/**
 * The app's public origin (APP_ORIGIN), e.g. `https://tasks.example.com`. Unset, a request
 * is same-origin when its Origin names the host it was sent to.
 */
export function appOrigin(): string | undefined {
  const value = read("APP_ORIGIN");
  return value === undefined ? undefined : httpUrl("APP_ORIGIN", value).origin;
}

export type CookieSecureMode = "auto" | "always" | "never";

/**
 * Whether the session cookie gets `Secure` (COOKIE_SECURE): `auto` sets it everywhere
 * except plain-http localhost, where browsers would refuse to store it.
 */
export function cookieSecureMode(): CookieSecureMode {
  const value = (read("COOKIE_SECURE") ?? "auto").toLowerCase();
  if (value === "auto") return "auto";
  if (value === "true" || value === "always") return "always";
  if (value === "false" || value === "never") return "never";
  throw new ConfigError(`COOKIE_SECURE must be auto, true or false, got ${JSON.stringify(value)}`);
}

/**
 * The reverse proxies whose X-Forwarded-For is believed for the client's address
 * (TRUSTED_PROXIES: comma-separated IPs and CIDR networks; unset, none). Read once, when
 * the server starts (instrumentation.ts), so a bad value stops it there.
 */
export function trustedProxies(): TrustedProxies {
  try {
    return parseTrustedProxies(read("TRUSTED_PROXIES"));
  } catch (error) {
    throw new ConfigError(`TRUSTED_PROXIES: ${(error as Error).message}`);
  }
}
