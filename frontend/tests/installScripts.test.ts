// npm 11 skips a dependency's install scripts unless package.json's `allowScripts` decides
// for it, and warns on every install about each one left undecided. Every package of the
// lockfile that has an install script must be decided, so `make install` stays quiet.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

import { FRONTEND_DIR } from "./support/stack";

type Lockfile = { packages: Record<string, { hasInstallScript?: boolean }> };
type PackageJson = { allowScripts?: Record<string, boolean> };

function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(FRONTEND_DIR, name), "utf8")) as T;
}

test("every locked package with an install script is allowed or denied in package.json", () => {
  const lock = readJson<Lockfile>("package-lock.json");
  const decided = readJson<PackageJson>("package.json").allowScripts ?? {};
  const withScripts = Object.entries(lock.packages)
    .filter(([, entry]) => entry.hasInstallScript)
    .map(([where]) => where.slice(where.lastIndexOf("node_modules/") + "node_modules/".length));
  assert.ok(withScripts.includes("esbuild"), "the lockfile no longer installs esbuild's script");
  assert.deepEqual(
    withScripts.filter((name) => !(name in decided)),
    [],
    "undecided install scripts: run `npm install-scripts ls`",
  );
});

test("esbuild's postinstall stays off: its binary comes from its platform package", () => {
  // The postinstall only checks that the optional @esbuild/<platform> package is there
  // (downloading it from the registry if not) and swaps the `esbuild` command's JS shim
  // for the binary. tsx calls esbuild's JS API, which finds the platform package itself.
  assert.equal(readJson<PackageJson>("package.json").allowScripts?.esbuild, false);
});
