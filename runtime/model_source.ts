/**
 * Turn whatever the user points `load` at into a folder with ONNX graphs:
 *   - `hf://owner/repo[@rev]`   → downloaded into the Hub cache first;
 *   - a converted folder        → its `onnx/` graphs, exported into our cache when the folder has none;
 *   - an original checkpoint    → converted, then exported, into our cache.
 * Cache entries are keyed by the source file's path, size and modification time, and are built under a temporary
 * name and renamed, so an interrupted build never leaves a half entry that a later load would trust.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import {
  convertCheckpoint,
  downloadCheckpoint,
  EXPORT_FORMAT,
  exportOnnx,
  GRAPH_PARTS,
  graphFileName,
  HUB_SCHEME,
  ONNX_DIR,
  type Precision,
  readExportManifest,
  readXcodec2Config,
  W2V_BERT_FOLDER,
  type Xcodec2Config,
} from "../convert/mod.ts";
import { kitVersion } from "../common/kit_version.ts";
import { claimTempPath } from "../common/temp_files.ts";
import { InputError } from "./validate.ts";

export interface ResolvedModel {
  /** converted folder (config.json + model.safetensors) */
  dir: string;
  onnxDir: string;
  config: Xcodec2Config;
  /** both graphs were exported in fp16 too */
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

/** Files whose change must invalidate a cache entry: weights and configs in a folder; a file plus the config.json beside it. */
async function keyFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) {
    const beside = join(dirname(path), "config.json");
    return (await exists(beside)) ? [path, beside] : [path];
  }
  const weights = (dir: string) =>
    readdir(dir, { withFileTypes: true }).then(
      (entries) =>
        entries.filter((e) => e.isFile() && /\.(safetensors|json|bin|ckpt|pt)$/.test(e.name)).map((e) =>
          join(dir, e.name)
        ),
      () => [] as string[],
    );
  // NeuCodec's semantic encoder is taken from a w2v-bert-2.0/ folder beside its checkpoint (convert/semantic_source.ts)
  return [...(await weights(path)), ...(await weights(join(path, W2V_BERT_FOLDER)))];
}

/**
 * Cache entry name for `path`: the exporter's format and this package's version, then each key file's absolute path,
 * size and modification time. Whole milliseconds: Deno reports mtimeMs truncated, Bun and Node with a fraction, and
 * all runtimes must find the same entry.
 */
async function cacheKey(path: string, semanticEncoder?: string): Promise<string> {
  const h = createHash("sha256");
  h.update(`${EXPORT_FORMAT}\0${await kitVersion()}\n`);
  const files = await keyFiles(path);
  if (semanticEncoder !== undefined) {
    h.update(`semantic encoder ${semanticEncoder}\n`);
    if (!semanticEncoder.startsWith(HUB_SCHEME) && (await exists(semanticEncoder))) {
      files.push(...(await keyFiles(semanticEncoder)));
    }
  }
  for (const f of files.sort()) {
    const fs = await stat(f);
    h.update(`${resolve(f)}\0${fs.size}\0${Math.floor(fs.mtimeMs)}\n`);
  }
  return h.digest("hex").slice(0, 16);
}

async function describe(dir: string, onnxDir: string): Promise<ResolvedModel> {
  const config = await readXcodec2Config(join(dir, "config.json"));
  const manifest = await readExportManifest(onnxDir);
  return {
    dir,
    onnxDir,
    config,
    hasFp16: await hasGraphs(onnxDir, "fp16"),
    masks: manifest?.masks ?? true,
  };
}

/** Does `onnxDir` hold both graphs in this precision? */
async function hasGraphs(onnxDir: string, precision: Precision): Promise<boolean> {
  for (const part of GRAPH_PARTS) if (!(await exists(join(onnxDir, graphFileName(part, precision))))) return false;
  return true;
}

/** Build `target` by running `build(tmp)` into a temporary sibling, then renaming it into place. */
async function buildAtomically(target: string, build: (tmp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = await claimTempPath(target);
  try {
    await build(tmp);
    await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

export async function resolveModel(
  source: string,
  opts: { cacheDir?: string; log?: (m: string) => void; semanticEncoder?: string } = {},
): Promise<ResolvedModel> {
  const log = opts.log ?? (() => {});
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  let local = source;
  if (source.startsWith(HUB_SCHEME)) {
    // Without an explicit cacheDir, the standard Hub cache (shared with Python's huggingface_hub) is used.
    // Offline (HF_HUB_OFFLINE=1, or the Hub unreachable), a checkpoint already in the cache is used from there.
    local = await downloadCheckpoint(source, {
      log,
      ...(opts.cacheDir !== undefined && { cacheDir: join(opts.cacheDir, "hub") }),
    });
  }
  if (!(await exists(local))) throw new InputError(`${source}: no such file or folder`);
  local = resolve(local);
  const folder = (await stat(local)).isDirectory() ? local : dirname(local);

  if (await isConverted(folder)) {
    const onnxDir = join(folder, ONNX_DIR);
    if (await hasGraphs(onnxDir, "fp32")) return describe(folder, onnxDir);
    // Export into the cache rather than into the user's folder, which may be read-only or shared.
    // Keyed on the whole folder: sharded checkpoints have no single model.safetensors, and config.json matters too.
    const entry = join(cacheDir, "onnx", await cacheKey(folder));
    if (!(await hasGraphs(entry, "fp32"))) {
      log(`exporting ONNX graphs of ${folder} into ${entry}`);
      await buildAtomically(entry, async (tmp) => {
        await exportOnnx(folder, { out: tmp, log, int8: true });
      });
    }
    return describe(folder, entry);
  }

  // An original checkpoint (folder or single file): convert, then export, once.
  const key = await cacheKey(local, opts.semanticEncoder);
  const entry = join(cacheDir, "converted", `${basename(local).replace(/[^\w.-]/g, "_")}-${key}`);
  if (!(await hasGraphs(join(entry, ONNX_DIR), "fp32"))) {
    log(`converting ${local} into ${entry}`);
    await buildAtomically(entry, async (tmp) => {
      await convertCheckpoint({ source: local, out: tmp, log, semanticEncoder: opts.semanticEncoder });
      await exportOnnx(tmp, { log, int8: true });
    });
  }
  return describe(entry, join(entry, ONNX_DIR));
}
