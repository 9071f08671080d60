// Node module hooks for the widget tests, which run outside Next: `import styles from
// "./x.module.css"` gives an object naming each class the file defines after itself (as
// `.card` -> "card"), and reading a class the file does not define throws, so a misspelt
// class name fails the tests instead of rendering an element without its style.
import { readFile } from "node:fs/promises";

export async function load(url, context, nextLoad) {
  if (!url.endsWith(".module.css")) return nextLoad(url, context);
  const css = (await readFile(new URL(url), "utf8")).replace(/\/\*[\s\S]*?\*\//g, "");
  const names = [...new Set([...css.matchAll(/\.(-?[A-Za-z_][\w-]*)/g)].map((match) => match[1]))];
  const source = `
    const names = new Set(${JSON.stringify(names)});
    export default new Proxy({}, {
      get(_target, key) {
        if (typeof key !== "string") return undefined;
        if (names.has(key)) return key;
        throw new Error(${JSON.stringify(url)} + " defines no class ." + key);
      },
    });
  `;
  return { format: "module", shortCircuit: true, source };
}
