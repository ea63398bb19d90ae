/**
 * The upstream reference set (fixtures/reference): cases.json, its clips, checkpoints and per-case tensors. This is
 * the one reader of that folder: `xcodec2 parity`, the demo, the fuzz targets and every test go through it (tests
 * through fixtures/support/reference.ts, which adds their conveniences on top).
 *
 * Paths resolve against this module with `fileURLToPath` (a URL's `.pathname` keeps `%20` for a space), so the set is
 * found from any working directory and under any folder name; `referenceRoot()` is undefined when the package was
 * installed without it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openSafetensors } from "../convert/mod.ts";
import { readAudio } from "../runtime/audio/mod.ts";
import { bytesToFloat32, bytesToInt32 } from "./tensor_data.ts";

export interface ReferenceClip {
  name: string;
  kind: string;
  samples: number;
  /** relative to the reference root */
  file: string;
}
/** One entry of cases.json's `cases`: a single clip (`kind: "single"`) or a padded batch of clips. */
export interface ReferenceCase {
  /** its key in cases.json, e.g. "tiny-a/single/espeak_en" (added by the reader) */
  key: string;
  kind: "single" | "batch";
  variant: string;
  /** tensor file name inside the variant's tensors_dir */
  file: string;
  clips: string[];
  /** single cases: the clip's length and its number of codes */
  samples?: number;
  frames?: number;
  "fsq_fragile_frames_1e-4"?: number[];
  "fsq_fragile_frames_1e-3"?: number[];
  tensors: Record<string, { shape: number[]; dtype: string }>;
  [k: string]: unknown;
}
export interface ReferenceVariant {
  /** folders relative to the reference root */
  original_checkpoint: string;
  converted_checkpoint: string;
  tensors_dir: string;
  [k: string]: unknown;
}
export interface ReferenceIndex {
  root: string;
  clips: Record<string, ReferenceClip>;
  variants: Record<string, ReferenceVariant>;
  cases: Record<string, ReferenceCase>;
}

/** The bundled tiny checkpoint: the variant the demo, the parity kit and the tests use. */
export const TINY_VARIANT = "tiny-a";

const DEFAULT_ROOT = fileURLToPath(new URL("../fixtures/reference/", import.meta.url));

/** A path inside the bundled reference set, whether or not it is installed. */
export function referencePath(...parts: string[]): string {
  return join(DEFAULT_ROOT, ...parts);
}

/** fixtures/reference beside this package, or undefined when absent. */
export function referenceRoot(): string | undefined {
  return existsSync(join(DEFAULT_ROOT, "cases.json")) ? DEFAULT_ROOT : undefined;
}

let defaultIndex: ReferenceIndex | undefined;
/** cases.json of `root` (the bundled set by default, read once). Synchronous: tests enumerate cases at load time. */
export function referenceIndex(root = referenceRoot()): ReferenceIndex {
  if (!root) throw new Error("fixtures/reference is not present in this installation");
  if (root !== DEFAULT_ROOT) return readIndex(root);
  defaultIndex ??= readIndex(root);
  return defaultIndex;
}

function readIndex(root: string): ReferenceIndex {
  const file = join(root, "cases.json");
  let json: Omit<ReferenceIndex, "root">;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  for (const part of ["clips", "variants", "cases"] as const) {
    if (typeof json[part] !== "object" || json[part] === null) throw new Error(`${file}: no "${part}" object`);
  }
  const cases: Record<string, ReferenceCase> = {};
  for (const [key, c] of Object.entries(json.cases)) cases[key] = { ...c, key };
  return { root, clips: json.clips, variants: json.variants, cases };
}

/** A variant's folders as absolute paths (`originalPickle`: the same original weights as a PyTorch pickle). */
export function variantDirs(
  index: ReferenceIndex,
  variant = TINY_VARIANT,
): { original: string; originalPickle: string; converted: string; tensors: string } {
  const v = index.variants[variant];
  if (!v) throw new Error(`cases.json: no variant named "${variant}"`);
  return {
    original: join(index.root, v.original_checkpoint),
    originalPickle: join(index.root, v.original_checkpoint + "-pickle"),
    converted: join(index.root, v.converted_checkpoint),
    tensors: join(index.root, v.tensors_dir),
  };
}

/** The tiny reference checkpoint's converted folder (config.json + model.safetensors, no onnx/), when installed. */
export function tinyConvertedDir(): string | undefined {
  return referenceRoot() && variantDirs(referenceIndex()).converted;
}

/** The file of a reference clip. */
export function referenceClipPath(index: ReferenceIndex, name: string): string {
  const clip = index.clips[name];
  if (!clip) throw new Error(`cases.json: no clip named "${name}"`);
  return join(index.root, clip.file);
}

const clipCache = new Map<string, Promise<Float32Array>>();
/** A reference clip as float32 samples (exactly what upstream was fed): decoded once, a fresh copy per call. */
export async function readReferenceClip(index: ReferenceIndex, name: string): Promise<Float32Array> {
  const path = referenceClipPath(index, name);
  let p = clipCache.get(path);
  if (!p) clipCache.set(path, p = readAudio(path).then((a) => a.samples));
  return (await p).slice();
}

/** A reference tensor: floats as Float32Array, integers as Int32Array (I64 range-checked); `dtype` is the file's. */
export interface ReferenceTensor {
  dtype: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** All tensors of one case file, by name; `tensor(name)` is `get` that names the file when the tensor is missing. */
export class CaseTensors extends Map<string, ReferenceTensor> {
  constructor(readonly file: string) {
    super();
  }
  tensor(name: string): ReferenceTensor {
    const t = this.get(name);
    if (!t) throw new Error(`${this.file}: no tensor ${name}`);
    return t;
  }
}

/** The tensor file of the case `caseKey` (e.g. "tiny-a/single/espeak_en"). */
export function caseTensorsPath(index: ReferenceIndex, caseKey: string): string {
  const c = index.cases[caseKey];
  if (!c) throw new Error(`cases.json: no case "${caseKey}"`);
  return join(variantDirs(index, c.variant).tensors, c.file);
}

/** All tensors of the case `caseKey` (e.g. "tiny-a/single/espeak_en"). */
export async function readCaseTensors(index: ReferenceIndex, caseKey: string): Promise<CaseTensors> {
  return await readTensorFile(caseTensorsPath(index, caseKey)); // a missing case rejects, as every read does
}

/** Every tensor of a reference safetensors file (floats as float32, integers as int32): this set's and the family's. */
export async function readTensorFile(path: string): Promise<CaseTensors> {
  const file = await openSafetensors(path);
  try {
    const out = new CaseTensors(path);
    for (const info of file.list()) {
      const bytes = await file.read(info.name);
      const data = info.dtype.startsWith("F")
        ? bytesToFloat32(bytes, info.dtype, info.name)
        : bytesToInt32(bytes, info.dtype, info.name);
      out.set(info.name, { dtype: info.dtype, shape: info.shape, data });
    }
    return out;
  } finally {
    await file.close();
  }
}
