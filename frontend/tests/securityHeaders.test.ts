// The security headers as lib/server/securityHeaders.ts builds them, directive by directive.
// (tests/csp.test.ts checks them on the real server and in a real browser.)
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { DEFAULT_CHATKIT_SCRIPT_URL } from "../lib/server/config";
import {
  PERMISSIONS_POLICY,
  STRICT_TRANSPORT_SECURITY,
  contentSecurityPolicy,
  newNonce,
  securityHeaders,
} from "../lib/server/securityHeaders";
import { secureCookieFor } from "../lib/server/session";
import { directives, nonceOf } from "./support/csp";

const saved = { ...process.env };

afterEach(() => {
  for (const name of Object.keys(process.env)) {
    if (!(name in saved)) delete process.env[name];
  }
  Object.assign(process.env, saved);
});

const CDN = "https://cdn.platform.openai.com";

test("the production policy: own scripts by origin and nonce, the ChatKit CDN, nothing inline", () => {
  const policy = directives(
    contentSecurityPolicy({ nonce: "abc123==", chatkitScriptUrl: DEFAULT_CHATKIT_SCRIPT_URL, development: false }),
  );
  assert.deepEqual(policy.get("default-src"), ["'self'"]);
  assert.deepEqual(policy.get("script-src"), ["'self'", "'nonce-abc123=='", CDN]);
  assert.deepEqual(policy.get("style-src"), ["'self'", "'unsafe-inline'"]);
  assert.deepEqual(policy.get("connect-src"), ["'self'"]);
  assert.deepEqual(policy.get("frame-src"), [CDN]);
  assert.deepEqual(policy.get("object-src"), ["'none'"]);
  assert.deepEqual(policy.get("base-uri"), ["'none'"]);
  assert.deepEqual(policy.get("form-action"), ["'self'"]);
  assert.deepEqual(policy.get("frame-ancestors"), ["'none'"]);
  assert.equal(policy.size, 9);
});

test("a mirrored ChatKit script is allowed by its origin; without one, no other origin at all", () => {
  const mirrored = directives(
    contentSecurityPolicy({
      nonce: "n",
      chatkitScriptUrl: "https://mirror.example:8443/assets/chatkit.js?v=2",
      development: false,
    }),
  );
  assert.deepEqual(mirrored.get("script-src"), ["'self'", "'nonce-n'", "https://mirror.example:8443"]);
  assert.deepEqual(mirrored.get("frame-src"), ["https://mirror.example:8443"]);

  const none = contentSecurityPolicy({ nonce: "n", chatkitScriptUrl: null, development: false });
  assert.doesNotMatch(none, /https?:/);
  assert.deepEqual(directives(none).get("frame-src"), ["'none'"]);
});

test("'unsafe-eval' only in development", () => {
  const inputs = { nonce: "n", chatkitScriptUrl: DEFAULT_CHATKIT_SCRIPT_URL };
  const development = contentSecurityPolicy({ ...inputs, development: true });
  assert.ok(directives(development).get("script-src")?.includes("'unsafe-eval'"));
  assert.equal(development.match(/unsafe-eval/g)?.length, 1);
  assert.doesNotMatch(contentSecurityPolicy({ ...inputs, development: false }), /unsafe-eval/);
});

test("nonces are 128 random bits, new every time", () => {
  const nonces = new Set(Array.from({ length: 100 }, newNonce));
  assert.equal(nonces.size, 100);
  for (const nonce of nonces) assert.equal(Buffer.from(nonce, "base64").length, 16);
});

function sentTo(host: string, headers: Record<string, string> = {}): Request {
  return new Request("http://0.0.0.0:3000/chat", { headers: { host, ...headers } });
}

test("each page's headers: a fresh nonce, Permissions-Policy, and HSTS only over HTTPS", () => {
  delete process.env.APP_ORIGIN;
  delete process.env.COOKIE_SECURE;
  delete process.env.CHATKIT_SCRIPT_URL;
  const first = securityHeaders(sentTo("tasks.example.com"));
  const second = securityHeaders(sentTo("tasks.example.com"));
  const firstNonce = nonceOf(first.get("content-security-policy"));
  assert.ok(firstNonce);
  assert.notEqual(firstNonce, nonceOf(second.get("content-security-policy")));
  assert.equal(first.get("permissions-policy"), PERMISSIONS_POLICY);
  for (const feature of ["camera", "microphone", "geolocation", "payment", "usb"]) {
    assert.ok(PERMISSIONS_POLICY.split(", ").includes(`${feature}=()`), feature);
  }

  // Plain HTTP, even where the cookie is Secure anyway (a non-loopback host): no HSTS.
  assert.equal(first.get("strict-transport-security"), null);
  assert.equal(secureCookieFor(sentTo("tasks.example.com")), true);
  // The TLS proxy says so.
  const proxied = sentTo("tasks.example.com", { "x-forwarded-proto": "https" });
  assert.equal(securityHeaders(proxied).get("strict-transport-security"), STRICT_TRANSPORT_SECURITY);
  assert.equal(securityHeaders(sentTo("localhost:3000", { "x-forwarded-proto": "http" })).get("strict-transport-security"), null);
  // APP_ORIGIN names the origin the browser uses, as it does for the cookie.
  process.env.APP_ORIGIN = "https://tasks.example.com";
  assert.equal(securityHeaders(sentTo("127.0.0.1:3000")).get("strict-transport-security"), STRICT_TRANSPORT_SECURITY);
  process.env.APP_ORIGIN = "http://tasks.lan";
  assert.equal(securityHeaders(proxied).get("strict-transport-security"), null);
  // COOKIE_SECURE forces the cookie's flag; it says nothing about the connection.
  delete process.env.APP_ORIGIN;
  process.env.COOKIE_SECURE = "true";
  assert.equal(securityHeaders(sentTo("localhost:3000")).get("strict-transport-security"), null);
});

test("CHATKIT_SCRIPT_URL decides the CDN origin in the policy", () => {
  process.env.CHATKIT_SCRIPT_URL = "https://mirror.example/chatkit.js";
  const policy = directives(securityHeaders(sentTo("localhost:3000")).get("content-security-policy")!);
  assert.ok(policy.get("script-src")?.includes("https://mirror.example"));
  assert.ok(!policy.get("script-src")?.includes(CDN));
});

test("CHAT_UI=builtin: no page's policy names OpenAI's CDN; auto and chatkit do", () => {
  const policyFor = (chatUi: string) => {
    process.env.CHAT_UI = chatUi;
    return securityHeaders(sentTo("localhost:3000")).get("content-security-policy")!;
  };
  assert.ok(!policyFor("builtin").includes("openai.com"));
  assert.deepEqual(directives(policyFor("builtin")).get("frame-src"), ["'none'"]);
  assert.ok(directives(policyFor("auto")).get("script-src")!.includes(CDN));
  assert.ok(directives(policyFor("chatkit")).get("script-src")!.includes(CDN));
  process.env.CHAT_UI = "sometimes";
  assert.throws(() => securityHeaders(sentTo("localhost:3000")), /CHAT_UI must be auto, chatkit or builtin/);
});

test("`next dev` (NODE_ENV=development) gets 'unsafe-eval'; a production server does not", () => {
  const env = process.env as Record<string, string | undefined>;
  env.NODE_ENV = "development";
  assert.match(securityHeaders(sentTo("localhost:3000")).get("content-security-policy")!, /'unsafe-eval'/);
  env.NODE_ENV = "production";
  assert.doesNotMatch(securityHeaders(sentTo("localhost:3000")).get("content-security-policy")!, /unsafe-eval/);
});
