/**
 * Original XCodec2 checkpoint → transformers `Xcodec2Model` folder, streaming: the source is read front to back one
 * tensor at a time; each output tensor is written as soon as its inputs have been read; everything goes to a
 * temporary folder beside the target, renamed into place at the end. On any error nothing is left behind.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import process from "node:process";
import type { Xcodec2Config } from "./architecture.ts";
import { buildPreprocessorConfig, buildXcodec2Config, configJsonText } from "./converted_config.ts";
import { castFloat, type FloatDType, fromFloat32, isFloatDType, toFloat32 } from "./dtype_cast.ts";
import { ConversionError } from "./errors.ts";
import { cardFactsFrom, modelCard } from "./model_card.ts";
import { checkArchitecture, loadOriginalArchitecture } from "./original_config.ts";
import { type Job, makePlan, type SourceRecord } from "./plan.ts";
import { permuteRowsForRope } from "./qkv_split.ts";
import {
  type ExternalHash,
  type FileDigest,
  hashFilesInProcess,
  SequentialHash,
  startExternalHash,
} from "./file_hash.ts";
import { runStream, scheduleStream } from "./stream_copy.ts";
import { CheckpointWriter, SafetensorsFile, ShardedSafetensors } from "./safetensors/mod.ts";
import { openTensorSource, resolveSourcePath } from "./source.ts";
import type { DType, TensorSource } from "./tensor_source.ts";
import { foldWeightNorm, TORCH_CPU_MODE } from "./weight_norm.ts";
import { claimTempPath } from "./temp_files.ts";

export type OutputDTypeName = "fp32" | "fp16" | "bf16";
const DTYPE_ARG: Record<OutputDTypeName, FloatDType> = { fp32: "F32", fp16: "F16", bf16: "BF16" };

export interface ConvertOptions {
  /** checkpoint folder or file, or an already-open source */
  source: string | TensorSource;
  /** original config.json (path or parsed); default: `config.json` beside the source, else the real model's facts */
  config?: string | object;
  out: string;
  dtype?: OutputDTypeName;
  /** replace a non-empty output folder */
  force?: boolean;
  /** write shards of at most this many bytes (+ model.safetensors.index.json) */
  maxShardSize?: number;
  log?: (msg: string) => void;
}

export interface ConversionReport {
  out: string;
  files: string[];
  config: Xcodec2Config;
  source: { path: string; files: FileDigest[]; config: string };
  tensors: SourceRecord[];
  outputTensors: number;
  warnings: string[];
  weightNorm: { folded: number; stale: { module: string; maxRelDiff: number }[] };
  bytesWritten: number;
}

/** Relative disagreement between a stale plain weight and the folded value that is worth a warning. */
const STALE_WARN_REL = 1e-3;

export async function convertCheckpoint(opts: ConvertOptions): Promise<ConversionReport> {
  const log = opts.log ?? (() => {});
  const out = resolve(opts.out);
  const outDType = opts.dtype === undefined ? undefined : DTYPE_ARG[opts.dtype];
  if (opts.dtype !== undefined && outDType === undefined) {
    throw new ConversionError(`unknown dtype "${opts.dtype}" (fp32, fp16 or bf16)`);
  }
  if (opts.maxShardSize !== undefined && !(Number.isSafeInteger(opts.maxShardSize) && opts.maxShardSize > 0)) {
    throw new ConversionError(`max shard size must be a positive integer of bytes, got ${opts.maxShardSize}`);
  }
  const outExists = await checkOutDir(out, opts.force === true);

  // source and config
  let source: TensorSource;
  let sourceDir: string | undefined;
  if (typeof opts.source === "string") {
    const resolved = await resolveSourcePath(opts.source);
    sourceDir = resolved.dir;
    source = await openTensorSource(resolved.file);
  } else {
    source = opts.source;
  }
  const tmp = await claimTempPath(out, log);
  let writer: CheckpointWriter | undefined;
  let hasher: ExternalHash | undefined;
  try {
    // the source's sha256 for conversion.json takes as long as copying the file: start it first, on the other core
    // (a native hasher); without one it is computed in-process from the conversion's own reads
    const streamed = streamableFiles(source);
    hasher = await startExternalHash(streamed ? streamed.map((f) => f.path) : await sourceFiles(source));
    let configArg = opts.config;
    if (configArg === undefined && sourceDir !== undefined) {
      const beside = join(sourceDir, "config.json");
      if (await stat(beside).then((s) => s.isFile(), () => false)) configArg = beside;
    }
    const { arch, raw: rawConfig, from: configFrom } = await loadOriginalArchitecture(configArg);
    checkArchitecture(arch, configFrom);
    const file = source.path;
    const infos = source.list();
    const floatDTypes = [...new Set(infos.map((t) => t.dtype).filter(isFloatDType))];
    const modelDType = outDType ?? (floatDTypes.length === 1 ? floatDTypes[0]! : "F32");
    const cfg = buildXcodec2Config(arch, modelDType === "F64" ? "F64" : modelDType);
    const plan = makePlan(file, infos, cfg, arch, outDType);
    const dtypes = new Map(infos.map((t) => [t.name, t.dtype]));
    const dtypeOf = (n: string): DType => dtypes.get(n)!;
    log(`plan: ${infos.length} source tensors → ${plan.outputs.length} output tensors`);

    await mkdir(tmp, { recursive: true });
    writer = CheckpointWriter.create(tmp, plan.outputs, {
      maxShardSize: opts.maxShardSize,
      metadata: { format: "pt" },
    });

    // run: read the source once, front to back; pass-through runs are copied in big chunks, transforms run as soon as
    // their inputs are in
    const warnings: string[] = [];
    const stale: ConversionReport["weightNorm"]["stale"] = [];
    const doJob = (job: Job, pending: ReadonlyMap<string, Uint8Array>, owned: boolean) =>
      runJob(job, dtypeOf, pending, owned, cfg.num_attention_heads, file, warnings, stale);
    let bytesWritten = 0;
    let inlineHashes: SequentialHash[] | undefined;
    if (streamed) {
      inlineHashes = hasher ? undefined : streamed.map(() => new SequentialHash());
      const passThrough = (j: Job) =>
        j.kind === "copy" && dtypeOf(j.inputs.src!) === j.outputs[0]!.dtype && j.outputs[0]!.shape.every((d) => d > 0);
      const ops = scheduleStream(streamed, plan.jobs, passThrough);
      bytesWritten = await runStream({
        files: streamed,
        ops,
        writer,
        hashes: inlineHashes,
        runJob: (job, inputs) => doJob(job, inputs, true),
      });
    } else {
      // other sources (pickles): one tensor at a time through the TensorSource interface
      const needed = new Set(
        plan.jobs.flatMap((j) => Object.values(j.inputs).filter((x): x is string => x !== undefined)),
      );
      const pending = new Map<string, Uint8Array>();
      let next = 0;
      for (let i = 0; i < infos.length; i++) {
        const t = infos[i]!;
        if (needed.has(t.name)) {
          const data = await source.read(t.name);
          if (data.byteLength !== t.byteLength) {
            throw new ConversionError(`read ${data.byteLength} bytes, expected ${t.byteLength}`, {
              file,
              tensor: t.name,
            });
          }
          pending.set(t.name, data);
        }
        while (next < plan.jobs.length && plan.jobs[next]!.readyAt === i) {
          const job = plan.jobs[next++]!;
          const results = doJob(job, pending, false);
          for (const v of Object.values(job.inputs)) if (v !== undefined) pending.delete(v);
          for (const r of results) {
            await writer.write(r.name, r.data);
            bytesWritten += r.data.byteLength;
          }
        }
      }
    }
    const files = await writer.finish();
    writer = undefined;

    const digests = await sourceDigests(
      streamed ? streamed.map((f) => f.path) : await sourceFiles(source),
      hasher,
      inlineHashes,
    );
    hasher = undefined;
    const sourceSha = digests.length === 1
      ? digests[0]!.sha256
      : createHash("sha256").update(digests.map((d) => d.sha256).join("\n")).digest("hex");

    // the JSON side files
    await writeFile(join(tmp, "config.json"), configJsonText(cfg));
    await writeFile(join(tmp, "preprocessor_config.json"), configJsonText(buildPreprocessorConfig(arch)));
    const facts = await cardFactsFrom(sourceDir ? join(sourceDir, "README.md") : undefined, rawConfig);
    await writeFile(
      join(tmp, "README.md"),
      modelCard(facts, { sourceSha256: sourceSha, tensors: plan.outputs.length, dtype: cfg.dtype as string }),
    );
    const sidecar = {
      tool: "xcodec2-kit convert",
      source: {
        path: file,
        files: digests.map((d) => ({ file: basename(d.file), bytes: d.bytes, sha256: d.sha256 })),
        config: configFrom,
      },
      output: { dtype: cfg.dtype, tensors: plan.outputs.length, files: files.map((f) => basename(f)) },
      license: facts.license,
      base_model: facts.baseModel,
      weight_norm: { folded: plan.jobs.filter((j) => j.kind === "fold_weight_norm").length, stale },
      warnings,
      tensors: plan.records,
    };
    await writeFile(join(tmp, "conversion.json"), JSON.stringify(sidecar, null, 1) + "\n");

    // swap into place
    if (outExists) await rm(out, { recursive: true, force: true });
    await rename(tmp, out);
    log(`wrote ${out}`);
    const outFiles = [
      ...files.map((f) => join(out, basename(f))),
      ...["config.json", "preprocessor_config.json", "README.md", "conversion.json"].map((f) => join(out, f)),
    ];
    return {
      out,
      files: outFiles,
      config: cfg,
      source: { path: file, files: digests, config: configFrom },
      tensors: plan.records,
      outputTensors: plan.outputs.length,
      warnings,
      weightNorm: sidecar.weight_norm,
      bytesWritten,
    };
  } catch (e) {
    if (writer) await writer.abort().catch(() => {});
    hasher?.kill();
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw e;
  } finally {
    if (typeof opts.source === "string") await source.close();
  }
}

async function checkOutDir(out: string, force: boolean): Promise<boolean> {
  const st = await stat(out).catch(() => undefined);
  if (!st) return false;
  if (!st.isDirectory()) throw new ConversionError("output path exists and is not a folder", { file: out });
  const entries = await readdir(out);
  if (entries.length > 0 && !force) {
    throw new ConversionError(`output folder is not empty (${entries.length} entries); pass --force to replace it`, {
      file: out,
    });
  }
  return true;
}

function runJob(
  job: Job,
  dtypeOf: (name: string) => DType,
  pending: ReadonlyMap<string, Uint8Array>,
  ownsInputs: boolean,
  heads: number,
  file: string,
  warnings: string[],
  stale: ConversionReport["weightNorm"]["stale"],
): { name: string; data: Uint8Array }[] {
  const get = (n: string) => {
    const d = pending.get(n);
    if (!d) throw new ConversionError("tensor data not available when needed", { file, tensor: n });
    return d;
  };
  const out = job.outputs;
  switch (job.kind) {
    case "copy": {
      const src = job.inputs.src!;
      const data = get(src);
      return [{ name: out[0]!.name, data: cast(data, dtypeOf(src), out[0]!.dtype) }];
    }
    case "split_qkv": {
      const src = job.inputs.src!;
      const data = get(src);
      const rowBytes = data.byteLength / 3 / out[0]!.shape[0]!;
      // rows q | k | v; q and k get the RoPE permutation, v is written from the read buffer as it is (no copy)
      const third = data.byteLength / 3;
      const q = permuteRowsForRope(data.subarray(0, third), heads, rowBytes);
      const k = permuteRowsForRope(data.subarray(third, 2 * third), heads, rowBytes);
      const v = data.subarray(2 * third);
      return [q, k, v].map((d, i) => ({ name: out[i]!.name, data: cast(d, dtypeOf(src), out[i]!.dtype) }));
    }
    case "fold_weight_norm": {
      const gName = job.inputs.g!;
      const vName = job.inputs.v!;
      const srcDType = dtypeOf(vName) as FloatDType; // plan guarantees a float dtype
      const g = toFloat32(get(gName), srcDType);
      const v = toFloat32(get(vName), srcDType);
      let w: Float32Array;
      try {
        // inputs the converter read itself are scratch: fold in place (one tensor-sized buffer less per job)
        w = foldWeightNorm(g, v, TORCH_CPU_MODE, ownsInputs ? v : undefined);
      } catch (e) {
        throw new ConversionError((e as Error).message, { file, tensor: gName });
      }
      if (job.inputs.stale) {
        const plain = toFloat32(get(job.inputs.stale), dtypeOf(job.inputs.stale) as FloatDType);
        let maxDiff = 0;
        let maxAbs = 0;
        for (let i = 0; i < w.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(w[i]! - plain[i]!));
          maxAbs = Math.max(maxAbs, Math.abs(w[i]!));
        }
        const rel = maxAbs > 0 ? maxDiff / maxAbs : maxDiff;
        const module = vName.replace(/\.(weight_v|parametrizations\.weight\.original1)$/, "");
        stale.push({ module, maxRelDiff: rel });
        if (rel > STALE_WARN_REL) {
          const msg =
            `${file}: tensor "${job.inputs.stale}": stale plain weight disagrees with the folded weight norm (max relative difference ${
              rel.toExponential(2)
            }); the folded value is used`;
          warnings.push(msg);
          process.stderr.write(`warning: ${msg}\n`);
        }
      }
      const target = out[0]!.dtype as FloatDType;
      // folding is done in float32; a float32 result is written as is, anything else rounded once
      return [{
        name: out[0]!.name,
        data: target === "F32" ? fromFloat32(w, "F32") : castFloat(fromFloat32(w, "F32"), "F32", target),
      }];
    }
  }
}

function cast(data: Uint8Array, from: DType, to: DType): Uint8Array {
  if (from === to) return data;
  if (!isFloatDType(from) || !isFloatDType(to)) throw new ConversionError(`cannot cast ${from} to ${to}`);
  return castFloat(data, from, to);
}

/** The safetensors files a source consists of, when it can be streamed by byte ranges. */
function streamableFiles(source: TensorSource): SafetensorsFile[] | undefined {
  if (source instanceof SafetensorsFile) return [source];
  if (source instanceof ShardedSafetensors) return source.shards;
  return undefined;
}

/** Digests from the external hasher, else from the in-process hashes fed during the pass, else a separate pass. */
async function sourceDigests(
  paths: string[],
  hasher: ExternalHash | undefined,
  inline: SequentialHash[] | undefined,
): Promise<FileDigest[]> {
  const sizes = await Promise.all(paths.map((p) => stat(p).then((s) => s.size)));
  if (inline) return paths.map((file, i) => ({ file, bytes: sizes[i]!, sha256: inline[i]!.hex() }));
  if (hasher) {
    const hex = await hasher.digests.catch(() => undefined);
    if (hex) return paths.map((file, i) => ({ file, bytes: sizes[i]!, sha256: hex[i]! }));
  }
  return hashFilesInProcess(paths);
}

/** The files a source reads from (hashed for conversion.json). */
async function sourceFiles(source: TensorSource): Promise<string[]> {
  if (source instanceof SafetensorsFile) return [source.path];
  if (source instanceof ShardedSafetensors) return source.shards.map((s) => s.path);
  const st = await stat(source.path).catch(() => undefined);
  return st?.isFile() ? [source.path] : [];
}
