// How the client's address is decided (lib/server/clientAddress.ts), and the hook that
// puts it on every request (lib/server/clientAddressHook.ts) on a real Node HTTP server.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";

import { upstreamHeaders } from "../lib/server/backend";
import { clientAddress, normalizeAddress, parseTrustedProxies } from "../lib/server/clientAddress";
import {
  STAMP_HEADER,
  installClientAddressHook,
  resolvedClientAddress,
} from "../lib/server/clientAddressHook";
import { ConfigError, trustedProxies } from "../lib/server/config";

const none = parseTrustedProxies(undefined);
const loopback = parseTrustedProxies("127.0.0.1, ::1");
const network = parseTrustedProxies("172.30.0.0/16,fd00:abcd::/32");

describe("normalizeAddress", () => {
  test("one spelling per address", () => {
    assert.equal(normalizeAddress("203.0.113.7"), "203.0.113.7");
    assert.equal(normalizeAddress(" 203.0.113.7 "), "203.0.113.7");
    assert.equal(normalizeAddress("203.0.113.7:51234"), "203.0.113.7");
    assert.equal(normalizeAddress("::ffff:127.0.0.1"), "127.0.0.1");
    assert.equal(normalizeAddress("::FFFF:7f00:1"), "127.0.0.1");
    assert.equal(normalizeAddress("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
    assert.equal(normalizeAddress("[2001:db8::1]"), "2001:db8::1");
    assert.equal(normalizeAddress("[2001:db8::1]:443"), "2001:db8::1");
    assert.equal(normalizeAddress("fe80::1%eth0"), "fe80::1");
  });

  test("anything that is not an IP address is null", () => {
    for (const value of ["", "unknown", "spoofed", "_hidden", "example.com", "1.2.3", "01.2.3.4", "0x7f.0.0.1", "1.2.3.4.5", "[::1", "256.1.1.1", "1.2.3.4:port"]) {
      assert.equal(normalizeAddress(value), null, value);
    }
  });
});

describe("parseTrustedProxies", () => {
  test("addresses and networks, IPv4 and IPv6, blanks ignored", () => {
    assert.deepEqual(parseTrustedProxies(" 127.0.0.1 , 172.30.0.0/16,, fd00::/8 ").entries, [
      "127.0.0.1",
      "172.30.0.0/16",
      "fd00::/8",
    ]);
    assert.deepEqual(parseTrustedProxies("").entries, []);
    assert.deepEqual(parseTrustedProxies(" None ").entries, []);
    assert.equal(clientAddress("127.0.0.1", "10.6.6.1", parseTrustedProxies("none")), "127.0.0.1");
  });

  test("a bad entry is refused, by name", () => {
    for (const value of ["*", "none", "localhost", "10.0.0.1:80", "[::1]", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8/8", "fd00::/129", "fe80::1%eth0"]) {
      assert.throws(() => parseTrustedProxies(`127.0.0.1,${value}`), Error, value);
    }
    assert.throws(() => parseTrustedProxies("*"), /would believe any X-Forwarded-For/);
  });

  test("TRUSTED_PROXIES: a ConfigError that names the setting", () => {
    const saved = process.env.TRUSTED_PROXIES;
    try {
      process.env.TRUSTED_PROXIES = "10.0.0.0/8, proxy.internal";
      assert.throws(
        trustedProxies,
        (error: Error) => error instanceof ConfigError && /^TRUSTED_PROXIES: "proxy\.internal"/.test(error.message),
      );
      delete process.env.TRUSTED_PROXIES;
      assert.deepEqual(trustedProxies().entries, []);
    } finally {
      if (saved === undefined) delete process.env.TRUSTED_PROXIES;
      else process.env.TRUSTED_PROXIES = saved;
    }
  });
});

describe("clientAddress", () => {
  test("trusting no proxy, the peer is the client whatever the header says", () => {
    assert.equal(clientAddress("198.51.100.9", "203.0.113.7", none), "198.51.100.9");
    assert.equal(clientAddress("127.0.0.1", "203.0.113.7, 127.0.0.1", none), "127.0.0.1");
    assert.equal(clientAddress("::ffff:127.0.0.1", "203.0.113.7", none), "127.0.0.1");
    assert.equal(clientAddress("2001:db8::5", undefined, none), "2001:db8::5");
  });

  test("a peer that is not a trusted proxy is the client, even with proxies configured", () => {
    assert.equal(clientAddress("198.51.100.9", "10.6.6.1", loopback), "198.51.100.9");
    assert.equal(clientAddress("172.31.0.2", "10.6.6.1", network), "172.31.0.2");
  });

  test("behind a trusted proxy, the address it appended; the browser's entries to its left are ignored", () => {
    assert.equal(clientAddress("127.0.0.1", "10.6.6.1", loopback), "10.6.6.1");
    assert.equal(clientAddress("127.0.0.1", "spoofed, 203.0.113.1, 10.6.6.1", loopback), "10.6.6.1");
    // Also when the browser's own entries name a trusted proxy.
    assert.equal(clientAddress("127.0.0.1", "127.0.0.1, 10.6.6.1", loopback), "10.6.6.1");
    assert.equal(clientAddress("::ffff:127.0.0.1", "10.6.6.1", loopback), "10.6.6.1");
    assert.equal(clientAddress("::1", "[2001:db8::7]:5000", loopback), "2001:db8::7");
  });

  test("a chain of trusted proxies is walked from the right to the first address not one", () => {
    assert.equal(clientAddress("172.30.0.1", "10.6.6.1, 172.30.5.5, 172.30.0.9", network), "10.6.6.1");
    assert.equal(clientAddress("172.30.0.1", "10.6.6.6, 10.6.6.1, 172.30.5.5", network), "10.6.6.1");
    assert.equal(clientAddress("fd00:abcd::1", "2001:db8::1, fd00:abcd::2", network), "2001:db8::1");
  });

  test("an unreadable entry where the address should be: the last trusted proxy is counted", () => {
    assert.equal(clientAddress("127.0.0.1", "10.6.6.1, unknown", loopback), "127.0.0.1");
    assert.equal(clientAddress("172.30.0.1", "10.6.6.1, , 172.30.0.9", network), "172.30.0.9");
    assert.equal(clientAddress("127.0.0.1", "10.6.6.1,", loopback), "127.0.0.1");
  });

  test("a trusted peer with no header, or only trusted proxies in it, is itself the client", () => {
    assert.equal(clientAddress("127.0.0.1", undefined, loopback), "127.0.0.1");
    assert.equal(clientAddress("127.0.0.1", "", loopback), "127.0.0.1");
    assert.equal(clientAddress("172.30.0.1", "172.30.0.7, 172.30.0.9", network), "172.30.0.7");
  });

  test("an unknown peer (the socket closed) has no address", () => {
    assert.equal(clientAddress(undefined, "10.6.6.1", loopback), null);
  });
});

describe("the hook on a real HTTP server", () => {
  let url: string;
  let seen: IncomingHttpHeaders[];
  const server = createServer((request, response) => {
    seen.push(request.headers);
    // Handed on as a route handler would get it: a Request made from Node's headers.
    const forwarded = new Request(url, { headers: request.headers as Record<string, string> });
    response.end(JSON.stringify({ address: resolvedClientAddress(forwarded) }));
  });

  async function addressFor(headers: Record<string, string>): Promise<string | null> {
    const response = await fetch(url, { headers });
    return ((await response.json()) as { address: string | null }).address;
  }

  before(async () => {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  after(() => {
    server.close();
  });

  test("before it is installed, nothing the browser sends is an address", async () => {
    seen = [];
    assert.equal(await addressFor({ "x-forwarded-for": "203.0.113.7" }), null);
    assert.equal(await addressFor({ "x-forwarded-for": "203.0.113.7", [STAMP_HEADER]: "guess" }), null);
  });

  test("installed with no trusted proxy: the peer, stamped; a guessed stamp is overwritten", async () => {
    delete process.env.TRUSTED_PROXIES;
    installClientAddressHook();
    seen = [];
    assert.equal(await addressFor({ "x-forwarded-for": "203.0.113.7" }), "127.0.0.1");
    assert.equal(await addressFor({ "x-forwarded-for": "203.0.113.7", [STAMP_HEADER]: "guess" }), "127.0.0.1");
    assert.equal(seen[0]!["x-forwarded-for"], "127.0.0.1");
    assert.notEqual(seen[1]![STAMP_HEADER], "guess");
  });

  test("installed again trusting loopback: the proxy's entry, and still one listener", async () => {
    process.env.TRUSTED_PROXIES = "127.0.0.1";
    try {
      installClientAddressHook();
    } finally {
      delete process.env.TRUSTED_PROXIES;
    }
    seen = [];
    assert.equal(await addressFor({ "x-forwarded-for": "spoofed, 10.6.6.1" }), "10.6.6.1");
    // Were the first listener still subscribed, it would have run first and replaced the
    // header with the peer's address before this one read it.
    assert.equal(seen[0]!["x-forwarded-for"], "10.6.6.1");
  });

  test("the backend gets the resolved address only, and none from an unstamped request", async () => {
    const stamped = new Request(url, { headers: { "x-forwarded-for": "10.6.6.1", [STAMP_HEADER]: "wrong" } });
    assert.equal(upstreamHeaders(stamped).get("x-forwarded-for"), null);
    seen = [];
    await addressFor({ "x-forwarded-for": "spoofed, 10.6.6.1" });
    const real = new Request(url, { headers: seen[0] as Record<string, string> });
    const sent = upstreamHeaders(real);
    assert.equal(sent.get("x-forwarded-for"), "10.6.6.1");
    assert.equal(sent.get(STAMP_HEADER), null);
  });
});
