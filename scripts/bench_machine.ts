/**
 * The machine a benchmark ran on, so runs can be compared over time: the CPU's identity and the instruction-set
 * extensions that change which kernels onnxruntime and torch pick (AVX-512, VNNI, BF16, AMX), the load while it ran,
 * and onnxruntime's fp32 MatMul rate measured in the same run (the practical GEMM ceiling every GFLOP/s figure is
 * read against). Speed figures from two machines are not comparable; a ratio holds only within one run.
 */
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { mulberry32 } from "../parity/prng.ts";

/** Extensions worth recording (Linux /proc/cpuinfo flag names). */
export const CPU_FLAGS_OF_INTEREST = [
  "avx2",
  "fma",
  "f16c",
  "avx_vnni",
  "avx512f",
  "avx512bw",
  "avx512vl",
  "avx512_vnni",
  "avx512_bf16",
  "avx512_fp16",
  "amx_tile",
  "amx_int8",
  "amx_bf16",
  "sha_ni",
] as const;

export interface MachineIdentity {
  cpuModel: string | undefined;
  vendor: string | undefined;
  /** `cpu family` / `model` / `stepping` from /proc/cpuinfo (e.g. AMD family 25 model 1: Zen 3 Milan) */
  family: number | undefined;
  model: number | undefined;
  stepping: number | undefined;
  /** the flags of CPU_FLAGS_OF_INTEREST this CPU has */
  flags: string[];
  /** AVX-512 present at all (any avx512* flag) */
  avx512: boolean;
  cpus: number;
  memBytes: number;
  kernel: string;
  /** 1-minute load average at the start and the end of the run: a loaded machine makes every timing noisy */
  loadAvg: { start: number; end?: number };
}

/** Fields of the first processor block of /proc/cpuinfo (Linux); empty elsewhere. */
export function parseCpuinfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (Object.keys(out).length > 0) break;
      continue;
    }
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export function machineIdentity(cpuinfo?: string): MachineIdentity {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/cpuinfo", "utf8");
    } catch {
      text = "";
    }
  }
  const f = parseCpuinfo(text);
  const num = (k: string) => (f[k] !== undefined && /^\d+$/.test(f[k]) ? Number(f[k]) : undefined);
  const all = new Set((f.flags ?? "").split(/\s+/).filter(Boolean));
  return {
    cpuModel: f["model name"] ?? cpus()[0]?.model,
    vendor: f.vendor_id,
    family: num("cpu family"),
    model: num("model"),
    stepping: num("stepping"),
    flags: CPU_FLAGS_OF_INTEREST.filter((x) => all.has(x)),
    avx512: [...all].some((x) => x.startsWith("avx512")),
    cpus: cpus().length,
    memBytes: totalmem(),
    kernel: release(),
    loadAvg: { start: loadavg()[0] },
  };
}

/** One line for tables: "AMD EPYC (family 25 model 1), 2 CPUs, AVX2 FMA, no AVX-512". */
export function describeMachine(m: MachineIdentity): string {
  const fam = m.family !== undefined ? ` (family ${m.family} model ${m.model})` : "";
  const ext = m.flags.filter((x) => x !== "sha_ni").map((x) => x.toUpperCase()).join(" ");
  return `${m.cpuModel ?? "unknown CPU"}${fam}, ${m.cpus} CPUs, ${ext || "no AVX2"}${m.avx512 ? "" : ", no AVX-512"}`;
}

export const MATMUL_N = 2048;

/** GFLOP/s onnxruntime reaches on one N×N×N fp32 MatMul (the machine's practical GEMM ceiling), `runs` runs. */
export async function matmulRate(threads: number, runs = 10, n = MATMUL_N): Promise<number[]> {
  const ort = await import("onnxruntime-node");
  const { GraphBuilder } = await import("../convert/onnx/graph.ts");
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
    for (let i = 0; i < runs; i++) {
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

/** Median, minimum and maximum of a list of figures. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  values: number[];
}

export function spread(values: readonly number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length, mid = n >> 1;
  const median = n === 0 ? NaN : n % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0] ?? NaN, max: s[n - 1] ?? NaN, values: [...values] };
}
