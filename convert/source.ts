/**
 * Opening a checkpoint path as a TensorSource: a folder (model.safetensors, or model.safetensors.index.json, or a
 * pickle checkpoint), a `.safetensors` file, a shard index `.json`, or any other file as a PyTorch/Lightning pickle
 * (through `convert/pickle/mod.ts`, loaded on demand so that this module works without it).
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { ConversionError } from "./errors.ts";
import {
  INDEX_NAME,
  openSafetensors,
  openShardedSafetensors,
  SafetensorsFile,
  ShardedSafetensors,
} from "./safetensors/mod.ts";
import type { TensorSource } from "./tensor_source.ts";

/** Candidate checkpoint files inside a folder, in order of preference. */
const FOLDER_CANDIDATES = ["model.safetensors", INDEX_NAME, "pytorch_model.bin", "model.ckpt", "last.ckpt"];

export interface ResolvedSource {
  /** the checkpoint file (or shard index) */
  file: string;
  /** folder holding it (where config.json / README.md are looked for) */
  dir: string;
}

export async function resolveSourcePath(path: string): Promise<ResolvedSource> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new ConversionError(`source not found (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      file: path,
    });
  }
  if (!st.isDirectory()) return { file: path, dir: join(path, "..") };
  for (const c of FOLDER_CANDIDATES) {
    const p = join(path, c);
    if (await stat(p).then((s) => s.isFile(), () => false)) return { file: p, dir: path };
  }
  throw new ConversionError(`no checkpoint in folder (looked for ${FOLDER_CANDIDATES.join(", ")})`, { file: path });
}

export async function openTensorSource(path: string): Promise<TensorSource> {
  const { file } = await resolveSourcePath(path);
  if (file.endsWith(".safetensors")) return openSafetensors(file);
  if (file.endsWith(".json")) return openShardedSafetensors(file);
  return openPickle(file);
}

async function openPickle(file: string): Promise<TensorSource> {
  const modulePath = "./pickle/mod.ts";
  let mod: { openPickleCheckpoint?: (path: string) => Promise<TensorSource> };
  try {
    mod = (await import(modulePath)) as typeof mod;
  } catch (e) {
    throw new ConversionError(
      `not a safetensors file, and the pickle reader (convert/pickle/mod.ts) is unavailable: ${(e as Error).message}`,
      { file },
    );
  }
  if (typeof mod.openPickleCheckpoint !== "function") {
    throw new ConversionError(
      "not a safetensors file, and convert/pickle/mod.ts does not export openPickleCheckpoint",
      { file },
    );
  }
  return mod.openPickleCheckpoint(file);
}

/** The safetensors files a source consists of, when it can be read by byte ranges. */
export function byteRangeFiles(source: TensorSource): SafetensorsFile[] | undefined {
  if (source instanceof SafetensorsFile) return [source];
  if (source instanceof ShardedSafetensors) return source.shards;
  return undefined;
}

/** The files a source reads from (hashed for conversion.json). */
export async function sourceFiles(source: TensorSource): Promise<string[]> {
  const files = byteRangeFiles(source);
  if (files) return files.map((f) => f.path);
  const st = await stat(source.path).catch(() => undefined);
  return st?.isFile() ? [source.path] : [];
}
