/**
 * Test support for the encoder graph: the tiny-a reference checkpoint and case tensors, building and opening the
 * encoder on onnxruntime-node's CPU provider, and batching per-sample reference inputs by right-padding (the way
 * the feature extractor pads a batch). Used by tests only.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { type FloatDType, GraphBuilder } from "../graph.ts";
import { Weights } from "../weights.ts";
import { FEATURE_DIM, FEATURE_PADDING_VALUE, readXcodec2Config } from "../../architecture.ts";
import { buildEncoder, type EncoderOptions } from "./encoder.ts";

export const REFERENCE_DIR = new URL("../../../fixtures/reference/", import.meta.url).pathname;
export const TINY_A_CONVERTED = join(REFERENCE_DIR, "checkpoints/tiny-a/converted");

export interface SingleCase {
  file: string;
  clips: string[];
  frames: number;
  samples: number;
  "fsq_fragile_frames_1e-4": number[];
}

export async function referenceCases(): Promise<Record<string, SingleCase>> {
  return (JSON.parse(await readFile(join(REFERENCE_DIR, "cases.json"), "utf8")) as {
    cases: Record<string, SingleCase>;
  }).cases;
}

export interface Arr {
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

/** All tensors of one reference file, by name. */
export async function referenceTensors(file: string): Promise<(name: string) => Arr> {
  const w = await Weights.open(join(REFERENCE_DIR, "tensors/tiny-a", file));
  return (name) => {
    const r = w.raw(name);
    const b = r.bytes;
    if (r.dtype === "F32") return { shape: r.shape, data: new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4) };
    if (r.dtype === "I32") return { shape: r.shape, data: new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4) };
    if (r.dtype === "I64") return { shape: r.shape, data: new BigInt64Array(b.buffer, b.byteOffset, b.byteLength / 8) };
    throw new Error(`${file}: tensor ${name} has dtype ${r.dtype}`);
  };
}

export interface EncoderSession {
  run: (feeds: EncoderInputs) => Promise<Record<string, ort.Tensor>>;
  close: () => Promise<void>;
}

/** Build the tiny-a encoder, save it to a temporary folder and open a CPU session. */
export async function encoderSession(dtype: FloatDType, opts: EncoderOptions): Promise<EncoderSession> {
  const w = await Weights.open(TINY_A_CONVERTED);
  const cfg = await readXcodec2Config(join(TINY_A_CONVERTED, "config.json"));
  const g = new GraphBuilder("xcodec2_encoder_test", dtype);
  buildEncoder(g, w, cfg, opts);
  const dir = await mkdtemp(join(tmpdir(), "xc2-enc-"));
  const path = join(dir, "encoder.onnx");
  try {
    await g.save(path);
    const s = await ort.InferenceSession.create(path, { executionProviders: ["cpu"], intraOpNumThreads: 2 });
    return {
      run: async (f) =>
        s.run({
          input_values: new ort.Tensor("float32", f.inputValues, [f.batch, 1, f.samples]),
          padding_mask: new ort.Tensor("int64", f.paddingMask, [f.batch, f.samples]),
          input_features: new ort.Tensor("float32", f.features, [f.batch, f.frames, FEATURE_DIM]),
          input_features_mask: new ort.Tensor("int64", f.featuresMask, [f.batch, f.frames]),
        }) as Promise<Record<string, ort.Tensor>>,
      close: async () => {
        await s.release();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** One item's feature-extractor output (batch of one). */
export interface ItemInputs {
  inputValues: Float32Array;
  paddingMask: Int32Array;
  features: Float32Array;
  featuresMask: Int32Array;
}

export interface EncoderInputs {
  batch: number;
  samples: number;
  frames: number;
  inputValues: Float32Array;
  paddingMask: BigInt64Array;
  features: Float32Array;
  featuresMask: BigInt64Array;
}

/** The reference `fe.*` tensors of a single-clip case. */
export function itemFrom(t: (name: string) => Arr): ItemInputs {
  return {
    inputValues: t("fe.input_values").data as Float32Array,
    paddingMask: t("fe.padding_mask").data as Int32Array,
    features: t("fe.input_features").data as Float32Array,
    featuresMask: t("fe.input_features_mask").data as Int32Array,
  };
}

/**
 * Right-pad items into one batch like the feature extractor: samples and padding_mask with 0, features with 1.0,
 * features mask with 0. `extraFrames` pads every item further (a batch longer than all of its items).
 */
export function padBatch(items: ItemInputs[], extraFrames = 0): EncoderInputs {
  const frames = Math.max(...items.map((i) => i.featuresMask.length)) + extraFrames;
  const samples = frames * (items[0].inputValues.length / items[0].featuresMask.length);
  const b = items.length;
  const out: EncoderInputs = {
    batch: b,
    samples,
    frames,
    inputValues: new Float32Array(b * samples),
    paddingMask: new BigInt64Array(b * samples),
    features: new Float32Array(b * frames * FEATURE_DIM).fill(FEATURE_PADDING_VALUE),
    featuresMask: new BigInt64Array(b * frames),
  };
  items.forEach((it, i) => {
    out.inputValues.set(it.inputValues, i * samples);
    it.paddingMask.forEach((v, j) => {
      out.paddingMask[i * samples + j] = BigInt(v);
    });
    out.features.set(it.features, i * frames * FEATURE_DIM);
    it.featuresMask.forEach((v, j) => {
      out.featuresMask[i * frames + j] = BigInt(v);
    });
  });
  return out;
}

/** max|a − b| / max|b| over the first `n` entries of each row (rows of length `rowA` in a, `rowB` in b). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / (den || 1);
}

/** Item `i`'s first `n` steps of a [B, C, T] tensor (time last), as [C, n]. */
export function itemTimeLast(t: ort.Tensor, i: number, n: number): Float32Array {
  const [, c, len] = t.dims as number[];
  const src = t.data as Float32Array;
  const out = new Float32Array(c * n);
  for (let ch = 0; ch < c; ch++) out.set(src.subarray((i * c + ch) * len, (i * c + ch) * len + n), ch * n);
  return out;
}

/** Item `i`'s first `n` steps of a [B, T, C] tensor (time first), as [n, C]. */
export function itemTimeFirst(t: ort.Tensor, i: number, n: number): Float32Array {
  const [, len, c] = t.dims as number[];
  return (t.data as Float32Array).slice(i * len * c, i * len * c + n * c);
}
