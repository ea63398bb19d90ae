/**
 * The conversion plan, made from tensor infos and the config alone (no tensor data is read): what happens to every
 * source tensor, which output tensors result, and in which order they complete when the source is read front to back.
 * The planned outputs are checked against the table the config implies before anything is written.
 */
import type { Xcodec2Config } from "./architecture.ts";
import { type FloatDType, isFloatDType } from "./dtype_cast.ts";
import { ConversionError } from "./errors.ts";
import { expectedConvertedTensors } from "./expected_tensors.ts";
import type { OriginalArchitecture } from "./original_config.ts";
import { originalTensors } from "./original_layout.ts";
import { dropReason, renameKey, semanticLayerIndex } from "./rename_table.ts";
import type { DType, TensorInfo } from "./tensor_source.ts";

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

const WN_SUFFIXES = [
  { suffix: ".weight_g", role: "g" as const, style: "legacy" },
  { suffix: ".weight_v", role: "v" as const, style: "legacy" },
  { suffix: ".parametrizations.weight.original0", role: "g" as const, style: "parametrizations" },
  { suffix: ".parametrizations.weight.original1", role: "v" as const, style: "parametrizations" },
];

export function makePlan(
  file: string,
  infos: readonly TensorInfo[],
  cfg: Xcodec2Config,
  arch: OriginalArchitecture,
  outDType: FloatDType | undefined,
): Plan {
  const index = new Map(infos.map((t, i) => [t.name, i]));
  const keepLayers = cfg.semantic_model_config.num_hidden_layers;
  const heads = cfg.num_attention_heads;
  const targetDType = (d: DType): DType => (outDType && isFloatDType(d) ? outDType : d);
  const castNote = (d: DType) => (outDType && isFloatDType(d) && d !== outDType ? `, cast ${d}→${outDType}` : "");

  // weight-norm groups by module
  const wn = new Map<string, { g?: string; v?: string }>();
  for (const t of infos) {
    for (const s of WN_SUFFIXES) {
      if (t.name.endsWith(s.suffix)) {
        const m = t.name.slice(0, -s.suffix.length);
        const grp = wn.get(m) ?? {};
        if (grp[s.role] !== undefined) {
          throw new ConversionError(`weight norm stored twice for module "${m}" (also as "${grp[s.role]}")`, {
            file,
            tensor: t.name,
          });
        }
        grp[s.role] = t.name;
        wn.set(m, grp);
      }
    }
  }

  const jobs: Job[] = [];
  const records: SourceRecord[] = [];
  const recordOf = new Map<string, SourceRecord>();
  const rec = (r: SourceRecord) => {
    records.push(r);
    recordOf.set(r.source, r);
  };

  for (const t of infos) {
    const base = { source: t.name, dtype: t.dtype, shape: t.shape };
    const reason = dropReason(t.name);
    const layer = semanticLayerIndex(t.name);
    if (reason !== undefined) {
      rec({ ...base, action: "drop", targets: [], transform: "none", reason });
      continue;
    }
    if (layer !== undefined && layer >= keepLayers) {
      rec({
        ...base,
        action: "drop",
        targets: [],
        transform: "none",
        reason: `semantic layer ${layer} ≥ ${keepLayers}: the codec reads hidden_states[${keepLayers}]`,
      });
      continue;
    }
    const wnHit = WN_SUFFIXES.find((s) => t.name.endsWith(s.suffix));
    if (wnHit) {
      const m = t.name.slice(0, -wnHit.suffix.length);
      const grp = wn.get(m)!;
      if (grp.g === undefined || grp.v === undefined) {
        const have = wnHit.role === "v" ? "weight_v (magnitude-direction pair's direction)" : "weight_g (magnitude)";
        const lacks = wnHit.role === "v" ? "its weight_g (magnitude)" : "its weight_v (direction)";
        throw new ConversionError(`${have} without ${lacks}: cannot fold weight norm for "${m}"`, {
          file,
          tensor: t.name,
        });
      }
      if (wnHit.role === "g") continue; // recorded with v below, once both are known
      const g = infos[index.get(grp.g)!]!;
      const v = t;
      checkWeightNormShapes(file, g, v);
      if (g.dtype !== v.dtype) {
        throw new ConversionError(`dtype ${g.dtype} differs from ${v.name}'s ${v.dtype}`, { file, tensor: g.name });
      }
      if (!isFloatDType(v.dtype)) {
        throw new ConversionError(`weight norm needs a float dtype, got ${v.dtype}`, { file, tensor: v.name });
      }
      const target = renameKey(`${m}.weight`);
      const stale = index.has(`${m}.weight`) ? `${m}.weight` : undefined;
      const needed = [g.name, v.name, ...(stale ? [stale] : [])];
      jobs.push({
        kind: "fold_weight_norm",
        inputs: { g: g.name, v: v.name, stale },
        outputs: [{ name: target, dtype: targetDType(v.dtype), shape: [...v.shape] }],
        readyAt: Math.max(...needed.map((n) => index.get(n)!)),
      });
      const transform = `weight norm folded: w = g·v/‖v‖ per output channel (torch CPU float32 order)${
        castNote(v.dtype)
      }`;
      rec({ source: g.name, dtype: g.dtype, shape: g.shape, action: "fold_weight_norm", targets: [target], transform });
      rec({ ...base, action: "fold_weight_norm", targets: [target], transform });
      continue;
    }
    if (t.name.endsWith(".weight") && wn.has(t.name.slice(0, -".weight".length))) {
      // a stale plain weight beside g/v: the folded value wins (compared when the job runs)
      rec({
        ...base,
        action: "drop",
        targets: [],
        transform: "none",
        reason: "stale plain weight beside weight norm's g/v: the folded value wins",
      });
      continue;
    }
    if (t.name.includes(".att.c_attn.")) {
      if (t.shape.length !== 2 || t.shape[0]! % 3 !== 0) {
        throw new ConversionError(
          `fused q/k/v projection has shape ${JSON.stringify(t.shape)}, expected [3·hidden, hidden]`,
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
      const baseKey = renameKey(t.name.replace(".att.c_attn.", ".self_attn.PROJ."));
      const targets = ["q_proj", "k_proj", "v_proj"].map((p) => baseKey.replace("PROJ", p));
      jobs.push({
        kind: "split_qkv",
        inputs: { src: t.name },
        outputs: targets.map((name) => ({ name, dtype: targetDType(t.dtype), shape: [rows, t.shape[1]!] })),
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
    const target = renameKey(t.name);
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
  checkAgainstExpected(file, outputs, jobs, cfg, arch);
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

function sourcesOf(jobs: readonly Job[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const j of jobs) {
    const src = j.inputs.v ?? j.inputs.src!;
    for (const o of j.outputs) m.set(o.name, src);
  }
  return m;
}

function checkAgainstExpected(
  file: string,
  outputs: readonly OutputTensor[],
  jobs: readonly Job[],
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
  // which original tensor would have produced each expected output (to name the missing source tensor)
  const origin = new Map<string, string>();
  for (const t of originalTensors(arch, { buffers: false })) {
    if (t.role === "wn_g") continue;
    const name = t.role === "wn_v" ? `${t.module}.weight` : t.name;
    if (name.includes(".att.c_attn.")) {
      const b = renameKey(name.replace(".att.c_attn.", ".self_attn.PROJ."));
      for (const p of ["q_proj", "k_proj", "v_proj"]) origin.set(b.replace("PROJ", p), t.name);
    } else {
      origin.set(renameKey(name), t.role === "wn_v" ? `${t.module}.weight_g/weight_v` : t.name);
    }
  }
  const extra = [...produced.keys()].filter((k) => !expected.has(k));
  const missing = [...expected.keys()].filter((k) => !produced.has(k));
  const misshapen = [...produced.values()].filter((o) =>
    expected.has(o.name) && expected.get(o.name)!.join() !== o.shape.join()
  );
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
    const src = missing.map((k) => origin.get(k) ?? `(source of ${k})`);
    throw new ConversionError(
      `missing tensor${missing.length > 1 ? "s" : ""}: the config implies ${
        list(missing.map((k, i) => `${k} (from ${src[i]})`))
      }`,
      { file, tensor: src[0] },
    );
  }
  if (extra.length > 0) {
    const src = extra.map((k) => from.get(k)!);
    throw new ConversionError(
      `extra tensor${extra.length > 1 ? "s" : ""} the config does not account for: ${
        list(src.map((s, i) => `${s} → ${extra[i]}`))
      }`,
      { file, tensor: src[0] },
    );
  }
}
