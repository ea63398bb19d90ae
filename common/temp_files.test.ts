/**
 * Temporaries of killed writers: a child process is frozen in the middle of a conversion, an ONNX export and a model
 * cache build, killed with SIGKILL (no `finally` of ours runs), and the next run of the same writer must remove what
 * it left, finish, and leave no temporary behind; a temporary of a process that still runs is never removed.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { convertCheckpoint } from "../convert/mod.ts";
import { exportOnnx } from "../convert/onnx/export.ts";
import { claimTempPath, processAlive, removeStaleTemps, tempPathFor } from "./temp_files.ts";
import { resolveModel } from "../runtime/model_source.ts";
import { writeCodesFile } from "../runtime/codes_io.ts";
import { writeWav } from "../runtime/audio/mod.ts";

const REFERENCE = fileURLToPath(new URL("../fixtures/reference/checkpoints/tiny-a/", import.meta.url));
const ORIGINAL = join(REFERENCE, "original");
const CONVERTED = join(REFERENCE, "converted");
const CHILD = fileURLToPath(new URL("../fixtures/killed_writer.ts", import.meta.url));

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "xcodec2-temps-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** This runtime's command line for a script (the suite runs under Bun and under Deno). */
function scriptCommand(script: string, args: string[]): [string, string[]] {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno) return [deno.execPath(), ["run", "-A", script, ...args]];
  return [process.execPath, [script, ...args]];
}

/** Resolves when `child` has exited; listen before signalling it (Deno sets signalCode on kill(), before the exit). */
function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Starts the writer `kind` in a child and resolves once it reports itself frozen mid-write. */
async function frozenChild(kind: string, from: string, to: string): Promise<ChildProcess> {
  const [cmd, args] = scriptCommand(CHILD, [kind, from, to]);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} child never froze; stderr: ${err}`)), 120_000);
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("FROZEN")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} child exited (${code}) before freezing; stderr: ${err}`));
    });
  });
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  const exit = exited(child);
  child.kill("SIGKILL");
  await exit;
  assert.equal(child.signalCode, "SIGKILL");
  assert.ok(!processAlive(child.pid!));
}

/** The pid of a process that has come and gone. */
async function deadPid(): Promise<number> {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const child = deno ? spawn(deno.execPath(), ["eval", ""]) : spawn(process.execPath, ["-e", ""]);
  await exited(child);
  assert.ok(child.pid !== undefined && !processAlive(child.pid));
  return child.pid!;
}

/** Names in `dir` that are temporaries (of any writer, any process). */
async function temps(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => /\.tmp-\d+/.test(n)).sort();
}

const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);

describe("stale temporaries", () => {
  test("the sweep removes temporaries of dead processes only, of this output only", async () => {
    const dir = join(work, "sweep");
    await mkdir(dir);
    const out = join(dir, "out");
    const dead = await deadPid();
    const stale = [
      `.out.tmp-${dead}-0a1b2c3d0`, // this version's name
      `.out.tmp-${dead}`, // 0.1.0 conversion folder
      `out.tmp-${dead}`, // 0.1.0 file writers
      `out.tmp-${dead}-1764424242424`, // 0.1.0 model cache
      `.out.tmp-${process.pid}-ffffffff0`, // our pid, but not this process's nonce: an earlier process with our pid
    ];
    const kept = [
      `.out.tmp-1-0a1b2c3d0`, // pid 1 always runs
      `.other.tmp-${dead}-0a1b2c3d0`, // another output's: its own writer sweeps it
      `.out.tmp-${dead}-x.bak`, // not a temporary name
      basename(tempPathFor(out)), // ours, in use
    ];
    for (const n of [...stale, ...kept]) {
      if (n.startsWith(".out.tmp-") && n.endsWith(`${dead}`)) {
        await mkdir(join(dir, n));
        await writeFile(join(dir, n, "model.safetensors"), new Uint8Array(1024));
      } else {
        await writeFile(join(dir, n), "x");
      }
    }
    const removed = await removeStaleTemps(out);
    assert.deepEqual(removed.map((p) => basename(p)).sort(), [...stale].sort());
    assert.deepEqual((await readdir(dir)).sort(), [...kept].sort());
    // nothing to sweep where the folder does not exist
    assert.deepEqual(await removeStaleTemps(join(work, "missing", "out")), []);
  });

  test("claimTempPath names a hidden sibling carrying this pid, unique per call", async () => {
    const out = join(work, "claim", "codes.npy");
    const a = await claimTempPath(out);
    const b = await claimTempPath(out);
    assert.notEqual(a, b);
    assert.equal(dirname(a), dirname(out));
    assert.match(basename(a), new RegExp(`^\\.codes\\.npy\\.tmp-${process.pid}-[0-9a-z]+$`));
  });

  test("a conversion killed with SIGKILL mid-write leaves a temporary; the next conversion removes it", {
    timeout: 240_000,
  }, async () => {
    const out = join(work, "convert", "tiny-hf");
    await mkdir(dirname(out), { recursive: true });
    const child = await frozenChild("convert", ORIGINAL, out);
    await kill9(child);
    const left = await temps(dirname(out));
    assert.equal(left.length, 1, `leftovers: ${left}`);
    assert.match(left[0], new RegExp(`^\\.tiny-hf\\.tmp-${child.pid}-`));
    // killed mid-write: the half-written safetensors is inside
    assert.ok((await temps(join(dirname(out), left[0]))).length > 0);

    const logs: string[] = [];
    await convertCheckpoint({ source: ORIGINAL, out, log: (m) => logs.push(m) });
    assert.deepEqual(await temps(dirname(out)), []);
    assert.deepEqual(await temps(out), []);
    assert.ok(logs.some((m) => m.includes(left[0]) && m.includes("no longer runs")), logs.join("\n"));
    assert.ok((await stat(join(out, "model.safetensors"))).size > 0);
  });

  test("a conversion's temporary is kept while its process runs", { timeout: 240_000 }, async () => {
    const out = join(work, "live", "tiny-hf");
    await mkdir(dirname(out), { recursive: true });
    const child = await frozenChild("convert", ORIGINAL, out);
    try {
      const theirs = await temps(dirname(out));
      assert.equal(theirs.length, 1);
      await convertCheckpoint({ source: ORIGINAL, out, log: () => {} });
      assert.deepEqual(await temps(dirname(out)), theirs, "the live writer's temporary was touched");
      assert.ok(await isDir(join(dirname(out), theirs[0])));
    } finally {
      await kill9(child);
    }
    assert.equal((await removeStaleTemps(out)).length, 1);
    assert.deepEqual(await temps(dirname(out)), []);
  });

  test("an ONNX export killed mid-write: the next export removes its folder", { timeout: 240_000 }, async () => {
    const out = join(work, "export", "onnx");
    await mkdir(dirname(out), { recursive: true });
    const child = await frozenChild("export", CONVERTED, out);
    await kill9(child);
    const left = await temps(dirname(out));
    assert.equal(left.length, 1, `leftovers: ${left}`);
    assert.ok((await readdir(join(dirname(out), left[0]))).includes("encoder_model.onnx"));
    await exportOnnx(CONVERTED, { out, fp16: false });
    assert.deepEqual(await temps(dirname(out)), []);
    assert.ok((await readdir(out)).includes("decoder_model.onnx"));
  });

  test("a model cache build killed mid-write: the next load removes it and builds the entry", {
    timeout: 240_000,
  }, async () => {
    const cache = join(work, "cache");
    const child = await frozenChild("cache", ORIGINAL, cache);
    await kill9(child);
    const entries = join(cache, "converted");
    const left = await temps(entries);
    assert.equal(left.length, 1, `leftovers: ${left}`);
    const model = await resolveModel(ORIGINAL, { cacheDir: cache });
    assert.deepEqual(await temps(entries), []);
    assert.equal(dirname(model.dir), entries);
    assert.ok((await readdir(model.onnxDir)).includes("decoder_model.onnx"));
  });

  test("encode and decode outputs: a dead writer's temporary goes, a live one's stays", async () => {
    const dir = join(work, "outputs");
    await mkdir(dir);
    const dead = await deadPid();
    for (
      const [name, write] of [
        ["codes.npy", (p: string) => writeCodesFile(p, [{ name: "a", codes: new Int32Array([1, 2, 3]) }])],
        ["a.wav", (p: string) => writeWav(p, new Float32Array(320))],
      ] as const
    ) {
      const path = join(dir, name);
      await writeFile(join(dir, `.${name}.tmp-${dead}-0a1b2c3d0`), "half");
      await writeFile(join(dir, `.${name}.tmp-1-0a1b2c3d0`), "live");
      await write(path);
      assert.deepEqual(await temps(dir), [`.${name}.tmp-1-0a1b2c3d0`]);
      await rm(join(dir, `.${name}.tmp-1-0a1b2c3d0`));
    }
    assert.deepEqual((await readdir(dir)).sort(), ["a.wav", "codes.npy"]);
  });
});
