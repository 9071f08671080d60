// Which address a request comes from, for the backend's per-address sign-in limits.
//
// The connection's peer is the only thing a browser cannot choose. X-Forwarded-For is
// believed only as far as proxies we were told to trust wrote it. Each proxy appends the
// address it saw: when the peer is a trusted proxy, the last entry is its word; while that
// entry names another trusted proxy, the one before is that proxy's word, and so on. The
// first entry that is not a trusted proxy is the client, as the nearest trusted proxy saw
// it. Entries left of it came from the browser (or proxies we know nothing of), and are
// never looked at.
//
// Pure functions (no settings, no I/O), so the rules are tested directly;
// lib/server/clientAddressHook.ts applies them to every request the server receives.
import { BlockList, isIP } from "node:net";

/** The reverse proxies whose X-Forwarded-For entries are believed (TRUSTED_PROXIES). */
export type TrustedProxies = {
  /** As configured, for messages. */
  readonly entries: readonly string[];
  readonly list: BlockList;
};

// `a.b.c.d:port` and `[v6]:port`: some proxies (Azure's, for one) append the port too.
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const BRACKETED_IPV6 = /^\[([^\]]+)\](?::\d{1,5})?$/;
// An IPv4 address in IPv6 clothing, as the URL parser writes it (hex). A dual-stack
// socket reports IPv4 peers this way: `::ffff:127.0.0.1`.
const MAPPED_IPV4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * `value` as one canonical address (`::ffff:127.0.0.1` as `127.0.0.1`, IPv6 lowercase and
 * compressed, no port, no brackets, no zone), or null when it is not an IP address at all
 * (`unknown`, a host name, an RFC 7239 obfuscated identifier, garbage). One client must
 * not be counted under two spellings of its address.
 */
export function normalizeAddress(value: string): string | null {
  let address = value.trim();
  const withPort = IPV4_WITH_PORT.exec(address);
  if (withPort) address = withPort[1]!;
  const bracketed = BRACKETED_IPV6.exec(address);
  if (bracketed) address = bracketed[1]!;
  const family = isIP(address);
  if (family === 4) return address;
  if (family !== 6) return null;
  // A zone (`fe80::1%eth0`) names an interface of the host that saw it, not the client.
  address = address.split("%")[0]!;
  let canonical: string;
  try {
    canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
  const mapped = MAPPED_IPV4.exec(canonical);
  if (!mapped) return canonical;
  const high = parseInt(mapped[1]!, 16);
  const low = parseInt(mapped[2]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/**
 * TRUSTED_PROXIES' value: comma-separated addresses and CIDR networks (`127.0.0.1`,
 * `172.16.0.0/16`, `::1`, `fd00::/8`). Empty, unset or `none`: trust none (`none` for
 * Docker Compose, which fills an empty value with its network's gateway). Throws, naming
 * the bad entry, on anything else: a typo must stop the server at start, not quietly
 * trust nobody (or everybody). `*` is refused: it would let every browser choose its address.
 */
export function parseTrustedProxies(value: string | undefined): TrustedProxies {
  const list = new BlockList();
  if (value?.trim().toLowerCase() === "none") return { entries: [], list };
  const entries = (value ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (entry === "*") {
      throw new Error(
        "* would believe any X-Forwarded-For, a browser's own included; name the proxies' addresses or network (e.g. 172.16.86.0/24)",
      );
    }
    const [address, prefix, extra] = entry.split("/") as [string, string?, string?];
    // Strictly an address: no port, brackets or zone, which X-Forwarded-For entries may
    // carry but a setting naming proxies has no use for.
    const normalized = isIP(address) && !address.includes("%") ? normalizeAddress(address) : null;
    if (normalized === null) {
      throw new Error(`${JSON.stringify(entry)} is not an IP address or CIDR network`);
    }
    const type = isIP(normalized) === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) {
      list.addAddress(normalized, type);
      continue;
    }
    const bits = Number(prefix);
    const most = type === "ipv4" ? 32 : 128;
    if (extra !== undefined || !/^\d{1,3}$/.test(prefix) || bits > most) {
      throw new Error(`${JSON.stringify(entry)} has a bad network prefix (0-${most} after the /)`);
    }
    list.addSubnet(normalized, bits, type);
  }
  return { entries, list };
}

function trusts(trusted: TrustedProxies, address: string): boolean {
  return trusted.list.check(address, isIP(address) === 4 ? "ipv4" : "ipv6");
}

/**
 * The client's address: `peer` (the socket's remote address) unless the peer is a trusted
 * proxy; then X-Forwarded-For (`forwardedFor`, every header's entries in order, joined
 * with commas) read from the right, skipping trusted proxies, up to the first address that
 * is not one. When that entry is not an address, the last trusted proxy is the answer: its
 * clients are counted together rather than let an unreadable entry choose. When every
 * entry is a trusted proxy, the leftmost is (a proxy made the request itself). Null only
 * when the peer is unknown (the socket already closed).
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trusted: TrustedProxies,
): string | null {
  let client = peer === undefined ? null : normalizeAddress(peer);
  if (client === null || !trusts(trusted, client) || !forwardedFor) return client;
  const hops = forwardedFor.split(",");
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = normalizeAddress(hops[index]!);
    if (hop === null) return client;
    client = hop;
    if (!trusts(trusted, hop)) return hop;
  }
  return client;
}
