// Puts the client's address (lib/server/clientAddress.ts) on every request, where route
// handlers can read it. They cannot see the connection: Next hands them a Request made
// from the headers, where the browser's own X-Forwarded-For would still be (Next sets the
// header only when the request has none).
//
// Node publishes each request on the `http.server.request.start` diagnostics channel,
// with its socket, before the server's request listener (Next) sees it. There the header
// is replaced with the one resolved address, and a stamp (a secret made once per process)
// is added to say it was. A request that arrived before the subscription (while the server
// was starting) has no stamp; whatever X-Forwarded-For it carries is then ignored.
import "server-only";

import { randomBytes, timingSafeEqual } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";

import { clientAddress } from "./clientAddress";
import { ConfigError, trustedProxies } from "./config";

const CHANNEL = "http.server.request.start";
export const STAMP_HEADER = "x-taskchat-address-stamp";

type Installed = { stamp: string; listener: (message: unknown) => void };

// On globalThis, not in this module: instrumentation.ts and the route handlers are bundled
// separately, each with its own copy of this module, in the one process.
const INSTALLED = Symbol.for("taskchat.clientAddressHook");
type Holder = { [INSTALLED]?: Installed };

/**
 * Start rewriting X-Forwarded-For on every request this process serves. Reads
 * TRUSTED_PROXIES now, so a bad value stops the server at start (ConfigError).
 */
export function installClientAddressHook(): void {
  const trusted = trustedProxies();
  const holder = globalThis as Holder;
  const previous = holder[INSTALLED];
  // Called again (`next dev` reloads instrumentation): replace, never stack, listeners.
  if (previous) unsubscribe(CHANNEL, previous.listener);
  const stamp = previous?.stamp ?? randomBytes(32).toString("base64url");
  const listener = (message: unknown): void => {
    const { request, socket } = message as { request: IncomingMessage; socket: Socket };
    // Node joins repeated X-Forwarded-For headers with commas (the type allows an array).
    const given = request.headers["x-forwarded-for"];
    const forwardedFor = Array.isArray(given) ? given.join(",") : given;
    const address = clientAddress(socket.remoteAddress, forwardedFor, trusted);
    if (address === null) delete request.headers["x-forwarded-for"];
    else request.headers["x-forwarded-for"] = address;
    request.headers[STAMP_HEADER] = stamp;
  };
  subscribe(CHANNEL, listener);
  holder[INSTALLED] = { stamp, listener };
}

/** installClientAddressHook, for instrumentation.ts: a bad TRUSTED_PROXIES ends the process. */
export function startClientAddressHook(): void {
  try {
    installClientAddressHook();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Next would log the error and keep running, answering every request with a 500:
    // stop instead, saying why.
    console.error(`Taskchat cannot start: ${error.message}`);
    process.exit(1);
  }
}

let warned = false;

/**
 * The client's address as the hook resolved it, or null when the hook did not see this
 * request (no stamp, or a browser's guess at one): then nothing the browser sent is used.
 */
export function resolvedClientAddress(request: Request): string | null {
  const installed = (globalThis as Holder)[INSTALLED];
  const given = request.headers.get(STAMP_HEADER);
  if (installed && given !== null) {
    const expected = Buffer.from(installed.stamp);
    const actual = Buffer.from(given);
    if (actual.length === expected.length && timingSafeEqual(actual, expected)) {
      return request.headers.get("x-forwarded-for");
    }
  }
  if (!installed && !warned) {
    warned = true;
    console.warn(
      "taskchat: the client-address hook is not installed (instrumentation.ts did not run); " +
        "sign-ins are counted under this server's own address",
    );
  }
  return null;
}
