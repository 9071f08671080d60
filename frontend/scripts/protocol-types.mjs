// Compile the ChatKit protocol's JSON schema (written from the Python SDK by
// scripts/protocol_schema.py) into the TypeScript types the built-in chat UI uses.
//
//   node scripts/protocol-types.mjs            rewrite lib/protocol/chatkit.ts
//   node scripts/protocol-types.mjs --check    exit 1 if it is out of date
//
// `make protocol` runs both steps; tests/protocolTypes.test.ts fails when this one is stale.
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

import { compile } from "json-schema-to-typescript";

const schemaFile = fileURLToPath(new URL("../lib/protocol/chatkit.schema.json", import.meta.url));
const typesFile = fileURLToPath(new URL("../lib/protocol/chatkit.ts", import.meta.url));

/** The TypeScript for the current schema file. */
export async function protocolTypes() {
  const schema = JSON.parse(await readFile(schemaFile, "utf8"));
  return compile(schema, "ChatKitProtocol", {
    bannerComment:
      "/* The ChatKit protocol, generated from the openai-chatkit SDK's models by\n" +
      " * scripts/protocol_schema.py and frontend/scripts/protocol-types.mjs: do not edit,\n" +
      " * run `make protocol`. */",
    additionalProperties: false,
    // Every model the schema defines, also those no root reaches by name.
    unreachableDefinitions: true,
    format: true,
    style: { printWidth: 100 },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = await protocolTypes();
  if (process.argv.includes("--check")) {
    const current = await readFile(typesFile, "utf8").catch(() => "");
    if (current !== text) {
      console.error(`${typesFile} is out of date: run \`make protocol\``);
      process.exit(1);
    }
  } else {
    await writeFile(typesFile, text);
    console.log(`wrote ${typesFile}`);
  }
}
