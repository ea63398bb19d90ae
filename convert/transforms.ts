/**
 * What a conversion job does to its inputs' bytes, one function per transform kind of the architecture walk:
 * copy (cast when asked), fold weight norm (torch's CPU float32 order, in place when the inputs are the converter's
 * own scratch), split a fused q/k/v projection (q and k permuted per head for transformers' RoPE).
 */
import { castFloat, type FloatDType, fromFloat32, isFloatDType, toFloat32 } from "./dtype_cast.ts";
import { ConversionError } from "./errors.ts";
import type { Job, JobKind } from "./plan.ts";
import { permuteRowsForRope } from "./qkv_split.ts";
import type { DType } from "./tensor_source.ts";
import { foldWeightNorm, TORCH_CPU_MODE } from "./weight_norm.ts";

export interface JobOutput {
  name: string;
  data: Uint8Array;
}

export interface JobContext {
  /** the source, for error messages */
  file: string;
  /** decoder attention heads (the RoPE permutation is per head) */
  heads: number;
  dtypeOf(name: string): DType;
  /** a stale plain weight beside g/v was compared with the folded weight (largest difference relative to max |w|) */
  onStale(module: string, stale: string, maxRelDiff: number): void;
}

/** `owned`: the inputs are the converter's scratch, free to be overwritten. */
type Transform = (job: Job, get: (name: string) => Uint8Array, owned: boolean, ctx: JobContext) => JobOutput[];

const TRANSFORMS: Record<JobKind, Transform> = {
  copy(job, get, _owned, ctx) {
    const src = job.inputs.src!;
    const out = job.outputs[0]!;
    return [{ name: out.name, data: cast(get(src), ctx.dtypeOf(src), out.dtype) }];
  },

  split_qkv(job, get, _owned, ctx) {
    const src = job.inputs.src!;
    const data = get(src);
    const out = job.outputs;
    const rowBytes = data.byteLength / 3 / out[0]!.shape[0]!;
    // rows q | k | v; q and k get the RoPE permutation, v is written from the read buffer as it is (no copy)
    const third = data.byteLength / 3;
    const q = permuteRowsForRope(data.subarray(0, third), ctx.heads, rowBytes);
    const k = permuteRowsForRope(data.subarray(third, 2 * third), ctx.heads, rowBytes);
    const v = data.subarray(2 * third);
    return [q, k, v].map((d, i) => ({ name: out[i]!.name, data: cast(d, ctx.dtypeOf(src), out[i]!.dtype) }));
  },

  fold_weight_norm(job, get, owned, ctx) {
    const gName = job.inputs.g!;
    const vName = job.inputs.v!;
    const srcDType = ctx.dtypeOf(vName) as FloatDType; // the plan guarantees a float dtype
    const g = toFloat32(get(gName), srcDType);
    const v = toFloat32(get(vName), srcDType);
    let w: Float32Array;
    try {
      // inputs the converter read itself are scratch: fold in place (one tensor-sized buffer less per job)
      w = foldWeightNorm(g, v, TORCH_CPU_MODE, owned ? v : undefined);
    } catch (e) {
      throw new ConversionError((e as Error).message, { file: ctx.file, tensor: gName });
    }
    const stale = job.inputs.stale;
    if (stale) {
      const plain = toFloat32(get(stale), ctx.dtypeOf(stale) as FloatDType);
      let maxDiff = 0;
      let maxAbs = 0;
      for (let i = 0; i < w.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(w[i]! - plain[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(w[i]!));
      }
      ctx.onStale(job.module!, stale, maxAbs > 0 ? maxDiff / maxAbs : maxDiff);
    }
    const target = job.outputs[0]!.dtype as FloatDType;
    // folding is done in float32; a float32 result is written as is, anything else rounded once
    return [{
      name: job.outputs[0]!.name,
      data: target === "F32" ? fromFloat32(w, "F32") : castFloat(fromFloat32(w, "F32"), "F32", target),
    }];
  },
};

/** Runs a job on its loaded inputs; returns its outputs in order. */
export function runJob(
  job: Job,
  inputs: ReadonlyMap<string, Uint8Array>,
  owned: boolean,
  ctx: JobContext,
): JobOutput[] {
  const get = (n: string) => {
    const d = inputs.get(n);
    if (!d) throw new ConversionError("tensor data not available when needed", { file: ctx.file, tensor: n });
    return d;
  };
  return TRANSFORMS[job.kind](job, get, owned, ctx);
}

function cast(data: Uint8Array, from: DType, to: DType): Uint8Array {
  if (from === to) return data;
  if (!isFloatDType(from) || !isFloatDType(to)) throw new ConversionError(`cannot cast ${from} to ${to}`);
  return castFloat(data, from, to);
}
