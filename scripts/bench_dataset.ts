/**
 * Benchmark of `xcodec2 encode-dataset` on CPU: hours of audio encoded per hour of wall time with 1 and 2 worker
 * processes on this machine's pool, and the same through NATS JetStream (`--engine`, with that many
 * `xcodec2 worker`s), whose overhead against the pool is the figure with a target (≤ 5%). Each run is the whole command
 * as a user types it (planning, model load in every worker, encoding, writing), in its own processes.
 *
 *   npx bun scripts/bench_dataset.ts [--quick] [--out FILE]
 *
 * Full size: the synthetic full-size checkpoint that `scripts/bench.ts` converts and exports into
 * .cache/bench/bench-converted (run that first; `npm run bench` runs both), 16 speech-like clips of 3–10 s.
 * --quick: the tiny reference checkpoint and 8 clips of 0.5–1.5 s, to check that every piece runs (about a minute).
 * Writes bench-results/bench_dataset.json.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeWav } from "../runtime/mod.ts";
import { Command } from "../common/args.ts";
import { runtimeCommand } from "../dataset/spawn_self.ts";
import { referenceIndex, variantDirs } from "../parity/reference.ts";
import { NatsServer } from "../fixtures/dataset/nats_server.ts";
import { clipLengths, speechClips } from "./bench.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "bin/xcodec2.ts");
export const NATS_OVERHEAD_TARGET = 0.05;

export interface DatasetRun {
  engine: "pool" | "nats";
  workers: number;
  threadsEach: number;
  wallSeconds: number;
  audioHoursPerHour: number;
}

export interface DatasetBenchResult {
  quick: boolean;
  model: string;
  clips: number;
  audioSeconds: number;
  shards: number;
  cores: number;
  runs: DatasetRun[];
  /** NATS wall time over the pool's at the same worker count, minus 1 */
  natsOverhead: { workers: number; overhead: number; pass: boolean }[];
}

function run(args: string[], log: (m: string) => void): { done: Promise<void>; kill: () => void } {
  const { command, args: full } = runtimeCommand(CLI, args);
  const child = spawn(command, full, { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  let killed = false;
  child.stderr.on("data", (d) => (err += d));
  child.stdout.on("data", () => {});
  return {
    done: new Promise((res, rej) =>
      child.on("close", (code, signal) => {
        // a worker told to stop exits 130 (it hands back any shard it holds)
        if (code === 0 || (killed && (code === 130 || signal === "SIGTERM"))) res();
        else rej(new Error(`xcodec2 ${args[0]} failed (${code ?? signal}):\n${err}`));
        log(`  ${args[0]} exited ${code ?? signal}`);
      })
    ),
    kill: () => {
      killed = true;
      child.kill("SIGTERM");
    },
  };
}

export async function runDatasetBench(opts: { quick?: boolean; outFile?: string; log?: (m: string) => void } = {}) {
  const quick = opts.quick ?? false;
  const log = opts.log ?? ((m: string) => console.error(m));
  const model = quick ? variantDirs(referenceIndex()).converted : join(ROOT, ".cache/bench/bench-converted");
  if (!quick && !existsSync(join(model, "onnx", "encoder_model.onnx"))) {
    throw new Error(`${model}: no full-size converted model; run \`npx bun scripts/bench.ts\` first`);
  }
  const work = await mkdtemp(join(tmpdir(), "xcodec2-bench-dataset-"));
  const cache = join(work, "cache");
  try {
    // the speech-like clips of scripts/bench.ts: the reference espeak clip looped from different offsets
    const seconds = quick ? clipLengths(8, 0.5, 1.5) : clipLengths(16, 3, 10);
    const corpus = join(work, "corpus");
    await mkdir(corpus);
    for (const [i, clip] of (await speechClips(seconds)).entries()) {
      await writeWav(join(corpus, `clip${String(i).padStart(2, "0")}.wav`), clip);
    }
    const audioSeconds = seconds.reduce((a, b) => a + b, 0);
    const shardItems = 2;
    const cores = cpus().length;
    const runs: DatasetRun[] = [];
    let server: NatsServer | undefined;
    try {
      for (const engine of ["pool", "nats"] as const) {
        if (engine === "nats") server = await NatsServer.start();
        for (const workers of [1, 2]) {
          const threadsEach = Math.max(1, Math.floor(cores / workers));
          const out = join(work, `${engine}-${workers}`);
          const common = [
            "encode-dataset",
            model,
            corpus,
            "--out",
            out,
            "--shard-items",
            String(shardItems),
            "--cache",
            cache,
          ];
          log(`${engine}, ${workers} worker(s) × ${threadsEach} thread(s)`);
          const t0 = performance.now();
          if (engine === "pool") {
            await run(
              [...common, "--device", "cpu", "--workers", String(workers), "--threads", String(threadsEach)],
              log,
            ).done;
          } else {
            const ws = Array.from(
              { length: workers },
              () =>
                run(
                  ["worker", server!.url, "--device", "cpu", "--threads", String(threadsEach), "--cache", cache],
                  log,
                ),
            );
            await run([...common, "--engine", server!.url], log).done;
            ws.forEach((w) => w.kill());
            await Promise.all(ws.map((w) => w.done));
          }
          const wallSeconds = (performance.now() - t0) / 1000;
          runs.push({ engine, workers, threadsEach, wallSeconds, audioHoursPerHour: audioSeconds / wallSeconds });
        }
      }
    } finally {
      await server?.stop();
    }
    const natsOverhead = [1, 2].map((workers) => {
      const pool = runs.find((r) => r.engine === "pool" && r.workers === workers)!;
      const nats = runs.find((r) => r.engine === "nats" && r.workers === workers)!;
      const overhead = nats.wallSeconds / pool.wallSeconds - 1;
      return { workers, overhead, pass: overhead <= NATS_OVERHEAD_TARGET };
    });
    const result: DatasetBenchResult = {
      quick,
      model: quick ? "tiny-a" : "full-size synthetic",
      clips: seconds.length,
      audioSeconds,
      shards: Math.ceil(seconds.length / shardItems),
      cores,
      runs,
      natsOverhead,
    };
    const outFile = opts.outFile ?? join(ROOT, "bench-results", "bench_dataset.json");
    await mkdir(dirname(outFile), { recursive: true });
    await writeFile(outFile, JSON.stringify(result, null, 1) + "\n");
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function formatDatasetTable(r: DatasetBenchResult): string {
  const lines = [
    `${r.quick ? "QUICK " : ""}encode-dataset bench (${r.model}, CPU, ${r.cores} cores): ${r.clips} clips, ` +
    `${r.audioSeconds.toFixed(1)} s of audio, ${r.shards} shards`,
    "| run | wall s | audio hours per hour |",
    "| --- | --- | --- |",
    ...r.runs.map((x) =>
      `| ${x.engine === "pool" ? "one machine" : "NATS"}, ${x.workers} worker(s) × ${x.threadsEach} thread(s) | ` +
      `${x.wallSeconds.toFixed(1)} | ${x.audioHoursPerHour.toFixed(3)} |`
    ),
    ...r.natsOverhead.map((o) =>
      `NATS overhead at ${o.workers} worker(s): ${(o.overhead * 100).toFixed(1)}% (target ≤ ${
        NATS_OVERHEAD_TARGET * 100
      }%: ${o.pass ? "pass" : "FAIL"})`
    ),
  ];
  return lines.join("\n") + "\n";
}

const BENCH_DATASET = new Command({
  name: "bench_dataset",
  program: "npx bun scripts/bench_dataset.ts",
  summary: "encode-dataset on CPU: hours of audio per hour with 1 and 2 worker processes, on this machine's pool and " +
    "through NATS JetStream (overhead target ≤ 5%). Run scripts/bench.ts first (it builds the full-size model).",
  positionals: [],
  options: {
    quick: { type: "boolean", help: "the tiny reference checkpoint and 8 short clips: a smoke run of every piece" },
    out: { type: "string", value: "FILE", help: "the JSON results (default bench-results/bench_dataset.json)" },
  },
});

if ((import.meta as { main?: boolean }).main) {
  process.exitCode = await BENCH_DATASET.run(process.argv.slice(2), async ({ values: v }) => {
    process.stdout.write(formatDatasetTable(await runDatasetBench({ quick: v.quick, outFile: v.out })));
    return 0;
  });
}
