/**
 * The module graph, as Deno resolves it (`deno info --json`): `runtime/`, `parity/` and `dataset/` reach `convert/`
 * only through its face `convert/mod.ts`, `dataset/` reaches `runtime/` only through `runtime/mod.ts`, and importing
 * the runtime, the dataset tools (or the converter's face) loads neither the graph builder with protobufjs nor the
 * Hub client: those load on first use, through dynamic imports (`convert/lazy.ts`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Dependency {
  specifier: string;
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface ModuleGraph {
  modules: { specifier: string; dependencies?: Dependency[] }[];
}

/** The Deno that runs this test, or the one the `deno` npm package installs (under Bun and Node). */
function denoBinary(): string {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno) return deno.execPath();
  return join(dirname(createRequire(import.meta.url).resolve("deno/package.json")), "deno");
}

function moduleGraph(entry: string): Promise<ModuleGraph> {
  return new Promise((resolve, reject) => {
    execFile(
      denoBinary(),
      ["info", "--json", entry],
      { cwd: ROOT, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: "1" } },
      (
        err,
        stdout,
        stderr,
      ) => (err ? reject(new Error(`deno info ${entry}: ${stderr || err.message}`)) : resolve(JSON.parse(stdout))),
    );
  });
}

/** Repository-relative path of a file: URL (node_modules paths keep their package path). */
function rel(specifier: string): string {
  if (!specifier.startsWith("file://")) return specifier;
  const path = fileURLToPath(specifier);
  const nm = path.lastIndexOf("/node_modules/");
  return nm >= 0 ? path.slice(nm + 1) : relative(ROOT, path);
}

/** Every module reachable from `entry` through static imports only (what loading `entry` loads). */
function staticClosure(graph: ModuleGraph, entry: string): Set<string> {
  const deps = new Map(graph.modules.map((m) => [rel(m.specifier), m.dependencies ?? []]));
  const seen = new Set<string>([entry]);
  const todo = [entry];
  while (todo.length) {
    for (const d of deps.get(todo.pop()!) ?? []) {
      if (d.isDynamic || !d.code) continue;
      const to = rel(d.code.specifier);
      if (!seen.has(to)) {
        seen.add(to);
        todo.push(to);
      }
    }
  }
  return seen;
}

/** What must not load with the runtime: the graph builder, its protobuf schema and protobufjs, the Hub client. */
const HEAVY = [
  /^convert\/onnx\/graph\.ts$/,
  /^convert\/onnx\/proto\.ts$/,
  /^node_modules\/protobufjs\//,
  /^node_modules\/@huggingface\/hub\//,
];

test("importing the runtime, the dataset tools or the converter's face loads no graph builder, protobufjs or Hub client", async () => {
  for (const entry of ["runtime/mod.ts", "convert/mod.ts", "dataset/mod.ts", "dataset/pool_worker.ts"]) {
    const graph = await moduleGraph(entry);
    const loaded = staticClosure(graph, entry);
    // the walk itself must see these: they are reachable, only not statically
    const all = new Set(graph.modules.map((m) => rel(m.specifier)));
    assert.ok(
      all.has("convert/onnx/graph.ts"),
      `${entry}: the graph builder is not reachable at all; the check is moot`,
    );
    const heavy = [...loaded].filter((m) => HEAVY.some((h) => h.test(m)));
    assert.deepEqual(heavy, [], `${entry} statically loads ${heavy.join(", ")}; import it lazily (convert/lazy.ts)`);
  }
});

/** Which folders may reach another folder only through its face. */
const FACES: { from: RegExp; folder: string; face: string; seen: number }[] = [
  // `seen`: fewer imports than this across the walks means the walk missed the importing folder
  { from: /^(runtime|parity|dataset)\//, folder: "convert/", face: "convert/mod.ts", seen: 10 },
  { from: /^dataset\//, folder: "runtime/", face: "runtime/mod.ts", seen: 5 },
];

test("runtime/, parity/ and dataset/ import convert/ only through convert/mod.ts; dataset/ the runtime through runtime/mod.ts", async () => {
  const offenders = new Set<string>();
  const edges = new Map(FACES.map((f) => [f, 0]));
  // dataset/pool_worker.ts is a spawned script (`new URL(…, import.meta.url)`), which deno info does not follow
  const entries = ["bin/xcodec2.ts", "runtime/mod.ts", "parity/mod.ts", "parity/fuzz/run.ts", "dataset/mod.ts"];
  for (const entry of [...entries, "dataset/pool_worker.ts"]) {
    for (const m of (await moduleGraph(entry)).modules) {
      const from = rel(m.specifier);
      for (const rule of FACES) {
        if (!rule.from.test(from)) continue;
        for (const d of m.dependencies ?? []) {
          const to = d.code && rel(d.code.specifier);
          if (!to?.startsWith(rule.folder)) continue;
          edges.set(rule, edges.get(rule)! + 1);
          if (to !== rule.face) offenders.add(`${from} → ${to}`);
        }
      }
    }
  }
  for (const [rule, n] of edges) {
    assert.ok(n >= rule.seen, `only ${n} imports of ${rule.folder} from ${rule.from} seen; the walk missed them`);
  }
  assert.deepEqual([...offenders].sort(), []);
});
