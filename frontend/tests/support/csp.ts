// Reading a Content-Security-Policy header in tests.
import assert from "node:assert/strict";

/** A policy as a map from directive to its sources; a directive named twice fails. */
export function directives(policy: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of policy.split(";")) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (!name) continue;
    assert.ok(!map.has(name), `${name} appears twice in ${policy}`);
    map.set(name, sources);
  }
  return map;
}

/** The nonce in a policy's script-src, if it has one. */
export function nonceOf(policy: string | null): string | undefined {
  return /'nonce-([^']+)'/.exec(policy ?? "")?.[1];
}
