// The frontend's settings: clear errors for bad values, and docs that name every one.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, test } from "node:test";

// lib/server/* starts with `import "server-only"`, which throws unless Node resolves with the
// react-server condition: `npm test` runs these files with --conditions=react-server.
import {
  ConfigError,
  appOrigin,
  backendUrl,
  chatkitLoadTimeoutMs,
  cookieSecureMode,
} from "../lib/server/config";
import { secureCookieFor } from "../lib/server/session";
import { FRONTEND_DIR } from "./support/stack";

const saved = { ...process.env };

afterEach(() => {
  for (const name of Object.keys(process.env)) {
    if (!(name in saved)) delete process.env[name];
  }
  Object.assign(process.env, saved);
});

test("defaults need no environment", () => {
  delete process.env.BACKEND_URL;
  delete process.env.COOKIE_SECURE;
  assert.equal(backendUrl(), "http://127.0.0.1:8000");
  assert.equal(cookieSecureMode(), "auto");
  assert.equal(appOrigin(), undefined);
});

test("a bad value names the variable", () => {
  process.env.BACKEND_URL = "backend:8000";
  assert.throws(backendUrl, (error: Error) => error instanceof ConfigError && /BACKEND_URL/.test(error.message));
  process.env.CHATKIT_LOAD_TIMEOUT_MS = "soon";
  assert.throws(chatkitLoadTimeoutMs, /CHATKIT_LOAD_TIMEOUT_MS must be a positive whole number/);
  process.env.COOKIE_SECURE = "maybe";
  assert.throws(cookieSecureMode, /COOKIE_SECURE must be auto, true or false/);
});

test("BACKEND_URL loses its trailing slash; APP_ORIGIN keeps only the origin", () => {
  process.env.BACKEND_URL = "http://backend:8000/";
  assert.equal(backendUrl(), "http://backend:8000");
  process.env.APP_ORIGIN = "https://tasks.example.com/some/path";
  assert.equal(appOrigin(), "https://tasks.example.com");
});

function sentTo(host: string, headers: Record<string, string> = {}): Request {
  // The server's own URL is its bind address; only the headers say what the browser used.
  return new Request("http://0.0.0.0:3000/api/auth/login", { headers: { host, ...headers } });
}

test("the cookie is Secure everywhere but plain-http localhost, unless told otherwise", () => {
  delete process.env.COOKIE_SECURE;
  delete process.env.APP_ORIGIN;
  assert.equal(secureCookieFor(sentTo("localhost:3000")), false);
  assert.equal(secureCookieFor(sentTo("127.0.0.1:3000")), false);
  assert.equal(secureCookieFor(sentTo("[::1]:3000")), false);
  assert.equal(secureCookieFor(sentTo("localhost:3000", { "x-forwarded-proto": "https" })), true);
  // Behind a TLS proxy that sends no X-Forwarded-Proto: still Secure.
  assert.equal(secureCookieFor(sentTo("tasks.example.com")), true);
  process.env.APP_ORIGIN = "https://tasks.example.com";
  assert.equal(secureCookieFor(sentTo("127.0.0.1:3000")), true);
  delete process.env.APP_ORIGIN;
  process.env.COOKIE_SECURE = "false";
  assert.equal(secureCookieFor(sentTo("tasks.example.com")), false);
  process.env.COOKIE_SECURE = "true";
  assert.equal(secureCookieFor(sentTo("localhost:3000")), true);
});

test("docs/configuration.md and .env.example document every setting lib/server/config.ts reads", () => {
  const source = readFileSync(path.join(FRONTEND_DIR, "lib", "server", "config.ts"), "utf8");
  const names = [...source.matchAll(/(?:read|positiveInteger)\("([A-Z_]+)"/g)].map((match) => match[1]!);
  assert.ok(names.length >= 7, `found only ${names.join(", ")}`);
  const root = path.resolve(FRONTEND_DIR, "..");
  const docs = readFileSync(path.join(root, "docs", "configuration.md"), "utf8");
  const example = readFileSync(path.join(root, ".env.example"), "utf8");
  for (const name of new Set(names)) {
    assert.ok(docs.includes(`\`${name}\``), `${name} missing from docs/configuration.md`);
    assert.ok(example.includes(`\n${name}=`), `${name} missing from .env.example`);
  }
});
