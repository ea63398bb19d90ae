/** Public types of the runtime library. */
import type { DeviceChoice, Precision } from "../convert/mod.ts";

/** `cpu`, `webgpu`, `cuda` or `auto` (the list is the contract's `DEVICE_CHOICES`). */
export type DeviceRequest = DeviceChoice;
export type { Precision };

export interface LoadOptions {
  /** where to run; `auto` = cuda, then a hardware WebGPU adapter, then cpu (default `auto`) */
  device?: DeviceRequest;
  /** graph precision of both graphs; `auto` (default): fp32 encoder everywhere, fp16 decoder on GPUs when exported */
  precision?: Precision | "auto";
  /** intra-op threads for the CPU provider (default: all cores) */
  threads?: number;
  /** where converted checkpoints of `hf://` or original sources are cached */
  cacheDir?: string;
  /** upper bound on padded samples in one batch (memory budget); default 5 s on CPU (see codec.ts), 8 × 30 s on GPUs */
  maxBatchSamples?: number;
  /** one-line progress / fallback messages; default: stderr */
  log?: (msg: string) => void;
}

export interface EncodeOptions {
  /** largest number of clips per ONNX call (default 8) */
  batchSize?: number;
}

export interface EncodeResult {
  /** one Int32Array of K_b codes per clip, in the caller's order */
  codes: Int32Array[];
  /** latents per clip, [Q, K_b] row-major (Q = quantization_dim) */
  latents: Float32Array[];
  /** FSQ values before rounding per clip, [K_b, D] row-major (D = number of FSQ levels); used to find ties */
  fsqInput: Float32Array[];
}
