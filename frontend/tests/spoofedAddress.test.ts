// Sign-in limits against a browser that makes up its own X-Forwarded-For, over real HTTP:
// the production Next.js server (`npm start`) in front of the real backend. One backend,
// two frontends: one reached by browsers directly (TRUSTED_PROXIES unset), one behind a
// reverse proxy on 127.0.0.1 (TRUSTED_PROXIES=127.0.0.1), here played by this test, which
// connects from 127.0.0.1 and appends the "browser's" address as nginx would.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { COOKIE, TEST_PASSWORD, uniqueEmail } from "./support/session";
import { startFrontend, startStack, type Stack } from "./support/stack";

// Attempts per client address: the backend's AUTH_RATE_LIMIT_ADDRESS for this file.
const PER_ADDRESS = 10;
// Failed sign-ins per (account, address): AUTH_RATE_LIMIT_ACCOUNT.
const PER_ACCOUNT_ADDRESS = 5;

let stack: Stack;
let behindProxy: { appUrl: string; stop: () => Promise<void> };

before(async () => {
  stack = await startStack(
    {},
    {
      auth_rate_limit_address: `${PER_ADDRESS}/minute`,
      auth_rate_limit_account: `${PER_ACCOUNT_ADDRESS}/minute`,
      // The backend takes the first X-Forwarded-For entry from any peer (uvicorn's `*`,
      // what docker-compose.yml once shipped), so the address it counts is exactly the
      // first one the frontend sends: these tests see the frontend's choice and nothing
      // else. The frontend must send only the address it resolved.
      forwarded_allow_ips: "*",
    },
  );
  behindProxy = await startFrontend(stack.backendUrl, { TRUSTED_PROXIES: "127.0.0.1" });
});

after(async () => {
  await behindProxy?.stop();
  await stack?.stop();
});

function login(appUrl: string, email: string, password: string, forwardedFor: string): Promise<Response> {
  return fetch(`${appUrl}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: appUrl, "x-forwarded-for": forwardedFor },
    body: JSON.stringify({ email, password }),
  });
}

describe("browsers reaching the frontend directly (no trusted proxy)", () => {
  test("40 sign-ins, each from a made-up X-Forwarded-For, are counted against the one real address", async () => {
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= 40; attempt++) {
      // A single address, a chain, and a chain that names a "proxy" on loopback: all the
      // browser's own words, so none of them may choose the address counted.
      const spoofed = [
        `203.0.113.${attempt}`,
        `198.51.100.${attempt}, 203.0.113.${attempt}`,
        `203.0.113.${attempt}, 127.0.0.1`,
      ][attempt % 3]!;
      // A new unknown account each time: only the per-address limit can refuse these.
      const response = await login(stack.appUrl, uniqueEmail(), "not the password", spoofed);
      statuses.push(response.status);
      if (response.status === 429) {
        assert.match(response.headers.get("retry-after") ?? "", /^\d+$/);
        assert.equal(((await response.json()) as { error: string }).error, "too_many_attempts");
      } else {
        await response.body?.cancel();
      }
    }
    const expected = [...Array(PER_ADDRESS).fill(401), ...Array(40 - PER_ADDRESS).fill(429)];
    assert.deepEqual(statuses, expected);
  });
});

describe("behind a reverse proxy the frontend trusts (TRUSTED_PROXIES=127.0.0.1)", () => {
  test("strangers are limited at their own addresses, whatever they put in front; the owner still signs in", async () => {
    const appUrl = behindProxy.appUrl;
    const owner = { email: uniqueEmail(), address: "10.6.6.200" };
    const registered = await fetch(`${appUrl}/api/auth/register`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: appUrl,
        "x-forwarded-for": `192.0.2.1, ${owner.address}`,
      },
      body: JSON.stringify({ name: "Owner", email: owner.email, password: TEST_PASSWORD }),
    });
    assert.equal(registered.status, 201);

    // Each stranger's browser writes what it likes ("spoofed-N" and a made-up address, new
    // every time, and even the owner's address); the proxy appends the address it saw.
    let spoof = 0;
    for (const stranger of ["10.6.6.1", "10.6.6.2", "10.6.6.3"]) {
      const statuses: number[] = [];
      for (let attempt = 0; attempt <= PER_ACCOUNT_ADDRESS; attempt++) {
        spoof++;
        const forwardedFor = `spoofed-${spoof}, 198.51.100.${spoof}, ${owner.address}, ${stranger}`;
        const response = await login(appUrl, owner.email, `wrong guess ${spoof}`, forwardedFor);
        statuses.push(response.status);
        await response.body?.cancel();
      }
      assert.deepEqual(
        statuses,
        [...Array(PER_ACCOUNT_ADDRESS).fill(401), 429],
        `stranger at ${stranger}`,
      );
    }

    // The owner's browser (also sending a header of its own) signs in from its address.
    const response = await login(appUrl, owner.email, TEST_PASSWORD, `spoofed, ${owner.address}`);
    assert.equal(response.status, 200);
    assert.ok(response.headers.getSetCookie().some((cookie) => cookie.startsWith(`${COOKIE}=ey`)));
  });
});
