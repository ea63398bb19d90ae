/**
 * `runParity`: all six properties on one converted folder, on one device, as one report.
 *   1, 2  batch = loop on the folder's own graphs;
 *   3     the converter on the reference originals (whenever fixtures/reference is installed);
 *   4     upstream's tensors, when the folder IS a reference checkpoint (identified by its weights' bytes);
 *   5     WebGPU vs CPU (not run, with the reason, where no WebGPU adapter exists);
 *   6     properties 1 and 2 on a mask-free export of the same weights must fail.
 */
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileDigest } from "../common/checksums.ts";
import { ONNX_DIR, readExportManifest } from "../convert/mod.ts";
import { CI_SIZES, type Sizes } from "./arbitraries.ts";
import { exportedCopy, openCodec, type ParityCodec } from "./codec_handle.ts";
import {
  BATCH_DECODE,
  BATCH_ENCODE,
  batchDecodeProperty,
  batchEncodeProperty,
  CONVERSION,
  conversionProperty,
  DEVICE,
  deviceProperty,
  RUNTIME_UPSTREAM,
  runtimeUpstreamProperty,
  SUITE_CAN_FAIL,
  suiteCanFailProperty,
} from "./properties/mod.ts";
import { type ReferenceIndex, referenceIndex, referenceRoot, variantDirs } from "./reference.ts";
import { makeReport, type ParityReport } from "./report.ts";
import { notRun, type PropertyResult } from "./result.ts";
import { loadSources } from "./sources.ts";

export type PropertyNumber = 1 | 2 | 3 | 4 | 5 | 6;
export const ALL_PROPERTIES: readonly PropertyNumber[] = [1, 2, 3, 4, 5, 6];

export interface ParityOptions {
  /** device of the codec under test (default cpu) */
  device?: string;
  /** cases per randomised property (1, 2, 5, and each half of 6) */
  runs?: number;
  seed?: number;
  /** fast-check replay path; only meaningful with a single randomised property selected */
  path?: string;
  sizes?: Sizes;
  only?: readonly PropertyNumber[];
  threads?: number;
  /** predicate runs spent on shrinking one failure (each runs the model) */
  shrinkBudget?: number;
  log?: (msg: string) => void;
  /** an already-loaded codec for `dir` (tests reuse one) */
  codec?: ParityCodec;
  /** an already-loaded codec on a mask-free export of `dir`, for property 6 */
  maskFreeCodec?: ParityCodec;
}

export const DEFAULT_RUNS = 20;

export async function runParity(dir: string, opts: ParityOptions = {}): Promise<ParityReport> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const seed = opts.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
  const runs = opts.runs ?? DEFAULT_RUNS;
  const sizes = opts.sizes ?? CI_SIZES;
  const only = new Set(opts.only ?? ALL_PROPERTIES);
  const codec = opts.codec ?? (await openCodec(dir, { device: opts.device ?? "cpu", threads: opts.threads, log }));
  const manifest = await readManifest(dir);
  const sources = await loadSources(codec.config.quantization_levels);
  const base = { runs, seed, path: opts.path, sources, sizes, shrinkBudget: opts.shrinkBudget };
  const results: PropertyResult[] = [];
  const step = async (n: PropertyNumber, name: string, f: () => Promise<PropertyResult>) => {
    if (!only.has(n)) return;
    log(`parity: ${name}…`);
    const r = await f();
    log(
      `parity: ${name}: ${r.status} (${r.cases} cases${r.seconds !== undefined ? `, ${r.seconds.toFixed(1)} s` : ""})`,
    );
    results.push(r);
  };
  const index: ReferenceIndex | undefined = referenceRoot() ? referenceIndex() : undefined;
  try {
    await step(1, BATCH_ENCODE, () => batchEncodeProperty(codec, base));
    await step(2, BATCH_DECODE, () => batchDecodeProperty(codec, base));
    await step(3, CONVERSION, () => conversionProperty({ seed, index }));
    await step(4, RUNTIME_UPSTREAM, async () => {
      if (!index) return notRun(RUNTIME_UPSTREAM, "fixtures/reference is not installed", seed);
      const variant = await identifyVariant(dir, index);
      if (!variant) {
        return notRun(
          RUNTIME_UPSTREAM,
          "upstream reference tensors exist only for the bundled reference checkpoints (tiny-a); this folder's weights are not one of them",
          seed,
        );
      }
      return runtimeUpstreamProperty(codec, { seed, index, variant });
    });
    await step(5, DEVICE, () => deviceStep(dir, codec, opts, base));
    await step(6, SUITE_CAN_FAIL, async () => {
      if (opts.maskFreeCodec) return suiteCanFailProperty(opts.maskFreeCodec, { ...base, runs: runs * 2 });
      log("parity: exporting the mask-free graphs for property 6…");
      const copy = await exportedCopy(dir, { masks: false });
      try {
        const maskFree = await openCodec(copy.dir, { device: opts.device ?? "cpu", threads: opts.threads, log });
        try {
          return await suiteCanFailProperty(maskFree, { ...base, runs: runs * 2 });
        } finally {
          await maskFree.dispose?.();
        }
      } finally {
        await copy.cleanup();
      }
    });
  } finally {
    if (!opts.codec) await codec.dispose?.();
  }
  const model = `${resolve(dir)}${manifest?.masks === false ? " (mask-free export)" : ""}`;
  return makeReport(codec.device, seed, results, { model, seconds: (performance.now() - t0) / 1000 });
}

async function deviceStep(
  dir: string,
  codec: ParityCodec,
  opts: ParityOptions,
  base: Parameters<typeof deviceProperty>[2],
): Promise<PropertyResult> {
  const other = codec.device === "webgpu" ? "cpu" : "webgpu";
  if (codec.device !== "cpu" && codec.device !== "webgpu") {
    return notRun(
      DEVICE,
      `the codec under test runs on ${codec.device}; property 5 compares webgpu with cpu`,
      base.seed,
    );
  }
  let second: ParityCodec;
  try {
    second = await openCodec(dir, { device: other, threads: opts.threads, log: opts.log });
  } catch (e) {
    return notRun(DEVICE, `no ${other} device: ${(e as Error).message}`, base.seed, "audio rel L2");
  }
  try {
    if (second.device !== other) {
      return notRun(DEVICE, `asked for ${other}, got ${second.device}`, base.seed, "audio rel L2");
    }
    const [gpu, cpu] = other === "webgpu" ? [second, codec] : [codec, second];
    return await deviceProperty(gpu, cpu, base);
  } finally {
    await second.dispose?.();
  }
}

async function readManifest(dir: string): Promise<{ masks: boolean } | undefined> {
  return readExportManifest(join(dir, ONNX_DIR)).catch(() => undefined);
}

/** The reference variant whose converted weights are byte-identical to `dir`'s, if any (size first, then sha256). */
export async function identifyVariant(dir: string, index: ReferenceIndex): Promise<string | undefined> {
  const mine = join(dir, "model.safetensors");
  if (!existsSync(mine)) return undefined;
  const size = (await stat(mine)).size;
  for (const name of Object.keys(index.variants)) {
    const theirs = join(variantDirs(index, name).converted, "model.safetensors");
    if (!existsSync(theirs) || (await stat(theirs)).size !== size) continue;
    if ((await fileDigest(mine)).hex === (await fileDigest(theirs)).hex) return name;
  }
  return undefined;
}
