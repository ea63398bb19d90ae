/**
 * The package as its users get it. `npm pack` (which builds dist/ through `prepack`) in a copy of this checkout, then
 * three empty apps in a temporary folder: Node 20 (ESM), Bun and Deno. Each installs the tarball from the file as the
 * README says, imports the library with the README's import line, loads the bundled tiny checkpoint, encodes two
 * clips of different lengths in ONE batch and decodes them; the codes must be upstream's. The Node app also runs
 * `npx xcodec2 demo` and type-checks a consumer file against the shipped declarations (tsc, skipLibCheck off); the
 * Deno app runs `deno check`. No install prints a warning. Then deno.json (JSR): it mirrors package.json, and
 * `deno publish --dry-run` passes.
 *
 * It drives all three runtimes itself, so it runs once, under `bun test` (skipped under `deno test`). It needs the npm
 * registry (the tarball's dependencies); onnxruntime-node's CUDA download is not needed (see the README).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { clipTensors, fragileFrames } from "../fixtures/support/reference.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");
const NODE = process.env.XCODEC2_NODE ?? "node";
const UNDER_DENO = "Deno" in globalThis;
const SKIP = UNDER_DENO ? "drives Node, Bun and Deno itself: runs once, under bun test" : false;
const MAX_TARBALL_BYTES = 10 * 1024 * 1024;
const SLOW = { timeout: 300_000 };

/** The README's import lines, one per runtime; the apps below use exactly these, and the README must show them. */
const IMPORT_LINE = {
  node: 'import { readAudio, Xcodec2 } from "xcodec2-kit";',
  bun: 'import { readAudio, Xcodec2 } from "xcodec2-kit";',
  deno: 'import { readAudio, Xcodec2 } from "npm:xcodec2-kit";',
} as const;
type App = keyof typeof IMPORT_LINE;

/** Two of the bundled demo clips, 51 278 and 1 000 samples (161 and 4 codes). */
const CLIPS = ["espeak_en", "speech_1000"];

/** The app: the same lines under every runtime (valid JavaScript and TypeScript) after its import line. */
function appSource(app: App): string {
  return `${IMPORT_LINE[app]}

// the tiny checkpoint and clips that ship with the package for \`xcodec2 demo\`
const demo = import.meta.dirname + "/node_modules/xcodec2-kit/dist/demo/";
const codec = await Xcodec2.load(demo + "checkpoints/tiny-a/original", { device: "cpu", log: () => {} });
const clips = await Promise.all(
  ${JSON.stringify(CLIPS)}.map(async (name) => (await readAudio(demo + "clips/" + name + ".wav")).samples),
);
const { codes } = await codec.encodeBatch(clips); // one onnxruntime call for both clips
const audio = await codec.decodeBatch(codes);
await codec.dispose();
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node " + process.version;
console.log(JSON.stringify({
  runtime,
  samples: clips.map((c) => c.length),
  codes: codes.map((c) => Array.from(c)),
  audio: audio.map((a) => ({ samples: a.length, finite: a.every(Number.isFinite) })),
}));
`;
}

/** A consumer's TypeScript, checked against the package's declarations (every subpath export). */
const CONSUMER_TS = `import { type EncodeOptions, readAudio, SAMPLE_RATE, Xcodec2 } from "xcodec2-kit";
import { type ConversionReport, convertCheckpoint } from "xcodec2-kit/convert";
import { Xcodec2 as RuntimeXcodec2 } from "xcodec2-kit/runtime";
import { type ParityReport, runParity } from "xcodec2-kit/parity";

export async function roundTrip(path: string, opts: EncodeOptions = {}): Promise<Float32Array[]> {
  const codec: Xcodec2 = await RuntimeXcodec2.load("model", { device: "auto" });
  const codes: Int32Array[] = await codec.encode([(await readAudio(path)).samples], opts);
  // @ts-expect-error: decode takes codes, not audio
  await codec.decode([new Float32Array(SAMPLE_RATE)]);
  return codec.decode(codes);
}
export const convert: (o: { source: string; out: string }) => Promise<ConversionReport> = convertCheckpoint;
export type Report = ParityReport;
export const parity: typeof runParity = runParity;
`;

interface Ran {
  code: number;
  out: string;
  err: string;
}

/** The environment of a user's shell: none of the npm_* variables of the `npm test` that may be running us. */
function userEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^npm_/i.test(k) && k !== "INIT_CWD") env[k] = v;
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

/** Runs a command to its end; never rejects (a command that cannot start reports exit -1), so that runs started
 * early and checked later cannot become unhandled rejections. */
function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: userEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", (e) => resolve({ code: -1, out, err: `${err}${e.message}` }));
    child.on(
      "close",
      (code, signal) => resolve({ code: code ?? -1, out, err: signal ? `${err}killed by ${signal}` : err }),
    );
  });
}

async function ok(what: string, ran: Promise<Ran>): Promise<Ran> {
  const r = await ran;
  assert.equal(r.code, 0, `${what} failed (exit ${r.code}):\n${r.out}\n${r.err}`);
  return r;
}

/** Install output must be free of warnings (npm's "npm warn", Bun's "Blocked … postinstall", Deno's "Warning"). */
function assertQuiet(what: string, r: Ran): void {
  const noisy = `${r.out}\n${r.err}`.split("\n").filter((l) => /\bwarn|warning|blocked|deprecated|error/i.test(l));
  assert.deepEqual(noisy, [], `${what} printed warnings:\n${r.out}\n${r.err}`);
}

async function du(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await du(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

let work: string;
let tarball: string;
let installedBytes = 0;
const apps = {} as Record<App, string>;
const installs = {} as Record<App, Ran>;

/** A copy of the checkout to pack (so that packing writes no dist/ here), sharing this node_modules. */
async function packedTarball(): Promise<string> {
  const src = join(work, "src");
  const skip = new Set(["node_modules", "dist", "out", ".git", ".cache", "bench-results"]);
  await cp(ROOT, src, {
    recursive: true,
    filter: (p) => !skip.has(relative(ROOT, p).split(sep)[0]) && !p.endsWith(".tgz"),
  });
  await symlink(join(ROOT, "node_modules"), join(src, "node_modules"), "dir");
  const r = await ok("npm pack", run("npm", ["pack", "--pack-destination", work], src));
  const name = r.out.trim().split("\n").at(-1)!;
  assert.match(name, /^xcodec2-kit-\d+\.\d+\.\d+\.tgz$/);
  return join(work, name);
}

/** Empty app folders, each with what the README tells that runtime's users to write. */
async function installApps(): Promise<void> {
  // npm (Node and Deno apps): ONNXRUNTIME_NODE_INSTALL=skip keeps onnxruntime-node's postinstall from fetching the
  // CUDA provider (npm ≤ 11.18 runs it unasked); allowScripts records the choice for npm ≥ 11.19, which would
  // otherwise list the package as "not yet covered by allowScripts". Bun runs it only when trusted.
  const pkg = (name: string, extra: object) =>
    JSON.stringify({ name, private: true, type: "module", ...extra }, null, 2) + "\n";
  const manifests: Record<App, string> = {
    node: pkg("node-app", { allowScripts: { "onnxruntime-node": true } }),
    bun: pkg("bun-app", { trustedDependencies: ["onnxruntime-node"] }),
    deno: pkg("deno-app", { allowScripts: { "onnxruntime-node": true } }),
  };
  const env = { ONNXRUNTIME_NODE_INSTALL: "skip" };
  await Promise.all((Object.keys(manifests) as App[]).map(async (app) => {
    const dir = join(work, `${app}-app`);
    apps[app] = dir;
    await mkdir(dir);
    await writeFile(join(dir, "package.json"), manifests[app]);
    await writeFile(join(dir, app === "node" ? "main.mjs" : "main.ts"), appSource(app));
    installs[app] = await ok(
      `${app} app install`,
      app === "bun"
        ? run(join(BIN, "bun"), ["add", tarball], dir, env)
        : run("npm", ["install", tarball, "--no-audit", "--no-fund"], dir, env),
    );
  }));
}

interface AppOutput {
  runtime: string;
  samples: number[];
  codes: number[][];
  audio: { samples: number; finite: boolean }[];
}

function startApp(app: App): Promise<Ran> {
  const dir = apps[app];
  const env = { XCODEC2_CACHE: join(work, `cache-${app}`) };
  if (app === "node") return run(NODE, ["main.mjs"], dir, env);
  if (app === "bun") return run(join(BIN, "bun"), ["main.ts"], dir, env);
  return run(join(BIN, "deno"), ["run", "-A", "main.ts"], dir, env);
}

/** Upstream's codes for a reference clip, and its frames within 1e-4 of an FSQ rounding boundary (may flip). */
async function upstream(clip: string): Promise<{ codes: number[]; fragile: number[] }> {
  return { codes: Array.from((await clipTensors(clip)).tensor("enc.audio_codes").data), fragile: fragileFrames(clip) };
}

const outputs: Partial<Record<App, AppOutput>> = {};

async function checkApp(app: App): Promise<void> {
  assertQuiet(`${app} app install`, installs[app]);
  const r = await ok(`${app} app`, started[`${app} app`]);
  assert.doesNotMatch(r.err, /warn/i, `${app} app: ${r.err}`);
  console.log(`${app} app: ${r.out.trim()}`);
  const got: AppOutput = JSON.parse(r.out.trim().split("\n").at(-1)!);
  outputs[app] = got;
  assert.equal(got.codes.length, CLIPS.length);
  for (let i = 0; i < CLIPS.length; i++) {
    const want = await upstream(CLIPS[i]);
    assert.equal(got.codes[i].length, want.codes.length, `${app}, ${CLIPS[i]}: number of codes`);
    const differ = want.codes.flatMap((c, t) => (c === got.codes[i][t] ? [] : [t]));
    assert.ok(differ.every((t) => want.fragile.includes(t)), `${app}, ${CLIPS[i]}: codes differ at ${differ}`);
    assert.deepEqual(got.audio[i], { samples: 320 * want.codes.length, finite: true });
  }
  // every runtime runs the same compiled code on the same onnxruntime: the same codes
  for (const other of Object.values(outputs)) assert.deepEqual(got.codes, other.codes);
}

/** Every run the tests check, started together once the apps are installed (they wait on the CPU, the disk and the
 * registry in turn, so overlapping them keeps the whole file near the time of its longest run). */
const started: Record<string, Promise<Ran>> = {};

async function startRuns(): Promise<void> {
  for (const app of Object.keys(IMPORT_LINE) as App[]) started[`${app} app`] = startApp(app);
  started["demo"] = run("npx", ["--no-install", "xcodec2", "demo", "--out", join(work, "demo-out")], apps.node, {
    XCODEC2_CACHE: join(work, "cache-demo"),
  });
  await writeFile(join(apps.node, "consumer.ts"), CONSUMER_TS);
  await writeFile(
    join(apps.node, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "nodenext",
        moduleResolution: "nodenext",
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        // a consumer has @types/node; this checkout's stands in for it
        typeRoots: [join(ROOT, "node_modules", "@types")],
        types: ["node"],
      },
      files: ["consumer.ts"],
    }),
  );
  started["tsc"] = run(join(BIN, "tsc"), ["-p", "."], apps.node);
  started["deno check"] = run(join(BIN, "deno"), ["check", "main.ts"], apps.deno);
}

describe("the packages: npm tarball in empty Node, Bun and Deno apps; deno.json for JSR", { skip: SKIP }, () => {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), "xcodec2-package-"));
    started["deno publish"] = run(join(BIN, "deno"), ["publish", "--dry-run", "--allow-dirty"], ROOT);
    const t0 = performance.now();
    tarball = await packedTarball();
    const t1 = performance.now();
    await installApps();
    installedBytes = await du(apps.node);
    const s = (ms: number) => `${(ms / 1000).toFixed(0)} s`;
    console.log(`npm pack (build included): ${s(t1 - t0)}; three installs, in parallel: ${s(performance.now() - t1)}`);
    await startRuns();
  }, { timeout: 600_000 });
  after(async () => {
    await Promise.all(Object.values(started));
    if (work) await rm(work, { recursive: true, force: true });
  });

  test("the tarball: at most 10 MB; compiled code, declarations, the bin and the demo's data; no tests", async () => {
    const size = (await stat(tarball)).size;
    const list = await ok("tar", run("tar", ["tzf", tarball], work));
    const files = list.out.trim().split("\n").filter((f) => !f.endsWith("/")).map((f) => f.replace(/^package\//, ""));
    console.log(
      `tarball ${basename(tarball)}: ${(size / 1e6).toFixed(2)} MB, ${files.length} files; ` +
        `Node app after install: ${(installedBytes / 1e6).toFixed(0)} MB`,
    );
    assert.ok(size <= MAX_TARBALL_BYTES, `${size} bytes`);
    for (const f of ["package.json", "README.md", "CHANGELOG.md", "bin/xcodec2.js", "dist/bin/xcodec2.js"]) {
      assert.ok(files.includes(f), `${f} is missing`);
    }
    for (const sub of ["runtime", "convert", "parity"]) {
      assert.ok(files.includes(`dist/${sub}/mod.js`) && files.includes(`dist/${sub}/mod.d.ts`), sub);
    }
    assert.ok(files.includes("dist/demo/checkpoints/tiny-a/original/model.safetensors"));
    const unwanted = files.filter((f) =>
      /\.test\.|(^|\/)fixtures\//.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts")) ||
      !/^(dist\/|bin\/xcodec2\.js$|package\.json$|README\.md$|CHANGELOG\.md$|LICENSE)/.test(f)
    );
    assert.deepEqual(unwanted, []);
  });

  test("the README shows the import line of each app", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    for (const line of new Set(Object.values(IMPORT_LINE))) assert.ok(readme.includes(line), line);
  });

  test("Node app: installs quietly, encodes and decodes a batch of two clips, codes = upstream's", SLOW, async () => {
    const v = await ok("node --version", run(NODE, ["--version"], work));
    assert.ok(Number(/^v(\d+)/.exec(v.out)?.[1]) >= 20, v.out);
    await checkApp("node");
  });

  test("Node app: npx xcodec2 demo", SLOW, async () => {
    const r = await ok("npx xcodec2 demo", started["demo"]);
    assert.match(r.out, /parity: every item of the batch equals its per-sample run, and upstream's codes/);
    assert.ok((await readdir(join(work, "demo-out"))).includes("codes.jsonl"));
    assert.doesNotMatch(r.err, /warn/i, r.err);
  });

  test("Node app: the declarations type-check a consumer file (tsc, skipLibCheck off)", SLOW, async () => {
    await ok("tsc", started["tsc"]);
  });

  test(
    "Bun app: installs quietly, encodes and decodes a batch of two clips, codes = upstream's",
    SLOW,
    async () => {
      await checkApp("bun");
    },
  );

  test(
    "Deno app (npm:xcodec2-kit): installs quietly, same batch, same codes; deno check passes",
    SLOW,
    async () => {
      await checkApp("deno");
      await ok("deno check", started["deno check"]);
    },
  );

  test(
    "deno.json mirrors package.json: version, licence, subpath exports, one npm: import per dependency",
    async () => {
      const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
      const deno = JSON.parse(await readFile(join(ROOT, "deno.json"), "utf8"));
      assert.equal(deno.version, pkg.version);
      assert.equal(deno.license, pkg.license);
      const fromDist = (p: string) => p.replace(/^\.\/dist\//, "./").replace(/\.js$/, ".ts");
      const npmExports = Object.fromEntries(
        Object.entries(pkg.exports as Record<string, { import?: string }>).flatMap(([k, v]) =>
          v.import ? [[k, fromDist(v.import)]] : []
        ),
      );
      assert.deepEqual(deno.exports, npmExports);
      const imports = Object.fromEntries(Object.entries(pkg.dependencies).map(([n, r]) => [n, `npm:${n}@${r}`]));
      assert.deepEqual(deno.imports, imports);
    },
  );

  test("deno.json: deno publish --dry-run passes (offline)", SLOW, async () => {
    const r = await ok("deno publish --dry-run", started["deno publish"]);
    assert.match(`${r.out}\n${r.err}`, /Success Dry run complete/);
    assert.doesNotMatch(`${r.out}\n${r.err}`, /^error/m);
  });
});
