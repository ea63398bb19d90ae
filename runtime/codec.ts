/**
 * The codec as an app uses it:
 *
 *   const codec = await Xcodec2.load("path/or/hf://owner/repo", { device: "auto" });
 *   const codes = await codec.encode([clipA, clipB]);   // Float32Array 16 kHz mono in, Int32Array per clip out
 *   const audio = await codec.decode(codes);            // Float32Array per item at codec.outputSampleRate,
 *                                                       // codec.samplesPerCode samples per code
 *
 * Every per-model number (rates, hops, codes per clip) comes from the loaded model's facts (`codec.facts`,
 * `codec.codesForSamples`), never from XCodec2's constants: the family's members (NeuCodec 24 kHz, WideCodec
 * 44.1 kHz, the 25TPS model's pooled codes) are other configs of the same graphs.
 *
 * `encode`/`decode` sort items by length into buckets, run each bucket as one batch and restore the caller's order.
 * The graphs carry per-item masks, so a batch returns for every item exactly what that item returns alone;
 * `encodeBatch`/`decodeBatch` expose the single-call path the parity suite checks that on.
 */
import * as ort from "onnxruntime-node";
import ndarray from "ndarray";
import ops from "ndarray-ops";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import {
  codebookSize,
  codesForClip,
  DECODER_INPUTS,
  DECODER_OUTPUTS,
  ENCODER_INPUTS,
  ENCODER_OUTPUTS,
  FEATURE_PADDING_VALUE,
  GRAPH_PARTS,
  graphFileName,
  type GraphPart,
  graphPrecision,
  minClipSamples,
  type ModelFacts,
  modelFacts,
  SAMPLE_RATE,
  type Xcodec2Config,
} from "../convert/mod.ts";
import { type BatchFeatures, batchFeatures } from "./features/mod.ts";
import { type ResolvedDevice, resolveDevice } from "./devices.ts";
import { createSession } from "./session.ts";
import { type ResolvedModel, resolveModel } from "./model_source.ts";
import type {
  DecodeOptions,
  DecodeStreamOptions,
  EncodeOptions,
  EncodeResult,
  LoadOptions,
  Precision,
} from "./types.ts";
import { InputError, validateClips, validateCodes } from "./validate.ts";
import { DECODE_GRID, ENCODE_GRID, resolveGrid, SINGLE_PASS_LIMIT, STREAM_GRID } from "./windows.ts";
import { decodeAnyLength } from "./long_decode.ts";
import { encodeAnyLength } from "./long_encode.ts";
import { decodeStreamWindows } from "./stream.ts";

const DEFAULT_BATCH = 8;
/** 8 clips of 30 s: bounds the padded encoder batch, i.e. activation memory. */
const DEFAULT_MAX_BATCH_SAMPLES = 8 * 30 * SAMPLE_RATE;
/**
 * On the CPU provider a batch buys nothing: one clip already fills the GEMMs, and padding is computed and thrown away.
 * The cost per second of audio grows a little with the padded size of a call (full-size model, 2 threads, CPU arena
 * on, `scripts/session_probe.ts`: 3.4 s per 10 s of audio for a 2.5 s call, 3.6 for 5 s and 10 s, 3.9 for 20 s,
 * 3.7 for 8 × 2.5 s), and so does peak memory. Buckets on CPU therefore hold at most 5 s of padded audio; longer
 * clips run alone.
 */
const CPU_MAX_BATCH_SAMPLES = 5 * SAMPLE_RATE;

export class Xcodec2 {
  /**
   * The loaded model's per-model facts: input and output rates, encoder hop (input samples per encoder frame), code
   * pooling, codes per second, decoder hop (output samples per code), n_fft, the feature extractor's flavour. Code
   * that cuts audio or codes into windows reads these, never HOP_LENGTH / SAMPLE_RATE.
   */
  readonly facts: ModelFacts;

  private constructor(
    readonly model: ResolvedModel,
    readonly config: Xcodec2Config,
    readonly device: string,
    /** graph precision of the encoder and of the decoder */
    readonly encoderPrecision: Precision,
    readonly decoderPrecision: Precision,
    /** opens a graph's session; called once per part, on first use */
    private readonly openSession: (part: GraphPart) => Promise<ort.InferenceSession>,
    private readonly opts: Required<Pick<LoadOptions, "maxBatchSamples">>,
  ) {
    this.facts = modelFacts(config);
  }

  /** Rate of the audio `encode` takes (16 kHz for every member). */
  get inputSampleRate(): number {
    return this.facts.inputSampleRate;
  }

  /** Rate of the audio `decode` returns: 16 kHz (XCodec2), 24 kHz (NeuCodec, 25TPS), 44.1 kHz (WideCodec). */
  get outputSampleRate(): number {
    return this.facts.sampleRate;
  }

  /** Codes per second of input audio: 50, or 25 for the pooled 25TPS model. */
  get codesPerSecond(): number {
    return this.facts.codesPerSecond;
  }

  /** Output samples per code: 320, 480, 882 or 960. */
  get samplesPerCode(): number {
    return this.facts.decoderHop;
  }

  /** Input samples one code covers (encoder hop × pooling): the unit of the encoder's time axis. */
  get inputSamplesPerCode(): number {
    return this.facts.encoderHop * this.facts.codePooling;
  }

  /** Codes a clip of `samples` samples gets (the same alone or in any batch); 0 below `minClipSamples`. */
  codesForSamples(samples: number): number {
    return codesForClip(this.facts, samples);
  }

  /** The shortest clip that gets a code (1 sample for XCodec2, 320 for NeuCodec, WideCodec and the 25TPS model). */
  get minClipSamples(): number {
    return minClipSamples(this.facts);
  }

  /** "fp32", "fp16", or "mixed" (fp32 encoder, fp16 decoder: what `auto` picks on GPUs). */
  get precision(): Precision | "mixed" {
    return this.encoderPrecision === this.decoderPrecision ? this.encoderPrecision : "mixed";
  }

  /** Number of distinct codes (65,536 for XCodec2's FSQ [4]×8). */
  get codebookSize(): number {
    return codebookSize(this.config.quantization_levels);
  }

  /**
   * Load a converted folder (with `onnx/` graphs, exported on first use if missing), an original checkpoint
   * (converted and exported into the cache first) or `hf://owner/repo[@revision]`.
   */
  static async load(source: string, opts: LoadOptions = {}): Promise<Xcodec2> {
    validateLoadOptions(opts);
    const log = opts.log ?? ((m: string) => console.error(m));
    const device: ResolvedDevice = await resolveDevice(opts.device ?? "auto", log);
    const model = await resolveModel(source, { cacheDir: opts.cacheDir, log, semanticEncoder: opts.semanticEncoder });
    const requested = opts.precision ?? "auto";
    if (requested === "fp16" && !model.hasFp16) {
      throw new InputError(`${model.onnxDir}: no fp16 graphs (export with fp16 enabled)`);
    }
    // `auto` follows the contract's table per device (fp32 encoder everywhere, fp16 decoder on GPUs).
    const encoderPrecision = graphPrecision("encoder", device.device, requested, model.hasFp16);
    const decoderPrecision = graphPrecision("decoder", device.device, requested, model.hasFp16);
    const file = (part: GraphPart) =>
      join(model.onnxDir, graphFileName(part, part === "encoder" ? encoderPrecision : decoderPrecision));
    for (const part of GRAPH_PARTS) {
      if (!(await stat(file(part)).then((s) => s.isFile(), () => false))) {
        const int8 = requested === "int8" && decoderPrecision === "int8" && part === "decoder";
        throw new InputError(
          `${file(part)}: graph missing${int8 ? ` (export it: xcodec2 export ${model.dir} --int8)` : ""}`,
        );
      }
    }
    // Sessions open on first use: an app that only encodes (tokenising a corpus) never holds the decoder's weights,
    // and one that only decodes never holds the encoder's (full size: 1.8 GB and 0.75 GB of fp32 weights).
    const openSession = (part: GraphPart) => createSession(file(part), device, { threads: opts.threads });
    return new Xcodec2(model, model.config, device.device, encoderPrecision, decoderPrecision, openSession, {
      maxBatchSamples: opts.maxBatchSamples ??
        (device.device === "cpu" ? CPU_MAX_BATCH_SAMPLES : DEFAULT_MAX_BATCH_SAMPLES),
    });
  }

  /** Codes for each clip (16 kHz mono float), in the caller's order. */
  async encode(clips: Float32Array[], opts: EncodeOptions = {}): Promise<Int32Array[]> {
    return (await this.encodeDetailed(clips, opts)).codes;
  }

  /**
   * Codes, latents and FSQ inputs for each clip, batched by length. Clips longer than the single-pass limit (30 s)
   * are encoded in windows (runtime/long_encode.ts), with memory bounded by the window.
   */
  async encodeDetailed(clips: Float32Array[], opts: EncodeOptions = {}): Promise<EncodeResult> {
    this.validateClips(clips);
    return encodeAnyLength(clips, (per) => this.encodeFeatures(per), this.facts, {
      batchSize: opts.batchSize ?? DEFAULT_BATCH,
      maxBatchSamples: this.opts.maxBatchSamples,
      singlePassLimit: singlePassLimit(opts.singlePassLimit),
      // an encode window is never blended: `hop` only bounds a crossfade option, in input samples per code
      grid: resolveGrid(ENCODE_GRID, opts, this.inputSamplesPerCode, "encode"),
      normalisation: opts.normalisation ?? "clip",
      onProgress: opts.onProgress,
    });
  }

  /**
   * Audio for each code sequence, `facts.decoderHop` samples per code, in the caller's order. Sequences longer than the
   * single-pass limit (1,500 codes) are decoded in windows (runtime/long_decode.ts); `streaming: true` decodes
   * every sequence exactly as `decodeStream` would.
   */
  async decode(codes: Int32Array[], opts: DecodeOptions = {}): Promise<Float32Array[]> {
    validateCodes(codes, this.codebookSize);
    return decodeAnyLength(codes, (c) => this.decodeBatch(c), {
      batchSize: opts.batchSize ?? DEFAULT_BATCH,
      maxBatchSamples: this.opts.maxBatchSamples,
      singlePassLimit: singlePassLimit(opts.singlePassLimit),
      grid: resolveGrid(opts.streaming ? STREAM_GRID : DECODE_GRID, opts, this.facts.decoderHop, "decode"),
      hop: this.facts.decoderHop,
      // the budget counts input-rate samples: a code stands for inputSamplesPerCode of them, whatever the output rate
      budgetPerCode: this.inputSamplesPerCode,
      streaming: opts.streaming ?? false,
      onProgress: opts.onProgress,
    });
  }

  /**
   * Audio as the codes arrive (TTS): each piece of input is an array of codes, each output piece the audio that
   * became final. The concatenated output equals `decode([all codes], { streaming: true, ...opts })` bit for bit,
   * however the input is split (runtime/stream.ts).
   */
  decodeStream(
    codes: AsyncIterable<ArrayLike<number>> | Iterable<ArrayLike<number>>,
    opts: DecodeStreamOptions = {},
  ): AsyncIterable<Float32Array> {
    this.checkOpen("decodeStream");
    const hop = this.facts.decoderHop;
    const grid = resolveGrid(STREAM_GRID, opts, hop, "decodeStream");
    return decodeStreamWindows(codes, async (c) => (await this.decodeBatch([c]))[0], grid, this.codebookSize, hop);
  }

  /** Exactly one encoder call over `clips` as given (no sorting, no splitting). */
  async encodeBatch(clips: Float32Array[]): Promise<EncodeResult> {
    this.checkOpen("encode");
    this.validateClips(clips);
    return this.encodeFeatures(batchFeatures(clips, this.facts));
  }

  /**
   * Exactly one encoder call over prepared inputs (`batchFeatures`, or `padFeatures` over the windows of long
   * clips): item b gets ⌊features.frames[b] / codePooling⌋ codes (its feature rows, pooled).
   */
  async encodeFeatures(features: BatchFeatures): Promise<EncodeResult> {
    this.checkOpen("encode");
    const B = features.frames.length;
    const f = atLeastTwoCodes(features, B, this.facts);
    const IN = ENCODER_INPUTS, OUT = ENCODER_OUTPUTS;
    const feeds = {
      [IN.values]: new ort.Tensor("float32", f.inputValues, [B, 1, f.Lmax]),
      [IN.paddingMask]: new ort.Tensor("int64", f.paddingMask, [B, f.Lmax]),
      [IN.features]: new ort.Tensor("float32", f.inputFeatures, [B, f.Fmax, f.inputFeatures.length / (B * f.Fmax)]),
      [IN.featuresMask]: new ort.Tensor("int64", f.inputFeaturesMask, [B, f.Fmax]),
    };
    const out = await (await this.session("encoder")).run(feeds);
    try {
      const codes = out[OUT.codes].data as BigInt64Array;
      const latents = toFloat32(out[OUT.latents]);
      const fsq = out[OUT.fsqInput] ? toFloat32(out[OUT.fsqInput]) : undefined;
      const K = out[OUT.codes].dims[2];
      const Q = out[OUT.latents].dims[1];
      const D = this.config.quantization_levels.length;
      const result: EncodeResult = { codes: [], latents: [], fsqInput: [] };
      for (let b = 0; b < B; b++) {
        const k = Math.floor(f.frames[b] / this.facts.codePooling);
        const c = new Int32Array(k);
        for (let t = 0; t < k; t++) c[t] = Number(codes[b * K + t]);
        result.codes.push(c);
        // [B, Q, K] → [Q, k]: one row copy (memcpy) per q. An ndarray view with ops.assign reads the same but copies
        // element by element: 1.4–3× slower here (8 full-size items of ≤ 10 s: 23 vs 32 ms Bun, 15 vs 47 ms Node).
        const lat = new Float32Array(Q * k);
        for (let q = 0; q < Q; q++) lat.set(latents.subarray((b * Q + q) * K, (b * Q + q) * K + k), q * k);
        result.latents.push(lat);
        result.fsqInput.push(fsq ? fsq.slice(b * K * D, (b * K + k) * D) : new Float32Array(0));
      }
      return result;
    } finally {
      for (const t of Object.values(out)) t.dispose?.();
    }
  }

  /** Exactly one decoder call over `codes` as given. */
  async decodeBatch(codes: Int32Array[]): Promise<Float32Array[]> {
    this.checkOpen("decode");
    validateCodes(codes, this.codebookSize);
    const B = codes.length;
    // At least two frames: onnxruntime's CPU GEMM takes a differently-rounding matrix-vector path when a matrix
    // has one row, so a one-code item alone would round differently from the same item in a batch. A masked
    // padding frame (invisible to the valid frame) avoids that path; kernels that change with larger batch shapes
    // remain, see the README's known limits.
    const K = Math.max(2, ...codes.map((c) => c.length));
    const ids = new BigInt64Array(B * K);
    const mask = new BigInt64Array(B * K);
    codes.forEach((c, b) => {
      for (let t = 0; t < c.length; t++) {
        ids[b * K + t] = BigInt(c[t]);
        mask[b * K + t] = 1n;
      }
    });
    const out = await (await this.session("decoder")).run({
      [DECODER_INPUTS.codes]: new ort.Tensor("int64", ids, [B, 1, K]),
      [DECODER_INPUTS.codesMask]: new ort.Tensor("int64", mask, [B, 1, K]),
    });
    try {
      const audio = toFloat32(out[DECODER_OUTPUTS.audio]);
      const hop = this.samplesPerCode;
      const S = K * hop;
      return codes.map((c, b) => audio.slice(b * S, b * S + c.length * hop));
    } finally {
      for (const t of Object.values(out)) t.dispose?.();
    }
  }

  /** The generic checks, then each clip long enough for one code of this model. */
  private validateClips(clips: Float32Array[]): void {
    validateClips(clips);
    const min = this.minClipSamples;
    clips.forEach((c, i) => {
      if (c.length < min) {
        throw new InputError(
          `clip ${i}: ${c.length} samples; this model needs at least ${min} (${
            (min / this.inputSampleRate * 1000).toFixed(0)
          } ms) for one code`,
        );
      }
    });
  }

  private disposed = false;
  private sessions: Partial<Record<GraphPart, Promise<ort.InferenceSession>>> = {};

  /** The part's session, opened once (concurrent first calls share one opening). */
  private session(part: GraphPart): Promise<ort.InferenceSession> {
    const s = (this.sessions[part] ??= this.openSession(part));
    s.catch(() => {
      if (this.sessions[part] === s) delete this.sessions[part];
    }); // a failed open may be retried
    return s;
  }

  /** Open both sessions now (load is lazy); useful to pay session creation before the first request. */
  async warmUp(): Promise<void> {
    this.checkOpen("warmUp");
    await Promise.all(GRAPH_PARTS.map((p) => this.session(p)));
  }

  private checkOpen(what: string): void {
    if (this.disposed) throw new InputError(`${what}: this Xcodec2 was disposed; load it again`);
  }

  /** Release both sessions; later calls do nothing. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const open = Object.values(this.sessions);
    this.sessions = {};
    await Promise.all(open.map((p) => p.then((s) => s.release(), () => {})));
  }
}

/** Options a caller got wrong fail here, typed and named, before any model is resolved or converted. */
function validateLoadOptions(opts: LoadOptions): void {
  const positiveInt = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) {
      throw new InputError(`load: ${name} must be a positive integer, got ${v}`);
    }
  };
  positiveInt("threads", opts.threads);
  positiveInt("maxBatchSamples", opts.maxBatchSamples);
}

/**
 * Append masked hops (and as many masked feature frames) until the batch has at least two codes, for the same reason
 * `decodeBatch` pads to two frames: a one-row matrix takes a differently-rounding kernel path in onnxruntime.
 * Each batch tensor is copied into the leading corner of its padded twin (an ndarray view and `ops.assign`: under
 * 1 ms, and only for batches whose clips all have one code).
 */
function atLeastTwoCodes(
  f: ReturnType<typeof batchFeatures>,
  B: number,
  facts: ModelFacts,
): ReturnType<typeof batchFeatures> {
  // the graph's codes: ⌊min(feature rows, acoustic frames) / pooling⌋; padding adds one of each per hop
  const codes = (extra: number) =>
    Math.floor(Math.min(f.Fmax + extra, f.Lmax / facts.encoderHop + extra) / facts.codePooling);
  let extra = 0;
  while (codes(extra) < 2) extra++;
  if (extra === 0) return f;
  const D = f.inputFeatures.length / (B * f.Fmax);
  const Lmax = f.Lmax + extra * facts.encoderHop, Fmax = f.Fmax + extra;
  return {
    ...f,
    inputValues: padded(f.inputValues, [B, f.Lmax], new Float32Array(B * Lmax), [B, Lmax]),
    paddingMask: padded(f.paddingMask, [B, f.Lmax], new BigInt64Array(B * Lmax), [B, Lmax]),
    inputFeatures: padded(
      f.inputFeatures,
      [B, f.Fmax, D],
      new Float32Array(B * Fmax * D).fill(FEATURE_PADDING_VALUE),
      [B, Fmax, D],
    ),
    inputFeaturesMask: padded(f.inputFeaturesMask, [B, f.Fmax], new BigInt64Array(B * Fmax), [B, Fmax]),
    Lmax,
    Fmax,
  };
}

/** `src` (row-major `shape`) copied into the leading corner of `dst` (row-major `dstShape`, already filled). */
function padded<T extends Float32Array | BigInt64Array>(src: T, shape: number[], dst: T, dstShape: number[]): T {
  // (the casts: @types/ndarray knows BigInt64Array only over a plain ArrayBuffer)
  ops.assign(ndarray(dst as ndarray.Data, dstShape).hi(...shape), ndarray(src as ndarray.Data, shape));
  return dst;
}

/** The caller's single-pass limit in codes, checked; default SINGLE_PASS_LIMIT. */
function singlePassLimit(v: number | undefined): number {
  if (v === undefined) return SINGLE_PASS_LIMIT;
  if (!(v === Infinity || (Number.isInteger(v) && v >= 0))) {
    throw new InputError(`singlePassLimit must be a non-negative integer or Infinity, got ${v}`);
  }
  return v;
}

function toFloat32(t: ort.Tensor): Float32Array {
  if (t.type === "float32") return t.data as Float32Array;
  throw new InputError(`graph output ${t.type} where float32 was expected`);
}
