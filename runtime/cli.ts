/**
 * `xcodec2 encode` and `xcodec2 decode`: files in, files out, batched, with a progress bar for many files.
 * Every output path is checked before any work starts, so a refused overwrite costs nothing and leaves nothing.
 */
import { parseArgs } from "node:util";
import { mkdir, readdir, stat } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative } from "node:path";
import cliProgress from "cli-progress";
import { Xcodec2 } from "./codec.ts";
import { readAudio, writeWav } from "./audio/mod.ts";
import { type CodeItem, readCodesFile, writeCodesFile, writeNpy } from "./codes_io.ts";
import type { DeviceRequest } from "./types.ts";
import { InputError, validateClips, validateCodes } from "./validate.ts";

/** The command line itself is wrong (missing arguments, bad option values): exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A named input is missing, or an output exists and --force was not given: exit status 1. */
export class FileRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FileRefusedError";
  }
}

const AUDIO_EXT = new Set([".wav", ".flac", ".mp3"]);
const exists = (p: string) => stat(p).then(() => true, () => false);

async function listFiles(inputs: string[], exts: Set<string>): Promise<{ path: string; rel: string }[]> {
  const out: { path: string; rel: string }[] = [];
  for (const input of inputs) {
    const s = await stat(input).catch(() => {
      throw new FileRefusedError(`${input}: no such file or folder`);
    });
    if (!s.isDirectory()) {
      out.push({ path: input, rel: basename(input) });
      continue;
    }
    const walk = async (dir: string) => {
      for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (exts.has(extname(e.name).toLowerCase())) out.push({ path: p, rel: relative(input, p) });
      }
    };
    await walk(input);
  }
  if (!out.length) throw new FileRefusedError(`no input files found in ${inputs.join(", ")}`);
  return out;
}

function commonOptions() {
  return {
    help: { type: "boolean" as const, short: "h", default: false },
    out: { type: "string" as const, short: "o" },
    device: { type: "string" as const, default: "auto" },
    "batch-size": { type: "string" as const, default: "8" },
    force: { type: "boolean" as const, default: false },
    precision: { type: "string" as const },
    cache: { type: "string" as const },
  };
}

function parseDevice(v: string): DeviceRequest {
  if (!["cpu", "webgpu", "cuda", "auto"].includes(v)) {
    throw new UsageError(`--device must be cpu, webgpu, cuda or auto, got ${v}`);
  }
  return v as DeviceRequest;
}

function parseBatch(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new UsageError(`--batch-size must be an integer in [1, 1024], got ${v}`);
  }
  return n;
}

function progress(total: number, label: string) {
  if (total < 2 || !process.stderr.isTTY) return { tick: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar({
    format: `${label} [{bar}] {value}/{total} files | {eta_formatted} left`,
    stream: process.stderr,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0);
  return { tick: (n = 1) => bar.increment(n), stop: () => bar.stop() };
}

async function loadCodec(model: string, v: Record<string, unknown>): Promise<Xcodec2> {
  const precision = v.precision as string | undefined;
  if (precision && !["fp32", "fp16", "auto"].includes(precision)) {
    throw new UsageError(`--precision must be fp32, fp16 or auto`);
  }
  return Xcodec2.load(model, {
    device: parseDevice(v.device as string),
    precision: precision as "fp32" | "fp16" | "auto" | undefined,
    cacheDir: v.cache as string | undefined,
  });
}

/** Files are read and encoded this many at a time, so memory stays bounded for folders of any size. */
const CHUNK = 64;

const ENCODE_USAGE =
  "usage: xcodec2 encode <model> <audio files or folder>... --out <folder | file.npy | file.safetensors | file.jsonl> [--device auto] [--batch-size 8] [--precision fp32|fp16] [--resample] [--force] [--cache <dir>]";
const DECODE_USAGE =
  "usage: xcodec2 decode <model> <codes file(s) or folder> --out <file.wav | folder> [--device auto] [--batch-size 8] [--precision fp32|fp16] [--force] [--cache <dir>]";

/** Re-throw a per-item InputError ("clip 0: …", "codes 0: …") with the file it came from. */
function checkItem(file: string, check: () => void): void {
  try {
    check();
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${file}: ${e.message.replace(/^(clip|codes) 0: /, "")}`);
    throw e;
  }
}

export async function runEncodeCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...commonOptions(), resample: { type: "boolean", default: false } },
  });
  if (v.help) {
    console.log(ENCODE_USAGE);
    return 0;
  }
  const [model, ...inputs] = positionals;
  if (!model || !inputs.length || !v.out) throw new UsageError(ENCODE_USAGE);
  const files = await listFiles(inputs, AUDIO_EXT);
  const single = /\.(safetensors|jsonl|npy)$/.test(v.out);
  if (v.out.endsWith(".npy") && files.length !== 1) {
    throw new UsageError(`--out ${v.out}: a .npy file holds one clip, ${files.length} given; give a folder`);
  }
  const targets = single ? [v.out] : files.map((f) => join(v.out!, f.rel.replace(/\.[^.]+$/, ".npy")));
  if (!single) {
    // a.wav and a.flac (or x.wav in two input folders) would both become a.npy: refuse rather than keep only one
    const seen = new Map<string, string>();
    files.forEach((f, i) => {
      const other = seen.get(targets[i]);
      if (other) {
        throw new UsageError(
          `${other} and ${f.path} would both be written to ${targets[i]}; encode them separately or rename one`,
        );
      }
      seen.set(targets[i], f.path);
    });
  }
  if (!v.force) {
    for (const t of targets) if (await exists(t)) throw new FileRefusedError(`${t} exists; pass --force to overwrite`);
  }
  const batchSize = parseBatch(v["batch-size"]!);
  const codec = await loadCodec(model, v);
  const bar = progress(files.length, "encode");
  const collected: CodeItem[] = [];
  try {
    for (let i = 0; i < files.length; i += CHUNK) {
      const chunk = files.slice(i, i + CHUNK);
      const clips = await Promise.all(
        chunk.map((f) => readAudio(f.path, { resample: v.resample }).then((a) => a.samples)),
      );
      chunk.forEach((f, j) => checkItem(f.path, () => validateClips([clips[j]])));
      const codes = await codec.encode(clips, { batchSize });
      for (let j = 0; j < chunk.length; j++) {
        if (single) collected.push({ name: chunk[j].rel, codes: codes[j], samples: clips[j].length });
        else {
          await mkdir(dirname(targets[i + j]), { recursive: true });
          await writeNpy(targets[i + j], codes[j]);
        }
      }
      bar.tick(chunk.length);
    }
    if (single) await writeCodesFile(v.out, collected);
  } finally {
    bar.stop();
    await codec.dispose();
  }
  console.error(`encoded ${files.length} file(s) on ${codec.device} (${codec.precision}) → ${v.out}`);
  return 0;
}

export async function runDecodeCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, allowPositionals: true, options: commonOptions() });
  if (v.help) {
    console.log(DECODE_USAGE);
    return 0;
  }
  const [model, ...inputs] = positionals;
  if (!model || !inputs.length || !v.out) throw new UsageError(DECODE_USAGE);
  const files = await listFiles(inputs, new Set([".npy", ".jsonl", ".safetensors"]));
  const items: (CodeItem & { rel: string; label: string })[] = [];
  for (const f of files) {
    const inFile = await readCodesFile(f.path);
    for (const it of inFile) {
      const rel = f.path.endsWith(".npy") ? f.rel.replace(/\.npy$/, "") : it.name.replace(/\.[^./]+$/, "");
      items.push({
        ...it,
        rel,
        label: inFile.length > 1 || !f.path.endsWith(".npy") ? `${f.path} item "${it.name}"` : f.path,
      });
    }
  }
  const toFile = v.out.endsWith(".wav");
  if (toFile && items.length !== 1) {
    throw new UsageError(`--out ${v.out}: one WAV file holds one item, ${items.length} given; give a folder`);
  }
  const targets = toFile ? [v.out] : items.map((it) => join(v.out!, `${it.rel}.wav`));
  if (!toFile) {
    // Item names come from the codes file: a name like "../../x" must not write outside --out.
    items.forEach((it, i) => {
      const r = relative(v.out!, targets[i]);
      if (!r || r.startsWith("..") || isAbsolute(r)) {
        throw new UsageError(
          `${it.label}: the name would be written outside ${v.out} (${targets[i]}); rename the item`,
        );
      }
    });
  }
  if (new Set(targets).size !== targets.length) {
    throw new UsageError(`two items would be written to the same WAV file; rename the items`);
  }
  if (!v.force) {
    for (const t of targets) if (await exists(t)) throw new FileRefusedError(`${t} exists; pass --force to overwrite`);
  }
  const batchSize = parseBatch(v["batch-size"]!);
  const codec = await loadCodec(model, v);
  try {
    // Every item is checked before anything is decoded or written, and a bad one is named by file and item.
    for (const it of items) checkItem(it.label, () => validateCodes([it.codes], codec.codebookSize));
  } catch (e) {
    await codec.dispose();
    throw e;
  }
  const bar = progress(items.length, "decode");
  try {
    for (let i = 0; i < items.length; i += CHUNK) {
      const chunk = items.slice(i, i + CHUNK);
      const audio = await codec.decode(chunk.map((it) => it.codes), { batchSize });
      for (let j = 0; j < chunk.length; j++) {
        await mkdir(dirname(targets[i + j]), { recursive: true });
        // Trim to the source length when the codes file recorded it: the codec emits whole hops.
        const n = chunk[j].samples;
        await writeWav(targets[i + j], n && n <= audio[j].length ? audio[j].subarray(0, n) : audio[j]);
      }
      bar.tick(chunk.length);
    }
  } finally {
    bar.stop();
    await codec.dispose();
  }
  console.error(`decoded ${items.length} item(s) on ${codec.device} (${codec.precision}) → ${v.out}`);
  return 0;
}
