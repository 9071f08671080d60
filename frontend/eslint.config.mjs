// ESLint (flat config): Next's core-web-vitals rules (Next, React, React Hooks, imports,
// accessibility) and its TypeScript rules (typescript-eslint's recommended), as
// eslint-config-next 16 sets them up. `npm run lint` fails on any warning.
import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  globalIgnores([
    // Built and installed files, and the file Next writes for its types.
    ".next/**",
    "node_modules/**",
    "next-env.d.ts",
    // A labelled stand-in for the ChatKit CDN script, written as plain browser JavaScript;
    // it is a test double, not part of the app.
    "tests/stub/**",
  ]),
]);
