/**
 * End-to-end benchmark: synthetic original checkpoint → convert → ONNX export (fp32 + fp16) → CPU encode/decode at
 * batch 1 (the per-sample loop) and batch 8 of mixed lengths, then long audio and streaming (scripts/bench_long.ts:
 * 10 minutes decoded and encoded in windows, decodeStream latency and real-time factor, beside their targets).
 * Prints a table and writes bench-results/bench.json.
 *
 *   npx bun scripts/bench.ts [--quick] [--skip-convert] [--threads N] [--out FILE] [--hour]
 *
 * --quick: the tiny architecture and short clips, a smoke run of every piece (about a minute).
 * --skip-convert: reuse the converted folder (and its graphs) in the cache when present.
 * --hour: also decode one hour of codes and encode a one-hour clip (full size: about half an hour).
 * Every measured phase runs in its own child process (this script with --child), so each peak RSS is that phase's
 * own (`process.resourceUsage().maxRSS`) and no phase inherits another's heap or onnxruntime arenas.
 * FLOPs come from `convert/onnx/flops.ts` (analytic, from the config); "useful" FLOPs count each clip at its own
 * length, so padding work in a batch is not credited.
 */
import { mulberry32 } from "../parity/prng.ts";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { decoderFlops, encoderFlops, totalFlops } from "../convert/onnx/flops.ts";
import {
  codesForSamples,
  EXPORT_MANIFEST,
  externalDataFileName,
  GRAPH_PARTS,
  graphFileName,
  HOP_LENGTH,
  ONNX_DIR,
  readXcodec2Config,
  SAMPLE_RATE,
} from "../convert/mod.ts";
import { Command } from "../common/args.ts";
import { longChild, type LongChildArgs, type LongFigures, longRows, runLongPhases } from "./bench_long.ts";

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), "..");
/** The reference clip the speech-like bench clips loop over. */
const SOURCE_CLIP = "espeak_en";
const MATMUL_N = 2048;

export const TARGETS = { encodeSecondsPer10s: 5, decodeSecondsPer10s: 0.7, batchedSpeedup: 1.5, rssOverWeights: 1.3 };

export interface BenchOptions {
  quick?: boolean;
  skipConvert?: boolean;
  threads?: number;
  /** cache folder (default .cache/bench or .cache/bench-quick) */
  cacheDir?: string;
  /** result file (default bench-results/bench.json) */
  outFile?: string;
  /** clip lengths in seconds (default: 8 seeded in [3, 10] s; quick: 4 in [1, 2] s) */
  clipSeconds?: number[];
  /** also the one-hour runs of the long-audio section */
  hour?: boolean;
  log?: (msg: string) => void;
}

export interface PhaseFigures {
  wallSeconds: number;
  audioSeconds: number;
  secondsPer10s: number;
  usefulGflop: number;
  gflops: number;
  peakRssBytes: number;
  loadSeconds: number;
}

export interface BenchResult {
  date: string;
  quick: boolean;
  machine: { cpus: number; cpuModel: string | undefined; memBytes: number; runtime: string };
  threads: number;
  weightsBytes: number;
  convert: { seconds: number; cpSeconds: number; ratioToCp: number; peakRssBytes: number; source: string };
  export: {
    peakRssBytes: number;
    wallSeconds: number;
    graphs: { file: string; precision: string; seconds: number; bytes: number }[];
  };
  matmul: { n: number; gflopsMedian: number; gflopsBest: number };
  clips: { seconds: number[]; totalSeconds: number };
  flopsPerAudioSecond: { encoder: number; decoder: number; atSeconds: number };
  /** batch8: one onnxruntime call over all 8 clips; batch8Bucketed: `encode`/`decode` with batchSize 8 */
  encode: { batch1: PhaseFigures; batch8: PhaseFigures; batch8Bucketed: PhaseFigures; batchedSpeedup: number };
  decode: { batch1: PhaseFigures; batch8: PhaseFigures; batch8Bucketed: PhaseFigures; batchedSpeedup: number };
  /** long audio and streaming (scripts/bench_long.ts), with their own targets and verdicts */
  long: LongFigures;
  targets: typeof TARGETS;
  pass: {
    encode: boolean;
    decode: boolean;
    batchedSpeedupEncode: boolean;
    batchedSpeedupDecode: boolean;
    rss: boolean;
  };
}

export function clipLengths(count: number, lo: number, hi: number, seed = 1234): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: count }, () => Math.round((lo + (hi - lo) * r()) * 100) / 100);
}

/** Speech-like clips: loops of the reference espeak clip at different offsets. */
export async function speechClips(seconds: number[]): Promise<Float32Array[]> {
  const { readReferenceClip, referenceIndex } = await import("../parity/reference.ts");
  const src = await readReferenceClip(referenceIndex(), SOURCE_CLIP);
  return seconds.map((s, i) => {
    const n = Math.round(s * SAMPLE_RATE), off = (i * 7919) % src.length;
    const c = new Float32Array(n);
    for (let j = 0; j < n; j++) c[j] = src[(j + off) % src.length];
    return c;
  });
}

// ---------------------------------------------------------------- child phases (one process each)

type ChildArgs = {
  phase: string;
  dir?: string;
  source?: string;
  out?: string;
  seconds?: number[];
  batch?: number;
  bucketed?: boolean;
  threads: number;
};

async function childMain(args: ChildArgs | LongChildArgs): Promise<unknown> {
  if (isLong(args)) return longChild(args);
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  switch (args.phase) {
    case "convert": {
      const { convertCheckpoint } = await import("../convert/convert.ts");
      await convertCheckpoint({ source: args.source!, out: args.out!, force: true });
      return { seconds: elapsed() };
    }
    case "export": {
      const { exportOnnx } = await import("../convert/onnx/export.ts");
      const r = await exportOnnx(args.dir!, { fp16: true });
      return {
        seconds: elapsed(),
        graphs: r.graphs.map((g) => ({
          file: g.file,
          precision: g.precision,
          seconds: g.seconds,
          bytes: g.modelBytes + g.dataBytes,
        })),
      };
    }
    case "matmul":
      return { gflops: await matmulPeak(args.threads) };
    case "encode":
    case "decode": {
      const { Xcodec2 } = await import("../runtime/codec.ts");
      const codec = await Xcodec2.load(args.dir!, { device: "cpu", threads: args.threads, log: () => {} });
      const loadSeconds = elapsed();
      const clips = await speechClips(args.seconds!);
      const codes = clips.map((c, i) => {
        const k = codesForSamples(c.length), r = mulberry32(99 + i), out = new Int32Array(k);
        for (let j = 0; j < k; j++) out[j] = Math.floor(r() * codec.codebookSize);
        return out;
      });
      const runOne = (items: number[]) =>
        args.phase === "encode"
          ? codec.encodeBatch(items.map((i) => clips[i]))
          : codec.decodeBatch(items.map((i) => codes[i]));
      await runOne([0]); // warm-up: first-run allocations and kernel selection
      const t1 = performance.now();
      const all = clips.map((_, i) => i);
      if (args.bucketed) {
        // what an app gets: the library's own length bucketing (per-device memory budget), caller's order restored
        if (args.phase === "encode") await codec.encode(clips, { batchSize: args.batch });
        else await codec.decode(codes, { batchSize: args.batch });
      } else if (args.batch === 1) { for (const i of all) await runOne([i]); }
      else for (let i = 0; i < all.length; i += args.batch!) await runOne(all.slice(i, i + args.batch!));
      const wallSeconds = (performance.now() - t1) / 1000;
      await codec.dispose();
      return { wallSeconds, loadSeconds };
    }
    default:
      throw new Error(`unknown phase ${args.phase}`);
  }
}

/** GFLOP/s onnxruntime reaches on one N×N×N fp32 MatMul (the machine's practical GEMM ceiling), 10 runs. */
async function matmulPeak(threads: number): Promise<number[]> {
  const ort = await import("onnxruntime-node");
  const { GraphBuilder } = await import("../convert/onnx/graph.ts");
  const { tmpdir } = await import("node:os");
  const n = MATMUL_N;
  const g = new GraphBuilder("matmul_peak", "float32");
  const a = g.input("a", "float32", [n, n]);
  const w = new Float32Array(n * n);
  const r = mulberry32(7);
  for (let i = 0; i < w.length; i++) w[i] = r() - 0.5;
  g.output("y", g.matmul(a, g.weight("w", w, [n, n])), "float32", [n, n]);
  const file = join(tmpdir(), `xcodec2-matmul-${process.pid}.onnx`);
  await g.save(file, { inline: true });
  try {
    const s = await ort.InferenceSession.create(file, {
      executionProviders: ["cpu"],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
    });
    const x = new ort.Tensor("float32", w.slice(), [n, n]);
    await s.run({ a: x });
    const out: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const y = await s.run({ a: x });
      out.push((2 * n ** 3) / ((performance.now() - t0) / 1000) / 1e9);
      for (const t of Object.values(y)) t.dispose();
    }
    await s.release();
    return out;
  } finally {
    await rm(file, { force: true });
  }
}

function bunPath(): string {
  const bun = join(ROOT, "node_modules", ".bin", "bun");
  return existsSync(bun) ? bun : process.execPath;
}

const LONG_PHASES = new Set(["long-decode", "long-encode", "stream", "hour-decode", "hour-encode"]);
function isLong(args: ChildArgs | LongChildArgs): args is LongChildArgs {
  return LONG_PHASES.has(args.phase);
}

/** Run one phase in a child process; returns its JSON result plus the child's peak RSS. */
function child<T>(args: ChildArgs | LongChildArgs): T & { peakRssBytes: number; childWallSeconds: number } {
  const t0 = performance.now();
  const r = spawnSync(bunPath(), [SELF, "--child", JSON.stringify(args)], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    cwd: ROOT,
  });
  const childWallSeconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    throw new Error(`bench phase ${args.phase} failed (exit ${r.status}): ${(r.stderr ?? "").slice(-2000)}`);
  }
  const last = r.stdout.trim().split("\n").pop()!;
  return { ...JSON.parse(last), childWallSeconds };
}

function timeCp(file: string, dir: string): number {
  const copy = join(dir, "cp-test.safetensors");
  spawnSync("cat", [file], { stdio: ["ignore", "ignore", "ignore"] }); // warm the page cache as the converter sees it
  const t0 = performance.now();
  const r = spawnSync("cp", [file, copy]);
  const s = (performance.now() - t0) / 1000;
  spawnSync("rm", ["-f", copy]);
  if (r.status !== 0) throw new Error(`cp ${file} failed`);
  return s;
}

// ---------------------------------------------------------------- main

export async function runBench(opts: BenchOptions = {}): Promise<BenchResult> {
  const quick = opts.quick ?? false;
  const threads = opts.threads ?? 2;
  const log = opts.log ?? ((m: string) => process.stderr.write(m + "\n"));
  const cache = resolve(opts.cacheDir ?? join(ROOT, ".cache", quick ? "bench-quick" : "bench"));
  const original = join(cache, "original");
  // our own folder: bench_convert.ts converts into <cache>/converted and deletes it unless --keep (other runs of it
  // share the cache), so the full-size run moves its output here right after converting
  const converted = join(cache, quick ? "converted" : "bench-converted");
  const seconds = opts.clipSeconds ?? (quick ? clipLengths(4, 1, 2) : clipLengths(8, 3, 10));
  await mkdir(cache, { recursive: true });

  if (!existsSync(join(original, "model.safetensors"))) {
    log(`generating the ${quick ? "tiny" : "full-size (~3.3 GB)"} synthetic checkpoint into ${original}`);
    const { generateCheckpoint } = await import("../fixtures/generate.ts");
    await generateCheckpoint({ out: original, preset: quick ? "tiny" : "full" });
  }

  // convert: the full-size run uses the converter benchmark itself (cp vs convert in one run, its peak RSS)
  let convert: BenchResult["convert"];
  const haveConverted = existsSync(join(converted, "model.safetensors")) &&
    existsSync(join(converted, ONNX_DIR, EXPORT_MANIFEST));
  if (opts.skipConvert && haveConverted) {
    const prev = join(ROOT, "bench-results", "convert.json");
    const j = !quick && existsSync(prev) ? JSON.parse(readFileSync(prev, "utf8")) : undefined;
    convert = j
      ? {
        seconds: j.convertWallSeconds[0],
        cpSeconds: j.cpSeconds[0],
        ratioToCp: j.timeRatio,
        peakRssBytes: j.peakRssBytes,
        source: "bench-results/convert.json (earlier run)",
      }
      : { seconds: NaN, cpSeconds: NaN, ratioToCp: NaN, peakRssBytes: NaN, source: "skipped" };
  } else if (!quick && cache === resolve(ROOT, ".cache", "bench")) {
    log("converting (scripts/bench_convert.ts --runs 1 --keep)");
    const r = spawnSync(bunPath(), [join(ROOT, "scripts", "bench_convert.ts"), "--runs", "1", "--keep"], {
      encoding: "utf8",
      cwd: ROOT,
      maxBuffer: 64 << 20,
    });
    if (r.status !== 0) throw new Error(`bench_convert failed: ${r.stderr}`);
    await rm(converted, { recursive: true, force: true });
    await rename(join(cache, "converted"), converted);
    const j = JSON.parse(readFileSync(join(ROOT, "bench-results", "convert.json"), "utf8"));
    convert = {
      seconds: j.convertWallSeconds[0],
      cpSeconds: j.cpSeconds[0],
      ratioToCp: j.timeRatio,
      peakRssBytes: j.peakRssBytes,
      source: "scripts/bench_convert.ts",
    };
  } else {
    log("converting");
    const cpSeconds = timeCp(join(original, "model.safetensors"), cache);
    const c = child<{ seconds: number }>({ phase: "convert", source: original, out: converted, threads });
    convert = {
      seconds: c.childWallSeconds,
      cpSeconds,
      ratioToCp: c.childWallSeconds / cpSeconds,
      peakRssBytes: c.peakRssBytes,
      source: "in-process convertCheckpoint",
    };
  }

  let exp: BenchResult["export"];
  const exportJson = join(cache, "export-figures.json");
  if (opts.skipConvert && haveConverted && existsSync(exportJson)) {
    exp = JSON.parse(readFileSync(exportJson, "utf8"));
  } else {
    log("exporting fp32 + fp16 graphs");
    await rm(join(converted, "onnx"), { recursive: true, force: true });
    const e = child<{ seconds: number; graphs: BenchResult["export"]["graphs"] }>({
      phase: "export",
      dir: converted,
      threads,
    });
    exp = {
      peakRssBytes: e.peakRssBytes,
      wallSeconds: e.childWallSeconds,
      graphs: e.graphs.map((g) => ({ ...g, file: g.file.slice(converted.length + 1) })),
    };
    await writeFile(exportJson, JSON.stringify(exp));
  }

  const cfg = await readXcodec2Config(join(converted, "config.json"));
  let weightsBytes = 0;
  for (const part of GRAPH_PARTS) {
    weightsBytes += (await stat(join(converted, ONNX_DIR, externalDataFileName(graphFileName(part, "fp32"))))).size;
  }

  log("MatMul peak");
  const mm = child<{ gflops: number[] }>({ phase: "matmul", threads });
  const sorted = [...mm.gflops].sort((a, b) => a - b);

  const audioSeconds = seconds.reduce((a, b) => a + b, 0);
  const useful = (f: (s: number) => number) =>
    seconds.reduce((a, s) => a + f(codesForSamples(s * SAMPLE_RATE) * HOP_LENGTH / SAMPLE_RATE), 0) / 1e9;
  const encGflop = useful((s) => totalFlops(encoderFlops(cfg, s)));
  const decGflop = useful((s) => totalFlops(decoderFlops(cfg, s)));
  const phase = (kind: "encode" | "decode", batch: number, gflop: number, bucketed = false): PhaseFigures => {
    log(
      `${kind} at batch ${batch}${bucketed ? " via the library's bucketing" : ""} (${seconds.length} clips, ${
        audioSeconds.toFixed(1)
      } s of audio)`,
    );
    const r = child<{ wallSeconds: number; loadSeconds: number }>({
      phase: kind,
      dir: converted,
      seconds,
      batch,
      bucketed,
      threads,
    });
    return {
      wallSeconds: r.wallSeconds,
      audioSeconds,
      secondsPer10s: (r.wallSeconds / audioSeconds) * 10,
      usefulGflop: gflop,
      gflops: gflop / r.wallSeconds,
      peakRssBytes: r.peakRssBytes,
      loadSeconds: r.loadSeconds,
    };
  };
  const e1 = phase("encode", 1, encGflop), e8 = phase("encode", 8, encGflop), e8b = phase("encode", 8, encGflop, true);
  const d1 = phase("decode", 1, decGflop), d8 = phase("decode", 8, decGflop), d8b = phase("decode", 8, decGflop, true);
  const maxRss = Math.max(e1.peakRssBytes, e8.peakRssBytes, d1.peakRssBytes, d8.peakRssBytes);
  const long = runLongPhases(child, { dir: converted, threads, sourceClip: SOURCE_CLIP }, {
    quick,
    hour: opts.hour ?? false,
    log,
  });

  const result: BenchResult = {
    date: new Date().toISOString(),
    quick,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memBytes: totalmem(),
      runtime: `bun ${spawnSync(bunPath(), ["--version"], { encoding: "utf8" }).stdout.trim()}`,
    },
    threads,
    weightsBytes,
    convert,
    export: exp,
    matmul: { n: MATMUL_N, gflopsMedian: sorted[sorted.length >> 1], gflopsBest: sorted[sorted.length - 1] },
    clips: { seconds, totalSeconds: audioSeconds },
    flopsPerAudioSecond: {
      encoder: totalFlops(encoderFlops(cfg, 10)) / 10,
      decoder: totalFlops(decoderFlops(cfg, 10)) / 10,
      atSeconds: 10,
    },
    encode: { batch1: e1, batch8: e8, batch8Bucketed: e8b, batchedSpeedup: e1.wallSeconds / e8.wallSeconds },
    decode: { batch1: d1, batch8: d8, batch8Bucketed: d8b, batchedSpeedup: d1.wallSeconds / d8.wallSeconds },
    long,
    targets: TARGETS,
    pass: {
      encode: e8.secondsPer10s <= TARGETS.encodeSecondsPer10s,
      decode: d8.secondsPer10s <= TARGETS.decodeSecondsPer10s,
      batchedSpeedupEncode: e1.wallSeconds / e8.wallSeconds >= TARGETS.batchedSpeedup,
      batchedSpeedupDecode: d1.wallSeconds / d8.wallSeconds >= TARGETS.batchedSpeedup,
      rss: maxRss <= TARGETS.rssOverWeights * weightsBytes,
    },
  };
  const outFile = resolve(opts.outFile ?? join(ROOT, "bench-results", "bench.json"));
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(`${outFile}.tmp`, JSON.stringify(result, null, 2) + "\n");
  await rename(`${outFile}.tmp`, outFile);
  return result;
}

export function formatTable(r: BenchResult): string {
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const ok = (p: boolean) => (p ? "PASS" : "FAIL");
  const rows: string[][] = [
    [
      "convert",
      `${r.convert.seconds.toFixed(2)} s`,
      `${r.convert.ratioToCp.toFixed(2)}× cp (${r.convert.cpSeconds.toFixed(2)} s), peak RSS ${
        mb(r.convert.peakRssBytes)
      }`,
    ],
    ...r.export.graphs.map((
      g,
    ) => [`export ${g.file}`, `${g.seconds.toFixed(1)} s`, `${(g.bytes / 1e6).toFixed(1)} MB`]),
    ["export (child, all four)", `${r.export.wallSeconds.toFixed(1)} s`, `peak RSS ${mb(r.export.peakRssBytes)}`],
    [
      `MatMul ${r.matmul.n}³ fp32`,
      `${r.matmul.gflopsMedian.toFixed(0)} GFLOP/s`,
      `best ${r.matmul.gflopsBest.toFixed(0)}`,
    ],
    [
      "model FLOPs / s audio",
      `enc ${(r.flopsPerAudioSecond.encoder / 1e9).toFixed(1)} G`,
      `dec ${(r.flopsPerAudioSecond.decoder / 1e9).toFixed(1)} G (at 10 s clips)`,
    ],
  ];
  const rssLimit = r.targets.rssOverWeights * r.weightsBytes;
  for (const kind of ["encode", "decode"] as const) {
    const target = kind === "encode" ? r.targets.encodeSecondsPer10s : r.targets.decodeSecondsPer10s;
    const label = {
      batch1: "batch 1 (loop)",
      batch8: "batch 8 (one call)",
      batch8Bucketed: "batch 8 (library buckets)",
    };
    for (const b of ["batch1", "batch8", "batch8Bucketed"] as const) {
      const p = r[kind][b];
      rows.push([
        `${kind} ${label[b]}`,
        `${p.secondsPer10s.toFixed(2)} s/10 s`,
        `${p.gflops.toFixed(0)} GFLOP/s, peak RSS ${mb(p.peakRssBytes)} (${
          (p.peakRssBytes / r.weightsBytes).toFixed(2)
        }× weights)` +
        (b !== "batch1"
          ? `  target ≤ ${target} ${ok(p.secondsPer10s <= target)}; RSS ≤ ${mb(rssLimit)} ${
            ok(p.peakRssBytes <= rssLimit)
          }`
          : ""),
      ]);
    }
    rows.push([
      `${kind} batched / loop`,
      `${r[kind].batchedSpeedup.toFixed(2)}×`,
      `target ≥ ${r.targets.batchedSpeedup}× ${ok(r[kind].batchedSpeedup >= r.targets.batchedSpeedup)}`,
    ]);
  }
  rows.push(...longRows(r.long));
  const w0 = Math.max(...rows.map((x) => x[0].length)), w1 = Math.max(...rows.map((x) => x[1].length));
  const head = `${r.quick ? "QUICK " : ""}bench: ${r.clips.seconds.length} clips, ${
    r.clips.totalSeconds.toFixed(1)
  } s of audio [${r.clips.seconds.join(", ")}], ${r.threads} threads, weights ${mb(r.weightsBytes)}\n`;
  return head + rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`).join("\n") + "\n";
}

async function cli(argv: string[]): Promise<void> {
  if (argv[0] === "--child") {
    const res = await childMain(JSON.parse(argv[1]!) as ChildArgs);
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;
    process.stdout.write("\n" + JSON.stringify({ ...(res as object), peakRssBytes }) + "\n");
    process.exit(0); // onnxruntime's threads must not keep the child alive
  }
  process.exitCode = await BENCH.run(argv, async ({ values: v }) => {
    const r = await runBench({
      quick: v.quick,
      skipConvert: v["skip-convert"],
      threads: v.threads,
      outFile: v.out,
      hour: v.hour,
    });
    process.stdout.write(formatTable(r));
    process.stdout.write(`wrote ${v.out ?? "bench-results/bench.json"}\n`);
    return 0;
  });
}

const BENCH = new Command({
  name: "bench",
  program: "npm run bench --",
  summary: "End-to-end benchmark on a synthetic checkpoint: convert, export, CPU encode and decode, each phase in " +
    "its own process.",
  positionals: [],
  options: {
    quick: { type: "boolean", help: "the tiny architecture and short clips: a smoke run of every piece" },
    "skip-convert": { type: "boolean", help: "reuse the converted folder (and its graphs) in the cache when present" },
    threads: { type: "integer", min: 1, max: 1024, default: 2, help: "intra-op threads of every session" },
    out: { type: "string", value: "FILE", help: "the JSON results (default bench-results/bench.json)" },
    hour: { type: "boolean", help: "also decode one hour of codes and encode a one-hour clip (full size: ~30 min)" },
  },
});

if ((import.meta as { main?: boolean }).main) await cli(process.argv.slice(2));
