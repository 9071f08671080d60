// No import circles among the app's own files: a module never needs, even for a type, a
// module that needs it back. Each file's imports are read by TypeScript's own scanner
// (static, type-only, re-exports, side-effect and dynamic `import()`) and resolved as `tsc`
// resolves them (tsconfig.json's options, so its `@/` alias too).
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";

import ts from "typescript";

import { FRONTEND_DIR } from "./support/stack";

/** Where the app's source lives: these folders, and these files at the top. */
const SOURCE_DIRS = ["app", "components", "lib", "scripts"];
const TOP_LEVEL_FILE = /^(proxy|instrumentation|next\.config)\.[cm]?[jt]sx?$/;
const SOURCE_FILE = /\.[cm]?[jt]sx?$/;

type Graph = Map<string, string[]>;

/** The app's source files, relative to the frontend folder with "/" separators. */
function sourceFiles(): string[] {
  const files = readdirSync(FRONTEND_DIR).filter((name) => TOP_LEVEL_FILE.test(name));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(FRONTEND_DIR, dir), { withFileTypes: true })) {
      const where = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(where);
      else if (entry.isFile() && SOURCE_FILE.test(entry.name)) files.push(where);
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(path.join(FRONTEND_DIR, dir))) walk(dir);
  return files.sort();
}

/** Every module specifier `source` names: `import`, `import type`, `export … from`,
 * `import "x"`, `import("x")` (in code or in a type), and `require("x")`. */
function importedSpecifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((ref) => ref.fileName);
}

function compilerOptions(): ts.CompilerOptions {
  const configFile = path.join(FRONTEND_DIR, "tsconfig.json");
  const { config, error } = ts.readConfigFile(configFile, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, "\n"));
  return ts.parseJsonConfigFileContent(config, ts.sys, FRONTEND_DIR, undefined, configFile).options;
}

type Resolution = { kind: "app"; file: string } | { kind: "outside" } | { kind: "unresolved" };

/** Where `specifier`, imported by `importer`, leads. A package, or a stylesheet, image or
 * JSON file of the app's, is `outside` the graph; a specifier naming no file is `unresolved`. */
function resolver(known: Set<string>): (specifier: string, importer: string) => Resolution {
  const options = compilerOptions();
  const cache = ts.createModuleResolutionCache(FRONTEND_DIR, (name) => name, options);
  return (specifier, importer) => {
    const { resolvedModule } = ts.resolveModuleName(
      specifier,
      path.join(FRONTEND_DIR, importer),
      options,
      ts.sys,
      cache,
    );
    if (resolvedModule) {
      if (resolvedModule.isExternalLibraryImport) return { kind: "outside" };
      const file = path.relative(FRONTEND_DIR, resolvedModule.resolvedFileName).split(path.sep).join("/");
      return known.has(file) ? { kind: "app", file } : { kind: "outside" };
    }
    // TypeScript resolves no stylesheet (next-env.d.ts declares `*.module.css`): one that
    // is there is a leaf outside the graph.
    if (specifier.startsWith(".") && existsSync(path.resolve(FRONTEND_DIR, path.dirname(importer), specifier))) {
      return { kind: "outside" };
    }
    if (specifier.startsWith("@/") && existsSync(path.join(FRONTEND_DIR, specifier.slice(2)))) {
      return { kind: "outside" };
    }
    // Any other bare name is a package's (one that is missing is for `tsc` to report).
    if (!specifier.startsWith(".") && !specifier.startsWith("@/") && !specifier.startsWith("/")) {
      return { kind: "outside" };
    }
    return { kind: "unresolved" };
  };
}

/** The app's import graph: each source file and the app files it imports. */
function appGraph(): { graph: Graph; unresolved: string[] } {
  const files = sourceFiles();
  const resolve = resolver(new Set(files));
  const graph: Graph = new Map();
  const unresolved: string[] = [];
  for (const file of files) {
    const imports = new Set<string>();
    for (const specifier of importedSpecifiers(readFileSync(path.join(FRONTEND_DIR, file), "utf8"))) {
      const where = resolve(specifier, file);
      if (where.kind === "app") imports.add(where.file);
      else if (where.kind === "unresolved") unresolved.push(`${file}: "${specifier}"`);
    }
    graph.set(file, [...imports].sort());
  }
  return { graph, unresolved };
}

/**
 * The graph's import circles, one per knot of files that reach each other (a strongly
 * connected component, by Tarjan's algorithm): the shortest chain from the knot's first
 * file back to itself, as [a, b, …, a]. A file importing itself is a circle [a, a].
 */
function findCycles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const knots: string[][] = [];

  // Recursive: the app's graph is a few hundred files at most.
  function connect(node: string): void {
    index.set(node, index.size);
    lowLink.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next);
        lowLink.set(node, Math.min(lowLink.get(node)!, lowLink.get(next)!));
      } else if (onStack.has(next)) {
        lowLink.set(node, Math.min(lowLink.get(node)!, index.get(next)!));
      }
    }
    if (lowLink.get(node) === index.get(node)) {
      const knot: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        knot.push(member);
      } while (member !== node);
      const selfImport = (graph.get(node) ?? []).includes(node);
      if (knot.length > 1 || selfImport) knots.push(knot.sort());
    }
  }
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) connect(node);

  return knots
    .map((knot) => shortestCircle(graph, knot[0]!, new Set(knot)))
    .sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The shortest chain of imports within `knot` from `start` back to `start`. */
function shortestCircle(graph: Graph, start: string, knot: Set<string>): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    for (const next of graph.get(node) ?? []) {
      if (!knot.has(next)) continue;
      if (next === start) {
        const chain = [start];
        for (let at = node; at !== start; at = cameFrom.get(at)!) chain.splice(1, 0, at);
        return [...chain, start];
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, node);
        queue.push(next);
      }
    }
  }
  throw new Error(`${start} is in a knot with no way back to it`);
}

describe("the circle finder", () => {
  test("finds each circle, a self-import too, as a chain back to its start", () => {
    const graph: Graph = new Map([
      ["a", ["b"]],
      ["b", ["c", "e"]],
      ["c", ["a", "d"]],
      ["d", ["d"]],
      ["e", ["f"]],
      ["f", []],
      ["x", ["y", "z"]],
      ["y", ["z"]],
      ["z", ["x"]],
    ]);
    assert.deepEqual(findCycles(graph), [
      ["a", "b", "c", "a"],
      ["d", "d"],
      ["x", "z", "x"],
    ]);
  });

  test("finds none in a graph without one", () => {
    const graph: Graph = new Map([
      ["a", ["b", "c"]],
      ["b", ["c"]],
      ["c", []],
    ]);
    assert.deepEqual(findCycles(graph), []);
  });

  test("reads every kind of import, type-only ones too", () => {
    const source = [
      'import { a } from "./a";',
      'import type { B } from "./b";',
      'import { type C, c } from "./c";',
      'import "./d";',
      'export { e } from "./e";',
      'export * from "./f";',
      'export type { G } from "./g";',
      'const h = await import("./h");',
      'type I = typeof import("./i");',
      '// import { no } from "./comment";',
      'const text = "import { no } from \'./string\'";',
    ].join("\n");
    assert.deepEqual(importedSpecifiers(source).sort(), ["./a", "./b", "./c", "./d", "./e", "./f", "./g", "./h", "./i"]);
  });
});

describe("the app's imports", () => {
  const { graph, unresolved } = appGraph();

  test("are read from all of its source files", () => {
    assert.ok(graph.size >= 50, `only ${graph.size} source files found`);
    for (const file of ["app/layout.tsx", "components/Workspace.tsx", "lib/protocol/index.ts", "proxy.ts", "instrumentation.ts"]) {
      assert.ok(graph.has(file), `${file} not read`);
    }
    assert.ok(![...graph.keys()].some((file) => /^(tests|node_modules|\.next)\//.test(file)));
    // Relative, `@/`, and dynamic imports all lead to their files.
    assert.ok(graph.get("components/ChatPanel.tsx")?.includes("components/builtin/BuiltinChat.tsx"));
    assert.ok(graph.get("proxy.ts")?.includes("lib/server/securityHeaders.ts"));
    assert.ok(graph.get("instrumentation.ts")?.includes("lib/server/config.ts"));
    assert.ok(graph.get("components/builtin/BuiltinChat.tsx")?.includes("lib/protocol/index.ts"));
  });

  test("all lead to a file", () => {
    assert.deepEqual(unresolved, []);
  });

  test("make no circle", () => {
    const circles = findCycles(graph).map((chain) => chain.join(" -> "));
    assert.deepEqual(circles, [], `import circles:\n  ${circles.join("\n  ")}`);
  });
});
