/**
 * Test support for the FSQ and decoder graphs: the tiny-a reference checkpoint and tensors, and a way to build a
 * graph, save it to a temporary folder and run it on onnxruntime-node's CPU provider. Used by tests only.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { type FloatDType, GraphBuilder } from "../graph.ts";
import { Weights } from "../weights.ts";
import { readXcodec2Config, type Xcodec2Config } from "../../architecture.ts";

export const REFERENCE_DIR = fileURLToPath(new URL("../../../fixtures/reference/", import.meta.url));
export const TINY_A_CONVERTED = join(REFERENCE_DIR, "checkpoints/tiny-a/converted");

export interface ReferenceCase {
  kind: "single" | "batch";
  file: string;
  clips: string[];
  frames?: number;
  "fsq_fragile_frames_1e-4"?: number[];
}

export async function referenceCases(): Promise<Record<string, ReferenceCase>> {
  const j = JSON.parse(await readFile(join(REFERENCE_DIR, "cases.json"), "utf8")) as {
    cases: Record<string, ReferenceCase>;
  };
  return j.cases;
}

export async function tinyA(): Promise<{ w: Weights; cfg: Xcodec2Config }> {
  return {
    w: await Weights.open(TINY_A_CONVERTED),
    cfg: await readXcodec2Config(join(TINY_A_CONVERTED, "config.json")),
  };
}

export interface Tensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Reference tensors of one case file (F32 and I32 only, which is all the reference files hold). */
export async function referenceTensors(file: string): Promise<(name: string) => Tensor> {
  const w = await Weights.open(join(REFERENCE_DIR, "tensors/tiny-a", file));
  return (name: string) => {
    const r = w.raw(name);
    if (r.dtype === "F32") {
      return { shape: r.shape, data: new Float32Array(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength / 4) };
    }
    if (r.dtype === "I32") {
      return { shape: r.shape, data: new Int32Array(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength / 4) };
    }
    throw new Error(`${file}: tensor ${name} has dtype ${r.dtype}`);
  };
}

/** Build a graph with `build`, save it to a temporary folder and open a CPU session; `close()` cleans up. */
export async function session(
  dtype: FloatDType,
  build: (g: GraphBuilder) => void,
): Promise<{ s: ort.InferenceSession; close: () => Promise<void> }> {
  const g = new GraphBuilder("test", dtype);
  build(g);
  const dir = await mkdtemp(join(tmpdir(), "xc2-dec-"));
  const path = join(dir, "m.onnx");
  await g.save(path);
  const s = await ort.InferenceSession.create(path, { executionProviders: ["cpu"], intraOpNumThreads: 2 });
  return {
    s,
    close: async () => {
      await s.release();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function int64(values: ArrayLike<number>, dims: number[]): ort.Tensor {
  return new ort.Tensor("int64", BigInt64Array.from(Array.from(values), (v) => BigInt(v)), dims);
}

/** The error figures the parity suite reports (Infinity when the lengths differ or a value is not finite). */
export { maxAbsDiff, relL2 } from "../../../parity/metrics.ts";

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
