/**
 * GPU benchmark (issue 14, item 4): full-size synthetic checkpoint → convert → export → encode and decode seconds per
 * 10 s of audio at batch 1 (the per-clip loop) and batch 8 (one call) on each GPU device onnxruntime-node can open
 * (WebGPU, CUDA), fp32 and the fp16 decoder, and beside it upstream transformers' `Xcodec2Model` on the same GPU and
 * weights (`upstream_gpu.py`). Writes gpu_bench.json (every figure, the machine's identity) and gpu_bench.md (the
 * table, every target with PASS/FAIL) into --out.
 *
 * Meant to run bundled (`prepare.sh` builds it into a Node bundle; `run.sh` runs it on a machine with no Node and
 * no network), and runs from source too:
 *   npx bun scripts/gpu_bench/bench.ts --work DIR --out DIR [--preset full|tiny] [--devices webgpu,cuda]
 *       [--clips 8] [--seconds 10] [--repeats 3] [--upstream CMD] [--threads N]
 *
 * Protocol (upstream_timing.py's, per configuration): one warm-up call of each batch shape, then `repeats` timed
 * rounds; a round of batch 1 is the loop over all clips one by one, a round of batch 8 is one call over all of them;
 * the figure is the round's median divided by the clips (each clip is `seconds` long, so it reads as seconds per 10 s).
 * Each device runs in its own process (onnxruntime makes one WebGPU device per process, and a GPU's memory is
 * returned when its process ends); the upstream command is another process, run after ours.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { loadavg } from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { codesForSamples, SAMPLE_RATE } from "../../convert/mod.ts";
import { Command } from "../../common/args.ts";
import { describeMachine, type MachineIdentity, machineIdentity, spread } from "../bench_machine.ts";
import { mulberry32 } from "../../parity/prng.ts";

/** Targets of issue 14 item 4: faster than upstream PyTorch eager on the same GPU; batched ≥ 1.5× the per-clip loop. */
export const GPU_TARGETS = { vsUpstream: 1, batchedSpeedup: 1.5 };

export type GpuDevice = "webgpu" | "cuda" | "cpu";
export type Part = "encode" | "decode";

/** One configuration's figures: seconds per clip (= per `seconds` of audio) at batch 1 and in one batch. */
export interface Figures {
  batch1: { perClip: number; rounds: number[] };
  batchN: { perClip: number; rounds: number[] };
  /** loop time / batch time: what batching buys */
  batchedSpeedup: number;
}

export interface DeviceResult {
  device: GpuDevice;
  ok: boolean;
  /** why the device could not be used (the loader's or onnxruntime's words) */
  error?: string;
  adapter?: string;
  /** a CPU rasteriser (lavapipe): its figures say nothing about the GPU, and no target counts them */
  software?: boolean;
  loadSeconds?: number;
  /** keyed "encode fp32", "decode fp32", "decode fp16" */
  runs: Record<string, Figures>;
  peakRssBytes?: number;
}

export interface UpstreamResult {
  ok: boolean;
  error?: string;
  info?: Record<string, unknown>;
  runs: Record<string, Figures>;
}

interface Options {
  work: string;
  out: string;
  preset: "full" | "tiny";
  devices: GpuDevice[];
  clips: number;
  seconds: number;
  repeats: number;
  threads?: number;
  upstream?: string;
  clip: string;
  /** a child's budget in seconds: a hung device must not eat the whole run */
  childTimeout: number;
}

const SELF = fileURLToPath(import.meta.url);
const log = (m: string) => process.stderr.write(`[gpu-bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

// ------------------------------------------------------------------------------------------------ inputs

/** `count` clips of `seconds` each, loops of a 16 kHz mono WAV at different offsets (speech-like content). */
export async function benchClips(wav: string, count: number, seconds: number): Promise<Float32Array[]> {
  // the WAV reader alone: the audio module's FLAC and MP3 decoders need web workers that a Node bundle lacks
  const { decodeWav } = await import("../../runtime/audio/wav_reader.ts");
  const { downmixToMono } = await import("../../runtime/audio/downmix.ts");
  const decoded = decodeWav(readFileSync(wav), wav);
  if (decoded.sampleRate !== SAMPLE_RATE) throw new Error(`${wav}: ${decoded.sampleRate} Hz, ${SAMPLE_RATE} expected`);
  const samples = downmixToMono(decoded.channelData);
  const n = Math.round(seconds * SAMPLE_RATE);
  return Array.from({ length: count }, (_, i) => {
    const off = (i * 7919) % samples.length, c = new Float32Array(n);
    for (let j = 0; j < n; j++) c[j] = samples[(j + off) % samples.length]!;
    return c;
  });
}

/** Seeded random codes (the decoder's cost does not depend on the values). */
export function benchCodes(count: number, samples: number, codebookSize: number): Int32Array[] {
  const k = codesForSamples(samples);
  return Array.from({ length: count }, (_, i) => {
    const r = mulberry32(99 + i), out = new Int32Array(k);
    for (let j = 0; j < k; j++) out[j] = Math.floor(r() * codebookSize);
    return out;
  });
}

/** Warm-up of both shapes, then `repeats` rounds of the loop and of the one batch. */
export async function timeBoth(
  clips: number,
  repeats: number,
  one: (i: number) => Promise<unknown>,
  all: () => Promise<unknown>,
): Promise<Figures> {
  await one(0);
  await all();
  const loop: number[] = [], batch: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let t = performance.now();
    for (let i = 0; i < clips; i++) await one(i);
    loop.push((performance.now() - t) / 1000);
    t = performance.now();
    await all();
    batch.push((performance.now() - t) / 1000);
  }
  const l = spread(loop).median, b = spread(batch).median;
  return {
    batch1: { perClip: l / clips, rounds: loop },
    batchN: { perClip: b / clips, rounds: batch },
    batchedSpeedup: l / b,
  };
}

// ------------------------------------------------------------------------------------------------ child: one device

async function deviceChild(o: Options, dir: string, device: GpuDevice): Promise<DeviceResult> {
  const { Xcodec2 } = await import("../../runtime/codec.ts");
  const runs: Record<string, Figures> = {};
  const clips = await benchClips(o.clip, o.clips, o.seconds);
  // the adapter onnxruntime's WebGPU device runs on (a software one, lavapipe, would make the figures meaningless)
  const { resolveDevice } = await import("../../runtime/devices.ts");
  const resolved = await resolveDevice(device, (m) => log(`${device}: ${m}`));
  const adapter = resolved.adapter, software = resolved.software;
  let loadSeconds: number | undefined;
  // fp32 first (encoder and decoder), then the fp16 decoder: sessions open on first use, so the fp16 codec never
  // opens its encoder
  for (const precision of ["fp32", "fp16"] as const) {
    const t0 = performance.now();
    const codec = await Xcodec2.load(dir, {
      device,
      precision,
      threads: o.threads,
      log: (m) => log(`${device}: ${m}`),
    });
    if (codec.device !== device) throw new Error(`asked for ${device}, got ${codec.device}`);
    await codec.warmUp().catch(() => {}); // opens both sessions; a failure shows again in the timed calls
    if (precision === "fp32") loadSeconds = (performance.now() - t0) / 1000;
    const codes = benchCodes(o.clips, clips[0]!.length, codec.codebookSize);
    if (precision === "fp32") {
      log(`${device}: encode fp32`);
      runs["encode fp32"] = await timeBoth(
        o.clips,
        o.repeats,
        (i) => codec.encodeBatch([clips[i]!]),
        () => codec.encodeBatch(clips),
      );
    }
    log(`${device}: decode ${precision}`);
    runs[`decode ${precision}`] = await timeBoth(
      o.clips,
      o.repeats,
      (i) => codec.decodeBatch([codes[i]!]),
      () => codec.decodeBatch(codes),
    );
    await codec.dispose();
  }
  return {
    device,
    ok: true,
    adapter,
    software,
    loadSeconds,
    runs,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

function runDevice(o: Options, dir: string, device: GpuDevice): DeviceResult {
  const r = spawnSync(process.execPath, [SELF, "--child", JSON.stringify({ o, dir, device })], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    timeout: o.childTimeout * 1000,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const last = (r.stdout ?? "").trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last) as DeviceResult;
  } catch {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    return { device, ok: false, error: `the ${device} process printed no result (${why})`, runs: {} };
  }
}

// ------------------------------------------------------------------------------------------------ upstream

function runUpstream(o: Options, dir: string): UpstreamResult {
  const file = join(o.work, "upstream.json");
  const args = ["--model", dir, "--clip", o.clip, "--clips", String(o.clips), "--seconds", String(o.seconds)];
  args.push("--repeats", String(o.repeats), "--out", file);
  const line = `${o.upstream} ${args.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ")}`;
  log(`upstream: ${line}`);
  const r = spawnSync("bash", ["-c", line], {
    stdio: ["ignore", "inherit", "inherit"],
    timeout: o.childTimeout * 1000,
  });
  if (!existsSync(file)) {
    return { ok: false, error: `the upstream command wrote no ${file} (exit ${r.status ?? r.signal})`, runs: {} };
  }
  return JSON.parse(readFileSync(file, "utf8")) as UpstreamResult;
}

// ------------------------------------------------------------------------------------------------ report

export interface TargetResult {
  id: string;
  what: string;
  value: number | null;
  target: number;
  pass: boolean | null;
}

/** Every target from one run: ours vs upstream per part (our best device), batched vs loop per device and part. */
export function gpuTargets(devices: DeviceResult[], upstream: UpstreamResult | undefined): TargetResult[] {
  const out: TargetResult[] = [];
  const judge = (id: string, what: string, value: number | null, target: number) =>
    out.push({ id, what, value, target, pass: value === null ? null : value >= target });
  const ok = devices.filter((d) => d.ok && !d.software);
  // like for like: our fp32 graphs against upstream's fp32 eager model (the fp16 decoder's figures are in the table)
  for (
    const [part, key, upKey] of [["encode", "encode fp32", "encode fp32"], ["decode", "decode fp32", "decode fp32"]]
  ) {
    for (const shape of ["batch1", "batchN"] as const) {
      const ours = ok.map((d) => d.runs[key]?.[shape].perClip).filter((x): x is number => x !== undefined);
      const up = upstream?.ok ? upstream.runs[upKey]?.[shape].perClip : undefined;
      const best = ours.length ? Math.min(...ours) : undefined;
      judge(
        `${part}_${shape}_vs_upstream`,
        `${part} ${shape === "batch1" ? "batch 1" : "one batch"}: upstream ${upKey} / ours ${key} (best device)`,
        best !== undefined && up !== undefined ? up / best : null,
        GPU_TARGETS.vsUpstream,
      );
    }
  }
  for (const d of ok) {
    for (const key of ["encode fp32", "decode fp32", "decode fp16"]) {
      const f = d.runs[key];
      judge(
        `${d.device}_${key.replace(" ", "_")}_batched`,
        `${d.device} ${key}: batch / loop speedup`,
        f?.batchedSpeedup ?? null,
        GPU_TARGETS.batchedSpeedup,
      );
    }
  }
  return out;
}

const fmt = (x: number | undefined | null, d = 3) => (x === undefined || x === null ? "–" : x.toFixed(d));

export function gpuTable(r: GpuBenchResult): string {
  const lines = [
    `GPU benchmark ${r.date}: ${r.gpu.name ?? "no GPU found"} (driver ${r.gpu.driver ?? "?"}), host ${
      describeMachine(r.machine)
    }`,
    `full-size: ${
      r.preset === "full"
    }; ${r.clips} clips × ${r.seconds} s; median of ${r.repeats} rounds after a warm-up`,
    "",
    `| device | run | batch 1, s per clip | batch ${r.clips}, s per clip | batched speedup |`,
    "| --- | --- | --- | --- | --- |",
  ];
  const row = (dev: string, run: string, f: Figures) =>
    lines.push(
      `| ${dev} | ${run} | ${fmt(f.batch1.perClip)} | ${fmt(f.batchN.perClip)} | ${fmt(f.batchedSpeedup, 2)}× |`,
    );
  for (const d of r.devices) {
    if (!d.ok) lines.push(`| ${d.device} | unavailable: ${d.error} | | | |`);
    for (const [k, f] of Object.entries(d.runs)) {
      row(d.adapter ? `${d.device} (${d.software ? "SOFTWARE " : ""}${d.adapter})` : d.device, k, f);
    }
  }
  if (r.upstream) {
    if (!r.upstream.ok) lines.push(`| upstream | failed: ${r.upstream.error} | | | |`);
    for (const [k, f] of Object.entries(r.upstream.runs)) row("upstream transformers", k, f);
  }
  lines.push("", "| target | value | needed | verdict |", "| --- | --- | --- | --- |");
  for (const t of r.targets) {
    lines.push(
      `| ${t.what} | ${fmt(t.value, 2)} | ≥ ${t.target} | ${
        t.pass === null ? "not measured" : t.pass ? "PASS" : "FAIL"
      } |`,
    );
  }
  return lines.join("\n") + "\n";
}

// ------------------------------------------------------------------------------------------------ main

export interface GpuBenchResult {
  date: string;
  preset: "full" | "tiny";
  clips: number;
  seconds: number;
  repeats: number;
  machine: MachineIdentity;
  gpu: { name?: string; driver?: string; memory?: string };
  prepare: { generateSeconds?: number; convertSeconds?: number; exportSeconds?: number };
  devices: DeviceResult[];
  upstream?: UpstreamResult;
  targets: TargetResult[];
  pass: Record<string, boolean | null>;
}

function nvidiaSmi(): GpuBenchResult["gpu"] {
  const r = spawnSync("nvidia-smi", ["--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"], {
    encoding: "utf8",
  });
  if (r.status !== 0 || !r.stdout) return {};
  const [name, driver, memory] = r.stdout.trim().split("\n")[0]!.split(",").map((s) => s.trim());
  return { name, driver, memory };
}

async function timed<T>(f: () => Promise<T>): Promise<number> {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
}

export async function runGpuBench(o: Options): Promise<GpuBenchResult> {
  const machine = machineIdentity();
  const original = join(o.work, `original-${o.preset}`), converted = join(o.work, `converted-${o.preset}`);
  await mkdir(o.work, { recursive: true });
  const prepare: GpuBenchResult["prepare"] = {};
  if (!existsSync(join(original, "model.safetensors"))) {
    log(`generating the ${o.preset} synthetic checkpoint into ${original}`);
    const { generateCheckpoint } = await import("../../fixtures/generate.ts");
    prepare.generateSeconds = await timed(() => generateCheckpoint({ out: original, preset: o.preset }));
  }
  if (!existsSync(join(converted, "onnx", "export.json"))) {
    log(`converting into ${converted}`);
    const { convertCheckpoint } = await import("../../convert/convert.ts");
    prepare.convertSeconds = await timed(() => convertCheckpoint({ source: original, out: converted, force: true }));
    log("exporting the ONNX graphs (fp32 and fp16)");
    const { exportOnnx } = await import("../../convert/onnx/export.ts");
    prepare.exportSeconds = await timed(() => exportOnnx(converted, { fp16: true }));
  }
  const devices: DeviceResult[] = [];
  for (const d of o.devices) {
    log(`timing ours on ${d}`);
    devices.push(runDevice(o, converted, d));
    if (!devices.at(-1)!.ok) log(`${d}: ${devices.at(-1)!.error}`);
  }
  const upstream = o.upstream ? runUpstream(o, converted) : undefined;
  const targets = gpuTargets(devices, upstream);
  machine.loadAvg.end = loadavg()[0];
  return {
    date: new Date().toISOString(),
    preset: o.preset,
    clips: o.clips,
    seconds: o.seconds,
    repeats: o.repeats,
    machine,
    gpu: nvidiaSmi(),
    prepare,
    devices,
    upstream,
    targets,
    pass: Object.fromEntries(targets.map((t) => [t.id, t.pass])),
  };
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

async function cli(argv: string[]): Promise<void> {
  if (argv[0] === "--child") {
    const { o, dir, device } = JSON.parse(argv[1]!) as { o: Options; dir: string; device: GpuDevice };
    let r: DeviceResult;
    try {
      r = await deviceChild(o, dir, device);
    } catch (e) {
      r = { device, ok: false, error: (e as Error).message.split("\n")[0], runs: {} };
    }
    process.stdout.write(JSON.stringify(r) + "\n");
    process.exit(0); // onnxruntime's WebGPU device keeps the event loop alive
  }
  process.exitCode = await GPU_BENCH.run(argv, async ({ values: v }) => {
    const o: Options = {
      work: resolve(v.work),
      out: resolve(v.out),
      clip: resolve(v.clip),
      preset: v.preset,
      devices: v.devices.length > 0 ? v.devices : ["webgpu", "cuda"],
      clips: v.clips,
      seconds: v.seconds,
      repeats: v.repeats,
      threads: v.threads,
      upstream: v.upstream,
      childTimeout: v["child-timeout"],
    };
    const r = await runGpuBench(o);
    await mkdir(o.out, { recursive: true });
    await writeAtomic(join(o.out, "gpu_bench.json"), JSON.stringify(r, null, 2) + "\n");
    const table = gpuTable(r);
    await writeAtomic(join(o.out, "gpu_bench.md"), table);
    process.stdout.write(table);
    return 0;
  });
}

const GPU_BENCH = new Command({
  name: "gpu_bench",
  program: "bash scripts/gpu_bench/run.sh",
  summary: "Time encode and decode on each GPU device and upstream transformers on the same GPU and weights.",
  positionals: [],
  options: {
    work: { type: "string", required: true, value: "DIR", help: "checkpoints, converted model and graphs go here" },
    out: { type: "string", required: true, value: "DIR", help: "where gpu_bench.json and gpu_bench.md go" },
    clip: { type: "string", required: true, value: "WAV", help: "16 kHz WAV the clips loop over" },
    preset: { type: "choice", choices: ["full", "tiny"] as const, default: "full", help: "checkpoint size" },
    devices: {
      type: "list",
      choices: ["webgpu", "cuda", "cpu"] as const,
      value: "LIST",
      help: "devices to time ours on (default webgpu,cuda)",
    },
    clips: { type: "integer", min: 1, max: 64, default: 8, help: "clips: the size of the one-call batch" },
    seconds: { type: "number", min: 0.1, max: 600, default: 10, help: "length of each clip" },
    repeats: { type: "integer", min: 1, max: 20, default: 3, help: "timed rounds after the warm-up" },
    threads: { type: "integer", min: 1, max: 1024, help: "CPU provider threads (the cpu device)" },
    upstream: { type: "string", value: "CMD", help: "command that times upstream (upstream_gpu.py), run after ours" },
    "child-timeout": {
      type: "integer",
      min: 10,
      max: 3600,
      default: 240,
      help: "seconds one device's process or the upstream command may take",
    },
  },
});

if ((import.meta as { main?: boolean }).main || process.argv[1] === SELF) await cli(process.argv.slice(2));
