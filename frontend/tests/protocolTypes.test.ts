// The built-in UI's protocol types are compiled from the committed schema, unchanged
// (frontend/scripts/protocol-types.mjs; the schema's own freshness is a backend test).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";

// @ts-expect-error: a plain ES module script with no type declarations.
import { protocolTypes } from "../scripts/protocol-types.mjs";

test("lib/protocol/chatkit.ts is what the schema compiles to: run `make protocol` if not", async () => {
  const committed = await readFile(new URL("../lib/protocol/chatkit.ts", import.meta.url), "utf8");
  const compiled = (await protocolTypes()) as string;
  assert.equal(committed, compiled);
});
