/**
 * Turn whatever the user points `load` at into a folder with ONNX graphs:
 *   - `hf://owner/repo[@rev]`   → downloaded into the Hub cache first;
 *   - a converted folder        → its `onnx/` graphs, exported into our cache when the folder has none;
 *   - an original checkpoint    → converted, then exported, into our cache.
 * Cache entries are keyed by the source file's path, size and modification time, and are built under a temporary
 * name and renamed, so an interrupted build never leaves a half entry that a later load would trust.
 */
import { createHash } from "node:crypto";
import { readFile, stat, rename, rm, mkdir, readdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve, dirname, basename } from "node:path";
import { readXcodec2Config, type Xcodec2Config } from "../convert/architecture.ts";
import { exportOnnx, readExportManifest } from "../convert/onnx/export.ts";
import { InputError } from "./validate.ts";

export interface ResolvedModel {
  /** converted folder (config.json + model.safetensors) */
  dir: string;
  onnxDir: string;
  config: Xcodec2Config;
  hasFp16: boolean;
  /** false for graphs exported with `--no-masks` */
  masks: boolean;
}

export function defaultCacheDir(): string {
  return process.env.XCODEC2_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "xcodec2-kit");
}

const exists = (p: string) => stat(p).then(() => true, () => false);

/** Is this folder in the converted (Hugging Face `Xcodec2Model`) layout? */
async function isConverted(dir: string): Promise<boolean> {
  const cfgPath = join(dir, "config.json");
  if (!(await exists(cfgPath))) return false;
  try {
    const cfg = JSON.parse(await readFile(cfgPath, "utf8"));
    return typeof cfg === "object" && cfg !== null && "semantic_model_config" in cfg;
  } catch {
    return false;
  }
}

async function cacheKey(path: string): Promise<string> {
  const s = await stat(path);
  let files: string[] = [path];
  if (s.isDirectory()) files = (await readdir(path)).filter((f) => /\.(safetensors|json|bin|ckpt|pt)$/.test(f)).map((f) => join(path, f));
  const h = createHash("sha256");
  for (const f of files.sort()) {
    const fs = await stat(f);
    h.update(`${resolve(f)}\0${fs.size}\0${fs.mtimeMs}\n`);
  }
  return h.digest("hex").slice(0, 16);
}

async function describe(dir: string, onnxDir: string): Promise<ResolvedModel> {
  const config = await readXcodec2Config(join(dir, "config.json"));
  const manifest = await readExportManifest(onnxDir);
  return {
    dir, onnxDir, config,
    hasFp16: await exists(join(onnxDir, "encoder_model_fp16.onnx")) && await exists(join(onnxDir, "decoder_model_fp16.onnx")),
    masks: manifest?.masks ?? true,
  };
}

/** Build `target` by running `build(tmp)` into a temporary sibling, then renaming it into place. */
async function buildAtomically(target: string, build: (tmp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  try {
    await build(tmp);
    await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

export async function resolveModel(source: string, opts: { cacheDir?: string; log?: (m: string) => void } = {}): Promise<ResolvedModel> {
  const log = opts.log ?? (() => {});
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  let local = source;
  if (source.startsWith("hf://")) {
    const { downloadCheckpoint } = await import("../convert/hub.ts");
    local = await downloadCheckpoint(source, { cacheDir: join(cacheDir, "hub") });
  }
  if (!(await exists(local))) throw new InputError(`${source}: no such file or folder`);
  local = resolve(local);
  const folder = (await stat(local)).isDirectory() ? local : dirname(local);

  if (await isConverted(folder)) {
    const onnxDir = join(folder, "onnx");
    if (await exists(join(onnxDir, "encoder_model.onnx")) && await exists(join(onnxDir, "decoder_model.onnx"))) {
      return describe(folder, onnxDir);
    }
    // Export into the cache rather than into the user's folder, which may be read-only or shared.
    const entry = join(cacheDir, "onnx", await cacheKey(join(folder, "model.safetensors")));
    if (!(await exists(join(entry, "encoder_model.onnx")))) {
      log(`exporting ONNX graphs of ${folder} into ${entry}`);
      await buildAtomically(entry, async (tmp) => { await exportOnnx(folder, { out: tmp, log }); });
    }
    return describe(folder, entry);
  }

  // An original checkpoint (folder or single file): convert, then export, once.
  const entry = join(cacheDir, "converted", `${basename(local).replace(/[^\w.-]/g, "_")}-${await cacheKey(local)}`);
  if (!(await exists(join(entry, "onnx", "decoder_model.onnx")))) {
    log(`converting ${local} into ${entry}`);
    const { convertCheckpoint } = await import("../convert/mod.ts");
    await buildAtomically(entry, async (tmp) => {
      await convertCheckpoint({ source: local, out: tmp, log });
      await exportOnnx(tmp, { log });
    });
  }
  return describe(entry, join(entry, "onnx"));
}
