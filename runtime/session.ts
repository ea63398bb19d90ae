/**
 * onnxruntime-node sessions with the options this project wants, and a `run` that hands back plain arrays and
 * disposes onnxruntime's output tensors.
 *
 * Memory: the CPU arena is ON and the memory pattern OFF. Measured on the full-size encoder (Bun, CPU EP, 2 threads,
 * one 10 s clip; `scripts/session_probe.ts` reproduces it): with the arena off, every 30–60 MB
 * activation of the acoustic encoder is a fresh glibc mmap whose pages fault in and are zeroed on first touch, and
 * freed blocks under glibc's 32 MB mmap threshold fragment the heap: 7.4 s per 10 s of audio, peak RSS 3.97 GB.
 * With the arena on, the same blocks are reused run after run: 3.6 s per 10 s, peak RSS 2.05 GB (weights 1.77 GB).
 * The decoder gains the same way (10 s clip 0.58 → 0.53 s, then an 8-clip batch 1.01 → 0.91 s per 10 s; peak RSS
 * 1.87 → 1.18 GB). (An earlier probe on a small MatMul-only graph had favoured the arena off; the real graphs,
 * with their many large short-lived activations, are the opposite case.) The memory pattern stays off: it is
 * planned per input shape, and our batches change shape on every call (the WebGPU EP turns it off by itself).
 */
import * as ort from "onnxruntime-node";
import { existsSync, statSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { basename } from "node:path";
import type { Log, ResolvedDevice } from "./devices.ts";
import { Xcodec2Error } from "../common/errors.ts";

export interface CreateSessionOptions {
  /** Intra-op threads for CPU kernels (also CPU fallback nodes on GPU devices). Default: available cores. */
  threads?: number;
  log?: Log;
  /**
   * Fail at creation when any node would run on the CPU provider instead of `device` (onnxruntime's
   * `session.disable_cpu_ep_fallback`). For diagnostics and tests; real graphs on WebGPU legitimately keep a few
   * shape-computation nodes on the CPU.
   */
  requireAllNodesOnDevice?: boolean;
  /** onnxruntime's CPU memory arena (default on: see the note at the top of this file). */
  cpuArena?: boolean;
}

/** A model file could not be opened as a session on the chosen device. */
export class SessionError extends Xcodec2Error {
  constructor(
    readonly modelPath: string,
    message: string,
  ) {
    super(message);
  }
}

export function defaultThreads(): number {
  try {
    return Math.max(1, availableParallelism());
  } catch {
    return Math.max(1, cpus().length);
  }
}

/** Session options for a resolved device (exported so callers and tests can see exactly what is used). */
export function sessionOptions(
  device: ResolvedDevice,
  opts: CreateSessionOptions = {},
): ort.InferenceSession.SessionOptions {
  const threads = opts.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`threads must be a positive integer, got ${threads}`);
  }
  const session: Record<string, string> = {};
  if (opts.requireAllNodesOnDevice) session.disable_cpu_ep_fallback = "1";
  return {
    executionProviders: device.executionProviders,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    enableMemPattern: false,
    enableCpuMemArena: opts.cpuArena ?? true,
    // 3 = error: onnxruntime's warnings (e.g. about CPU fallback of shape nodes) are expected and not actionable.
    logSeverityLevel: 3,
    extra: { session },
  };
}

/**
 * Open `modelPath` on `device`. The path (not a buffer) goes to onnxruntime so that ONNX external data files next
 * to the model are found and mapped by onnxruntime itself, never copied through JavaScript.
 */
export async function createSession(
  modelPath: string,
  device: ResolvedDevice,
  opts: CreateSessionOptions = {},
): Promise<ort.InferenceSession> {
  if (!existsSync(modelPath) || !statSync(modelPath).isFile()) {
    throw new SessionError(modelPath, `ONNX model not found: ${modelPath}`);
  }
  const options = sessionOptions(device, opts);
  const t0 = performance.now();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelPath, options);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new SessionError(modelPath, `cannot open ONNX model ${modelPath} on ${device.device}: ${msg}`);
  }
  opts.log?.(
    `session ${basename(modelPath)}: ${device.device}${device.adapter ? ` (${device.adapter})` : ""}, ` +
      `${options.intraOpNumThreads} threads, created in ${(performance.now() - t0).toFixed(0)} ms`,
  );
  return session;
}

export interface OutputArray {
  type: ort.Tensor.Type;
  dims: readonly number[];
  data: ort.Tensor.DataType;
}

/**
 * Run and return every requested output as a plain `{ type, dims, data }`; onnxruntime's output tensors are
 * disposed before returning (and on every path out), so nothing keeps native or GPU memory alive. Input tensors
 * belong to the caller. Feed names are checked first so a typo names the missing or unknown input.
 */
export async function run(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  outputNames: readonly string[] = session.outputNames,
): Promise<Record<string, OutputArray>> {
  const missing = session.inputNames.filter((n) => !(n in feeds));
  const unknown = Object.keys(feeds).filter((n) => !session.inputNames.includes(n));
  if (missing.length > 0 || unknown.length > 0) {
    throw new TypeError(
      `session inputs are [${session.inputNames.join(", ")}]` +
        (missing.length ? `; missing: ${missing.join(", ")}` : "") +
        (unknown.length ? `; unknown: ${unknown.join(", ")}` : ""),
    );
  }
  const badOutputs = outputNames.filter((n) => !session.outputNames.includes(n));
  if (badOutputs.length > 0) {
    throw new TypeError(
      `unknown output(s) ${badOutputs.join(", ")}; session outputs are [${session.outputNames.join(", ")}]`,
    );
  }

  const results = await session.run(feeds, outputNames as string[]);
  const out: Record<string, OutputArray> = {};
  try {
    for (const name of outputNames) {
      const t = results[name];
      // getData() downloads GPU-located tensors and returns `data` for CPU ones. The typed array stays valid after
      // dispose: dispose only drops the tensor's reference (and frees native / GPU buffers when there are any).
      const data = await t.getData();
      out[name] = { type: t.type, dims: [...t.dims], data };
    }
  } finally {
    for (const t of Object.values(results)) t.dispose();
  }
  return out;
}
