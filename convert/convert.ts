/**
 * Original XCodec2 checkpoint → transformers `Xcodec2Model` folder, streaming: the source is read front to back one
 * tensor at a time (`schedule.ts`); each output tensor is written as soon as its inputs have been read
 * (`transforms.ts`); everything goes to a temporary folder beside the target, renamed into place at the end. On any
 * error nothing is left behind. This file is the orchestration: options, source and config, plan, the pass, side
 * files, the swap.
 */
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import process from "node:process";
import type { Xcodec2Config } from "./architecture/config.ts";
import type { MemberName } from "./architecture/members.ts";
import { buildXcodec2Config } from "./converted_config.ts";
import { type FloatDType, isFloatDType } from "./dtype_cast.ts";
import { ConversionError } from "./errors.ts";
import { collectDigests, type FileDigest, streamHashes } from "./file_hash.ts";
import { HashWorker } from "./hash_worker.ts";
import { checkArchitecture } from "./original_config.ts";
import { type Job, makePlan, type SourceRecord } from "./plan.ts";
import { CheckpointWriter } from "./safetensors/mod.ts";
import { runReads, scheduleReads } from "./schedule.ts";
import { type MemberReport, SIDE_FILES, type WeightNormReport, writeSideFiles } from "./side_files.ts";
import { byteRangeFiles, openTensorSource, resolveSourcePath } from "./source.ts";
import { sourceArchitecture } from "./source_architecture.ts";
import type { DType, TensorSource } from "./tensor_source.ts";
import { type JobContext, runJob } from "./transforms.ts";
import { claimTempPath } from "../common/temp_files.ts";

export type OutputDTypeName = "fp32" | "fp16" | "bf16";
const DTYPE_ARG: Record<OutputDTypeName, FloatDType> = { fp32: "F32", fp16: "F16", bf16: "BF16" };

export interface ConvertOptions {
  /** checkpoint folder or file, or an already-open source */
  source: string | TensorSource;
  /** original config.json (path or parsed); default: `config.json` beside the source, else the real model's facts */
  config?: string | object;
  /** the family member (members.ts), instead of detecting it from the tensors */
  family?: MemberName;
  /**
   * where the semantic encoder comes from when the checkpoint has none (NeuCodec): a folder with config.json +
   * model.safetensors, or `hf://facebook/w2v-bert-2.0[@rev]`; default: a `w2v-bert-2.0/` folder beside the source
   */
  semanticEncoder?: string;
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
  member: MemberReport;
  tensors: SourceRecord[];
  outputTensors: number;
  warnings: string[];
  weightNorm: WeightNormReport;
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
  let main: TensorSource;
  let sourceDir: string | undefined;
  if (typeof opts.source === "string") {
    const resolved = await resolveSourcePath(opts.source);
    sourceDir = resolved.dir;
    main = await openTensorSource(resolved.file);
  } else {
    main = opts.source;
  }
  const tmp = await claimTempPath(out, log);
  let writer: CheckpointWriter | undefined;
  let worker: HashWorker | undefined;
  let semanticSource: TensorSource | undefined;
  try {
    const resolvedArch = await sourceArchitecture(main, sourceDir, {
      config: opts.config,
      family: opts.family,
      semanticEncoder: opts.semanticEncoder,
      log,
    });
    const { arch, rawConfig, configFrom, detected, source } = resolvedArch;
    semanticSource = resolvedArch.semantic?.part.source;
    checkArchitecture(arch, configFrom);
    // the source's sha256 for conversion.json takes as long as copying the file, so it runs on the other core: a
    // worker thread hashes the bytes the pass reads (safetensors), or reads the files itself (pickles)
    const ranged = byteRangeFiles(source);
    const paths = resolvedArch.files;
    worker = await HashWorker.start();
    const hashes = ranged ? streamHashes(ranged.length, worker) : undefined;
    const fileHashes = !ranged && worker ? paths.map((p) => worker!.hashFile(p)) : undefined;
    fileHashes?.forEach((p) => p.catch(() => {})); // awaited (or replaced) in collectDigests
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

    // the pass: read the source once, front to back; transforms run as soon as their inputs are in
    const warnings: string[] = [];
    const stale: WeightNormReport["stale"] = [];
    const besidePlain: WeightNormReport["beside_plain"] = [];
    const ctx: JobContext = {
      file,
      heads: cfg.num_attention_heads,
      dtypeOf,
      onBesidePlain(module, tensor, maxRelDiff) {
        besidePlain.push({ module, maxRelDiff });
        if (maxRelDiff > STALE_WARN_REL) {
          const msg =
            `${file}: tensor "${tensor}": the plain weight, which ${detected.member.title}'s original runs, disagrees with the weight norm stored beside it (max relative difference ${
              maxRelDiff.toExponential(2)
            }); the plain weight is used (transformers' converter folds g/v instead)`;
          warnings.push(msg);
          process.stderr.write(`warning: ${msg}\n`);
        }
      },
      onStale(module, tensor, maxRelDiff) {
        stale.push({ module, maxRelDiff });
        if (maxRelDiff > STALE_WARN_REL) {
          const msg =
            `${file}: tensor "${tensor}": stale plain weight disagrees with the folded weight norm (max relative difference ${
              maxRelDiff.toExponential(2)
            }); the folded value is used`;
          warnings.push(msg);
          process.stderr.write(`warning: ${msg}\n`);
        }
      },
    };
    const passThrough = (j: Job) =>
      j.kind === "copy" && dtypeOf(j.inputs.src!) === j.outputs[0]!.dtype && j.outputs[0]!.shape.every((d) => d > 0);
    const bytesWritten = await runReads({
      source,
      files: ranged,
      ops: scheduleReads(source, ranged, plan.jobs, passThrough),
      writer,
      hashes,
      runJob: (job, inputs, owned) => runJob(job, inputs, owned, ctx),
    });
    const weightFiles = await writer.finish();
    writer = undefined;
    const digests = await collectDigests(paths, hashes, fileHashes);

    const weightNorm: WeightNormReport = {
      folded: plan.jobs.filter((j) => j.kind === "fold_weight_norm" && j.keep === undefined).length,
      stale,
      ...(besidePlain.length ? { beside_plain: besidePlain } : {}),
    };
    const member: MemberReport = {
      name: detected.member.name,
      title: detected.member.title,
      forced: detected.forced,
      evidence: detected.evidence,
      ...(resolvedArch.semantic ? { semantic_encoder: resolvedArch.semantic.from } : {}),
    };
    await writeSideFiles(tmp, {
      cfg,
      arch,
      rawConfig,
      configFrom,
      sourcePath: file,
      sourceDir,
      digests,
      plan,
      weightFiles,
      weightNorm,
      warnings,
      member,
    });

    // swap into place
    if (outExists) await rm(out, { recursive: true, force: true });
    await rename(tmp, out);
    log(`wrote ${out}`);
    return {
      out,
      files: [...weightFiles.map((f) => join(out, basename(f))), ...SIDE_FILES.map((f) => join(out, f))],
      config: cfg,
      source: { path: file, files: digests, config: configFrom },
      member,
      tensors: plan.records,
      outputTensors: plan.outputs.length,
      warnings,
      weightNorm,
      bytesWritten,
    };
  } catch (e) {
    if (writer) await writer.abort().catch(() => {});
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw e;
  } finally {
    await worker?.terminate();
    await semanticSource?.close();
    if (typeof opts.source === "string") await main.close();
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
