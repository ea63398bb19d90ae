/**
 * The upstream reference set (fixtures/reference): cases.json, its clips and per-case tensors. Paths resolve against
 * this module, so the suite finds the fixtures from any working directory; `referenceRoot()` is undefined when the
 * package was installed without them.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openSafetensors } from "../convert/mod.ts";
import { readAudio } from "../runtime/audio/mod.ts";
import { bytesToFloat32, bytesToInt32 } from "./tensor_data.ts";

export interface ReferenceClip {
  name: string;
  kind: string;
  samples: number;
  file: string;
}
export interface ReferenceCase {
  kind: "single" | "batch";
  variant: string;
  file: string;
  clips: string[];
  "fsq_fragile_frames_1e-4"?: number[];
  "fsq_fragile_frames_1e-3"?: number[];
  tensors: Record<string, { shape: number[]; dtype: string }>;
  [k: string]: unknown;
}
export interface ReferenceIndex {
  root: string;
  clips: Record<string, ReferenceClip>;
  variants: Record<
    string,
    { original_checkpoint: string; converted_checkpoint: string; tensors_dir: string; [k: string]: unknown }
  >;
  cases: Record<string, ReferenceCase>;
}

const HERE = dirname(fileURLToPath(import.meta.url));

/** fixtures/reference beside this package, or undefined when absent. */
export function referenceRoot(): string | undefined {
  const root = join(HERE, "..", "fixtures", "reference");
  return existsSync(join(root, "cases.json")) ? root : undefined;
}

/** The tiny reference checkpoint's converted folder (config.json + model.safetensors, no onnx/). */
export function tinyConvertedDir(): string | undefined {
  const root = referenceRoot();
  return root && join(root, "checkpoints", "tiny-a", "converted");
}

let indexCache: Promise<ReferenceIndex> | undefined;
export function loadReferenceIndex(root = referenceRoot()): Promise<ReferenceIndex> {
  if (!root) return Promise.reject(new Error("fixtures/reference is not present in this installation"));
  if (root !== referenceRoot()) return readIndex(root);
  indexCache ??= readIndex(root);
  return indexCache;
}

async function readIndex(root: string): Promise<ReferenceIndex> {
  const json = JSON.parse(await readFile(join(root, "cases.json"), "utf8"));
  return { root, clips: json.clips, variants: json.variants, cases: json.cases };
}

const clipCache = new Map<string, Promise<Float32Array>>();
/** A reference clip as float32 samples (exactly what upstream was fed). */
export function readReferenceClip(index: ReferenceIndex, name: string): Promise<Float32Array> {
  const clip = index.clips[name];
  if (!clip) return Promise.reject(new Error(`cases.json: no clip named "${name}"`));
  const path = join(index.root, clip.file);
  let p = clipCache.get(path);
  if (!p) clipCache.set(path, p = readAudio(path).then((a) => a.samples));
  return p;
}

/** All tensors of one case file, floats as Float32Array and integers as Int32Array. */
export async function readCaseTensors(
  index: ReferenceIndex,
  caseKey: string,
): Promise<Map<string, { shape: number[]; data: Float32Array | Int32Array }>> {
  const c = index.cases[caseKey];
  if (!c) throw new Error(`cases.json: no case "${caseKey}"`);
  const variant = index.variants[c.variant];
  const file = await openSafetensors(join(index.root, variant.tensors_dir, c.file));
  try {
    const out = new Map<string, { shape: number[]; data: Float32Array | Int32Array }>();
    for (const info of file.list()) {
      const bytes = await file.read(info.name);
      const data = info.dtype.startsWith("F")
        ? bytesToFloat32(bytes, info.dtype, info.name)
        : bytesToInt32(bytes, info.dtype, info.name);
      out.set(info.name, { shape: info.shape, data });
    }
    return out;
  } finally {
    await file.close();
  }
}
