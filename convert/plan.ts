/**
 * The conversion plan, made from tensor infos and the config alone (no tensor data is read): what happens to every
 * source tensor, which output tensors result, and in which order they complete when the source is read front to back.
 * What a stored name becomes is looked up in the architecture walk (`sourceLookup`), not derived by renaming; the
 * planned outputs are checked against the walk's converted table before anything is written.
 */
import {
  type ArchTensor,
  expectedConvertedTensors,
  sourceLookup,
  walkArchitecture,
  type Xcodec2Config,
} from "./architecture/mod.ts";
import { type FloatDType, isFloatDType } from "./dtype_cast.ts";
import { ConversionError } from "./errors.ts";
import type { OriginalArchitecture } from "./original_config.ts";
import type { DType, TensorInfo } from "./tensor_source.ts";

/** The transforms a job runs (the walk's transform kinds, less "drop"). */
export type JobKind = "copy" | "fold_weight_norm" | "split_qkv";

export interface OutputTensor {
  name: string;
  dtype: DType;
  shape: number[];
}

export interface Job {
  kind: JobKind;
  /** source tensors the job needs, by role */
  inputs: { g?: string; v?: string; stale?: string; src?: string };
  outputs: OutputTensor[];
  /** index of the last needed source tensor in file order: the job runs once that tensor has been read */
  readyAt: number;
  /** fold_weight_norm: the weight-normed module (original path), named in the stale-weight report */
  module?: string;
}

export interface SourceRecord {
  source: string;
  dtype: DType;
  shape: number[];
  action: "rename" | "fold_weight_norm" | "split_qkv" | "drop";
  targets: string[];
  transform: string;
  reason?: string;
}

export interface Plan {
  jobs: Job[]; // in completion order
  records: SourceRecord[]; // in source file order
  /** tensors whose bytes are needed (everything else is read only to hash the file, or skipped) */
  outputs: OutputTensor[]; // in write order
}

export function makePlan(
  file: string,
  infos: readonly TensorInfo[],
  cfg: Xcodec2Config,
  arch: OriginalArchitecture,
  outDType: FloatDType | undefined,
): Plan {
  const index = new Map(infos.map((t, i) => [t.name, i]));
  const lookup = sourceLookup(cfg, arch.semanticModel.num_hidden_layers);
  const heads = cfg.num_attention_heads;
  const targetDType = (d: DType): DType => (outDType && isFloatDType(d) ? outDType : d);
  const castNote = (d: DType) => (outDType && isFloatDType(d) && d !== outDType ? `, cast ${d}→${outDType}` : "");

  // weight-norm groups by module, from the g/v halves the file stores
  const wn = new Map<string, { g?: string; v?: string }>();
  for (const t of infos) {
    const e = lookup.get(t.name)?.find((c) => c.transform.kind === "fold_weight_norm");
    if (e?.transform.kind !== "fold_weight_norm") continue;
    const m = e.weightNormOf!;
    const part = e.transform.part;
    const grp = wn.get(m) ?? {};
    if (grp[part] !== undefined) {
      throw new ConversionError(`weight norm stored twice for module "${m}" (also as "${grp[part]}")`, {
        file,
        tensor: t.name,
      });
    }
    grp[part] = t.name;
    wn.set(m, grp);
  }
  /** What a stored tensor is: a weight-normed conv's plain weight is stale beside g/v, and the weight itself alone. */
  const entryOf = (name: string): ArchTensor | undefined => {
    const entries = lookup.get(name);
    if (entries === undefined || entries.length === 1) return entries?.[0];
    return entries.find((c) => (c.presence === "stale") === wn.has(c.weightNormOf!));
  };
  const staleOf = new Map<string, string>();
  for (const t of infos) {
    const e = entryOf(t.name);
    if (e?.presence === "stale") staleOf.set(e.weightNormOf!, t.name);
  }

  const jobs: Job[] = [];
  const records: SourceRecord[] = [];
  const rec = (r: SourceRecord) => records.push(r);
  const extra: string[] = [];

  for (const t of infos) {
    const base = { source: t.name, dtype: t.dtype, shape: t.shape };
    const e = entryOf(t.name);
    if (e === undefined) {
      extra.push(t.name);
      continue;
    }
    const tr = e.transform;
    if (tr.kind === "drop") {
      rec({ ...base, action: "drop", targets: [], transform: "none", reason: tr.reason });
      continue;
    }
    if (tr.kind === "fold_weight_norm") {
      const m = e.weightNormOf!;
      const grp = wn.get(m)!;
      if (grp.g === undefined || grp.v === undefined) {
        const have = tr.part === "v" ? "weight_v (magnitude-direction pair's direction)" : "weight_g (magnitude)";
        const lacks = tr.part === "v" ? "its weight_g (magnitude)" : "its weight_v (direction)";
        throw new ConversionError(`${have} without ${lacks}: cannot fold weight norm for "${m}"`, {
          file,
          tensor: t.name,
        });
      }
      if (tr.part === "g") continue; // recorded with v below, once both are known
      const g = infos[index.get(grp.g)!]!;
      const v = t;
      checkWeightNormShapes(file, g, v);
      if (g.dtype !== v.dtype) {
        throw new ConversionError(`dtype ${g.dtype} differs from ${v.name}'s ${v.dtype}`, { file, tensor: g.name });
      }
      if (!isFloatDType(v.dtype)) {
        throw new ConversionError(`weight norm needs a float dtype, got ${v.dtype}`, { file, tensor: v.name });
      }
      const target = e.outputs[0]!.name;
      const stale = staleOf.get(m);
      if (stale !== undefined) checkStaleShape(file, infos[index.get(stale)!]!, v);
      const needed = [g.name, v.name, ...(stale ? [stale] : [])];
      jobs.push({
        kind: "fold_weight_norm",
        inputs: { g: g.name, v: v.name, stale },
        outputs: [{ name: target, dtype: targetDType(v.dtype), shape: [...v.shape] }],
        readyAt: Math.max(...needed.map((n) => index.get(n)!)),
        module: m,
      });
      const transform = `weight norm folded: w = g·v/‖v‖ per output channel (torch CPU float32 order)${
        castNote(v.dtype)
      }`;
      rec({ source: g.name, dtype: g.dtype, shape: g.shape, action: "fold_weight_norm", targets: [target], transform });
      rec({ ...base, action: "fold_weight_norm", targets: [target], transform });
      continue;
    }
    if (tr.kind === "split_qkv") {
      // the original fuses q, k and v of one width (its c_attn is Linear(dim, 3·dim))
      const weight = e.role !== "bias";
      if (t.shape.length !== (weight ? 2 : 1) || t.shape[0]! % 3 !== 0) {
        throw new ConversionError(
          `fused q/k/v projection has shape ${JSON.stringify(t.shape)}, expected [3·hidden${weight ? ", hidden" : ""}]`,
          { file, tensor: t.name },
        );
      }
      const rows = t.shape[0]! / 3;
      if (rows % heads !== 0 || (rows / heads) % 2 !== 0) {
        throw new ConversionError(`${rows} rows per projection do not split into ${heads} heads of even size`, {
          file,
          tensor: t.name,
        });
      }
      const targets = e.outputs.map((o) => o.name);
      jobs.push({
        kind: "split_qkv",
        inputs: { src: t.name },
        outputs: targets.map((name) => ({ name, dtype: targetDType(t.dtype), shape: [rows, ...t.shape.slice(1)] })),
        readyAt: index.get(t.name)!,
      });
      rec({
        ...base,
        action: "split_qkv",
        targets,
        transform: `split rows q|k|v; q and k permuted per head from interleaved RoPE pairs to half-split${
          castNote(t.dtype)
        }`,
      });
      continue;
    }
    const target = e.outputs[0]!.name;
    jobs.push({
      kind: "copy",
      inputs: { src: t.name },
      outputs: [{ name: target, dtype: targetDType(t.dtype), shape: [...t.shape] }],
      readyAt: index.get(t.name)!,
    });
    rec({
      ...base,
      action: "rename",
      targets: [target],
      transform: target === t.name ? `none${castNote(t.dtype)}` : `rename${castNote(t.dtype)}`,
    });
  }

  // order records as in the file (g records were pushed beside their v)
  records.sort((a, b) => index.get(a.source)! - index.get(b.source)!);
  jobs.sort((a, b) => a.readyAt - b.readyAt);
  const outputs = jobs.flatMap((j) => j.outputs);
  checkAgainstExpected(file, outputs, jobs, extra, cfg, arch);
  return { jobs, records, outputs };
}

function checkWeightNormShapes(file: string, g: TensorInfo, v: TensorInfo): void {
  const c = v.shape[0];
  const gOk = g.shape.length === v.shape.length && g.shape[0] === c && g.shape.slice(1).every((d) => d === 1);
  const gFlat = g.shape.length === 1 && g.shape[0] === c;
  if (v.shape.length < 2 || !(gOk || gFlat)) {
    throw new ConversionError(
      `magnitude shape ${JSON.stringify(g.shape)} does not match direction ${v.name} ${
        JSON.stringify(v.shape)
      } (expected [${c}, 1, …])`,
      { file, tensor: g.name },
    );
  }
}

/** A stale plain weight is compared with the folded one value by value: it must have the direction's shape. */
function checkStaleShape(file: string, stale: TensorInfo, v: TensorInfo): void {
  if (stale.shape.join() !== v.shape.join()) {
    throw new ConversionError(
      `stale plain weight has shape ${JSON.stringify(stale.shape)}, its direction ${v.name} ${JSON.stringify(v.shape)}`,
      { file, tensor: stale.name },
    );
  }
}

function sourcesOf(jobs: readonly Job[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const j of jobs) {
    const src = j.inputs.v ?? j.inputs.src!;
    for (const o of j.outputs) m.set(o.name, src);
  }
  return m;
}

/** Names the original tensors (legacy weight-norm style) an expected output would have come from. */
function originOf(cfg: Xcodec2Config, arch: OriginalArchitecture): Map<string, string> {
  const from = new Map<string, string[]>();
  const walk = walkArchitecture(cfg, { semanticLayers: arch.semanticModel.num_hidden_layers, buffers: false });
  for (const t of walk.tensors) for (const o of t.outputs) from.set(o.name, [...(from.get(o.name) ?? []), t.original]);
  // g and v of one module: "<module>.weight_g/weight_v"
  const show = (names: string[]) => {
    if (names.length === 1) return names[0]!;
    const dot = names[0]!.lastIndexOf(".");
    return `${names[0]}/${names.slice(1).map((n) => n.slice(dot + 1)).join("/")}`;
  };
  return new Map([...from].map(([k, v]) => [k, show(v)]));
}

function checkAgainstExpected(
  file: string,
  outputs: readonly OutputTensor[],
  jobs: readonly Job[],
  extra: readonly string[],
  cfg: Xcodec2Config,
  arch: OriginalArchitecture,
): void {
  const expected = new Map(expectedConvertedTensors(cfg).map((e) => [e.name, e.shape]));
  const produced = new Map<string, OutputTensor>();
  const from = sourcesOf(jobs);
  for (const o of outputs) {
    if (produced.has(o.name)) {
      throw new ConversionError(`two source tensors map to "${o.name}"`, { file, tensor: from.get(o.name) });
    }
    produced.set(o.name, o);
  }
  const missing = [...expected.keys()].filter((k) => !produced.has(k));
  const misshapen = [...produced.values()].filter((o) => expected.get(o.name)?.join() !== o.shape.join());
  const list = (xs: string[]) => xs.slice(0, 8).join(", ") + (xs.length > 8 ? `, … (${xs.length} in all)` : "");
  if (misshapen.length > 0) {
    const o = misshapen[0]!;
    throw new ConversionError(
      `shape ${JSON.stringify(o.shape)} contradicts the config, which implies ${
        JSON.stringify(expected.get(o.name))
      } for "${o.name}"` +
        (misshapen.length > 1
          ? ` (${misshapen.length} misshapen: ${list(misshapen.map((m) => from.get(m.name)!))})`
          : ""),
      { file, tensor: from.get(o.name) },
    );
  }
  if (missing.length > 0) {
    const origin = originOf(cfg, arch);
    const src = missing.map((k) => origin.get(k)!);
    throw new ConversionError(
      `missing tensor${missing.length > 1 ? "s" : ""}: the config implies ${
        list(missing.map((k, i) => `${k} (from ${src[i]})`))
      }`,
      { file, tensor: src[0] },
    );
  }
  if (extra.length > 0) {
    throw new ConversionError(
      `extra tensor${extra.length > 1 ? "s" : ""} the config does not account for: ${list([...extra])}`,
      { file, tensor: extra[0] },
    );
  }
}
