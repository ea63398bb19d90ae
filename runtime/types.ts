/** Public types of the runtime library. */
import type { WindowOptions } from "./windows.ts";
import type { WindowNormalisation } from "./features/windowed.ts";
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
  /**
   * an original NeuCodec checkpoint holds no semantic encoder: its Wav2Vec2-BERT folder (config.json +
   * model.safetensors) or `hf://facebook/w2v-bert-2.0[@rev]` (default: a `w2v-bert-2.0/` folder beside it)
   */
  semanticEncoder?: string;
  /** upper bound on padded samples in one batch (memory budget); default 5 s on CPU (see codec.ts), 8 × 30 s on GPUs */
  maxBatchSamples?: number;
  /** one-line progress / fallback messages; default: stderr */
  log?: (msg: string) => void;
}

export interface EncodeOptions extends LongAudioOptions {
  /** largest number of clips (or windows) per ONNX call (default 8) */
  batchSize?: number;
  /**
   * How a window of a long clip normalises its features: with the whole clip's statistics (default, "clip") or
   * with its own ("window"). Clips up to the single-pass limit always use their own, as upstream does.
   */
  normalisation?: WindowNormalisation;
}

/** Windowing of sequences longer than the single-pass limit (runtime/windows.ts; frames are codes: 50 per second, 25 for the pooled 25TPS model). */
export interface LongAudioOptions extends WindowOptions {
  /**
   * Sequences of at most this many codes run in one pass, exactly as they always have (default SINGLE_PASS_LIMIT,
   * 1,500 codes = 30 s); longer ones run in windows. `Infinity` never windows (memory then grows with the square
   * of the length).
   */
  singlePassLimit?: number;
  /** called after each onnxruntime call with the codes finished so far and the codes of the whole call */
  onProgress?: (doneCodes: number, totalCodes: number) => void;
}

export interface DecodeOptions extends LongAudioOptions {
  /** largest number of sequences (or windows) per ONNX call (default 8) */
  batchSize?: number;
  /**
   * Decode on the stream's window grid, bit for bit what `decodeStream` emits for the same codes however they
   * arrive: every sequence (short ones too: a stream cannot know its length) in windows, one window per call.
   */
  streaming?: boolean;
}

/** `decodeStream`'s options: the stream's window grid (default STREAM_GRID: a 10-code first window). */
export type DecodeStreamOptions = WindowOptions;

export interface EncodeResult {
  /** one Int32Array of K_b codes per clip, in the caller's order */
  codes: Int32Array[];
  /** latents per clip, [Q, K_b] row-major (Q = quantization_dim) */
  latents: Float32Array[];
  /** FSQ values before rounding per clip, [K_b, D] row-major (D = number of FSQ levels); used to find ties */
  fsqInput: Float32Array[];
}
