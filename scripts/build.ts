/**
 * `npm run build` (and `npm pack` / `npm publish`, through `prepack`): the package's compiled form in `dist/`, which
 * Node ≥ 20, Bun and Deno all run. In the repository the TypeScript sources run directly; nothing there needs this.
 *
 *   1. `tsc -p tsconfig.build.json`: every `.ts` under the product folders (every top-level folder but `fixtures/`,
 *      `scripts/` and build outputs; `*.test.ts` excluded) → ESM `.js` + `.d.ts`, relative `.ts` specifiers
 *      rewritten to `.js`, dynamic `import()` included. A new module or folder is built without editing anything.
 *      Declaration files keep the `.ts` specifiers tsc leaves in them (TS ≥ 5.7 does not rewrite those); they are
 *      rewritten to `.js` too, the form every TypeScript consumer and Deno resolve to the `.d.ts`.
 *   2. Test support out: `dist/fixtures/` (emitted because some product module imports it), then, transitively,
 *      every module whose static imports reach something removed: such a module could not load from the package.
 *      A literal dynamic `import()` of a removed module is allowed (the caller handles its absence, as parity's
 *      generator-based conversion cases do) and listed.
 *   3. The demo's data (`bin/demo_data.ts`: tiny checkpoint, clips, upstream's codes, found through the reference
 *      set's cases.json) → `dist/demo/`.
 *   4. Checks: every `exports` target and the bin's entry exist, no test file is there, and every relative import
 *      of every remaining module resolves to a file that is there.
 */
import { spawnSync } from "node:child_process";
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { openSafetensors, writeSafetensors } from "../convert/mod.ts";
import { referenceIndex } from "../parity/reference.ts";
import { demoFiles } from "../bin/demo_data.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");
/** The bin's compiled entry, imported by bin/xcodec2.js. */
const BIN_ENTRY = "dist/bin/xcodec2.js";

class BuildError extends Error {
  override readonly name = "BuildError";
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...await filesUnder(p));
    else out.push(p);
  }
  return out;
}

const isModule = (f: string) => f.endsWith(".js") || f.endsWith(".d.ts");

const FROM_CLAUSE = /((?:^|[;\n}])\s*(?:import|export)\s*(?:type\s+)?(?:[\w*${}\s,]+?\s*from\s*)?)(["'])([^"']+)\2/g;
const IMPORT_CALL = /(\bimport\(\s*)(["'])([^"']+)\2(\s*\))/g;
const isRelative = (s: string) => s.startsWith("./") || s.startsWith("../");

/** Relative specifiers a module imports: statically (incl. `export … from` and .d.ts type imports) and dynamically. */
function relativeImports(file: string, text: string): { statics: string[]; dynamics: string[] } {
  const statics: string[] = [];
  const dynamics: string[] = [];
  for (const m of text.matchAll(FROM_CLAUSE)) statics.push(m[3]);
  for (const m of text.matchAll(IMPORT_CALL)) {
    // in a declaration file, import("…") is a type reference: it must resolve like a static import
    (file.endsWith(".d.ts") ? statics : dynamics).push(m[3]);
  }
  return { statics: statics.filter(isRelative), dynamics: dynamics.filter(isRelative) };
}

/** `spec` as imported from `file`, as a path; a `.js` specifier's declaration file for a `.d.ts` importer. */
function target(file: string, spec: string): string {
  const p = resolve(dirname(file), spec);
  return file.endsWith(".d.ts") && p.endsWith(".js") ? p.slice(0, -3) + ".d.ts" : p;
}

function compile(): void {
  const tsc = join(ROOT, "node_modules", ".bin", "tsc");
  const r = spawnSync(tsc, ["-p", join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });
  if (r.status !== 0) throw new BuildError(`tsc -p tsconfig.build.json failed (exit ${r.status ?? r.signal})`);
}

/** Relative `.ts` specifiers of every declaration file → `.js`. */
async function rewriteDeclarationSpecifiers(): Promise<void> {
  const toJs = (spec: string) => (isRelative(spec) && /(?<!\.d)\.ts$/.test(spec) ? spec.slice(0, -3) + ".js" : spec);
  for (const f of (await filesUnder(DIST)).filter((f) => f.endsWith(".d.ts"))) {
    const text = await readFile(f, "utf8");
    const out = text
      .replace(FROM_CLAUSE, (_m, head, q, spec) => `${head}${q}${toJs(spec)}${q}`)
      .replace(IMPORT_CALL, (_m, head, q, spec, tail) => `${head}${q}${toJs(spec)}${q}${tail}`);
    if (out !== text) await writeFile(f, out);
  }
}

/** Removes dist/fixtures and every module that statically depends on a removed one; returns the removed paths. */
async function pruneTestSupport(): Promise<Set<string>> {
  const removed = new Set<string>();
  const fixtures = join(DIST, "fixtures");
  if (existsSync(fixtures)) {
    for (const f of await filesUnder(fixtures)) removed.add(f);
    await rm(fixtures, { recursive: true });
  }
  const modules = new Map<string, string[]>();
  for (const f of (await filesUnder(DIST)).filter(isModule)) {
    modules.set(f, relativeImports(f, await readFile(f, "utf8")).statics.map((s) => target(f, s)));
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const [f, deps] of modules) {
      if (deps.some((d) => removed.has(d))) {
        removed.add(f);
        modules.delete(f);
        changed = true;
      }
    }
  }
  for (const f of removed) await rm(f, { force: true });
  // a .js without its .d.ts (or the reverse) would be half a module
  for (const f of removed) {
    const twin = f.endsWith(".d.ts") ? f.slice(0, -5) + ".js" : f.endsWith(".js") ? f.slice(0, -3) + ".d.ts" : "";
    if (twin && existsSync(twin)) {
      removed.add(twin);
      await rm(twin);
    }
  }
  return removed;
}

/** The demo's files, copied from the reference set; a case's tensor file keeps only the tensors the demo reads. */
async function copyDemoData(): Promise<void> {
  const index = referenceIndex();
  for (const { file: rel, tensors: keep } of demoFiles(index)) {
    const from = join(index.root, rel);
    const to = join(DIST, "demo", rel);
    await mkdir(dirname(to), { recursive: true });
    if (!keep) {
      await copyFile(from, to);
      continue;
    }
    const f = await openSafetensors(from);
    try {
      const tensors = [];
      for (const name of keep) {
        const info = f.info(name);
        if (!info) throw new BuildError(`${from}: no tensor ${name}, which the demo reads`);
        tensors.push({ name, dtype: info.dtype, shape: info.shape, data: await f.read(name) });
      }
      await writeSafetensors(to, tensors, { metadata: { ...f.metadata } });
    } finally {
      await f.close();
    }
  }
}

/** Every path `package.json` promises (exports, types, the bin's entry). */
async function promisedFiles(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
  const out = [BIN_ENTRY];
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      if (v.startsWith("./dist/")) out.push(v.slice(2));
    } else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(pkg.exports);
  walk(pkg.types);
  walk(pkg.main);
  return out;
}

async function check(removed: Set<string>): Promise<string[]> {
  const problems: string[] = [];
  for (const rel of await promisedFiles()) {
    if (!existsSync(join(ROOT, rel))) problems.push(`package.json names ${rel}, which the build did not produce`);
  }
  const optional: string[] = [];
  for (const f of await filesUnder(DIST)) {
    const rel = relative(ROOT, f).split(sep).join("/");
    if (/\.test\.(js|d\.ts)$/.test(rel)) problems.push(`${rel} is a test`);
    if (!isModule(f)) continue;
    const { statics, dynamics } = relativeImports(f, await readFile(f, "utf8"));
    for (const s of statics) {
      if (!existsSync(target(f, s))) problems.push(`${rel} imports ${s}, which is not in dist/`);
    }
    for (const s of dynamics) {
      const t = target(f, s);
      if (existsSync(t)) continue;
      if (removed.has(t)) optional.push(`${rel} → ${s}`);
      else problems.push(`${rel} imports ${s} dynamically, which is not in dist/`);
    }
  }
  if (problems.length) throw new BuildError(`dist/ is not a working package:\n  ${problems.join("\n  ")}`);
  return optional;
}

async function main(): Promise<void> {
  await rm(DIST, { recursive: true, force: true });
  compile();
  await rewriteDeclarationSpecifiers();
  const removed = await pruneTestSupport();
  await copyDemoData();
  const optional = await check(removed);
  const shown = [...removed].filter((f) => !f.startsWith(join(DIST, "fixtures") + sep) && f.endsWith(".js"));
  const files = await filesUnder(DIST);
  console.log(
    `dist/: ${files.length} files; test support left out: dist/fixtures/${
      shown.length ? ` and, because they import it, ${shown.map((f) => relative(DIST, f)).join(", ")}` : ""
    }`,
  );
  for (const o of optional) console.log(`  optional dynamic import, absent from the package: ${o}`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(e instanceof BuildError ? `build: ${e.message}` : e);
    process.exit(1);
  }
}
