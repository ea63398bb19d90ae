/**
 * `xcodec2 encode` and `xcodec2 decode`: files in, files out, batched, with a progress bar in audio time for many
 * files or long ones (hour-long files run in windows: runtime/windows.ts). `decode --stream` writes its WAV as it
 * decodes (cli_long.ts). Every output path is checked before any work starts, so a refused overwrite costs nothing
 * and leaves nothing.
 */
import { parseArgs } from "node:util";
import { mkdir, readdir, stat } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative } from "node:path";
import { CODES_PER_SECOND, codesForSamples, SAMPLE_RATE } from "../convert/architecture.ts";
import { Xcodec2 } from "./codec.ts";
import { readAudio, writeWav } from "./audio/mod.ts";
import { type CodeItem, readCodesFile, writeCodesFile, writeNpy } from "./codes_io.ts";
import { codesFromText } from "./codes_text.ts";
import {
  audioProgress,
  OptionError,
  parseWindowArgs,
  progressInSeconds,
  STDIN_PATH,
  STDOUT_PATH,
  streamDecodeToWav,
  WINDOW_USAGE,
  windowArgOptions,
} from "./cli_long.ts";
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
    if (input === STDIN_PATH) {
      out.push({ path: input, rel: "stdin.wav" });
      continue;
    }
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

/** Window options, with a bad value as a usage error. */
function windowArgs(v: Record<string, unknown>) {
  try {
    return parseWindowArgs(v);
  } catch (e) {
    if (e instanceof OptionError) throw new UsageError(e.message);
    throw e;
  }
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

/**
 * Files are read and encoded at most this many at a time, and no more than CHUNK_SAMPLES of audio (10 minutes,
 * 38 MB of float32) unless one file alone is longer, so memory stays bounded for folders of any size.
 */
const CHUNK = 64;
const CHUNK_SAMPLES = 600 * SAMPLE_RATE;

const ENCODE_USAGE =
  "usage: xcodec2 encode <model> <audio files or folder, or - for stdin>... --out <folder | file.npy | file.safetensors | file.jsonl> [--device auto] [--batch-size 8] [--precision fp32|fp16] [--resample] [--force] [--cache <dir>] " +
  WINDOW_USAGE;
const DECODE_USAGE =
  "usage: xcodec2 decode <model> <codes file(s) or folder, or - for codes as text on stdin> --out <file.wav | folder | - for stdout with --stream> [--stream [--first-chunk CODES]] [--device auto] [--batch-size 8] [--precision fp32|fp16] [--force] [--cache <dir>] " +
  WINDOW_USAGE;

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
    options: { ...commonOptions(), ...windowArgOptions(), resample: { type: "boolean", default: false } },
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
  const windows = windowArgs(v);
  const codec = await loadCodec(model, v);
  const bar = audioProgress("encode");
  const collected: CodeItem[] = [];
  try {
    for (let i = 0; i < files.length;) {
      const first = i;
      const clips: Float32Array[] = [];
      let samples = 0;
      while (i < files.length && clips.length < CHUNK && (clips.length === 0 || samples < CHUNK_SAMPLES)) {
        const f = files[i++];
        const clip = (await readAudio(f.path, { resample: v.resample })).samples;
        checkItem(f.path, () => validateClips([clip]));
        clips.push(clip);
        samples += clip.length;
        bar.add(clip.length / SAMPLE_RATE);
      }
      const codes = await codec.encode(clips, { batchSize, ...windows, onProgress: progressInSeconds(bar.advance) });
      for (let j = 0; j < clips.length; j++) {
        const f = files[first + j];
        if (single) collected.push({ name: f.rel, codes: codes[j], samples: clips[j].length });
        else {
          await mkdir(dirname(targets[first + j]), { recursive: true });
          await writeNpy(targets[first + j], codes[j]);
        }
      }
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
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...commonOptions(), ...windowArgOptions(), stream: { type: "boolean", default: false } },
  });
  if (v.help) {
    console.log(DECODE_USAGE);
    return 0;
  }
  const [model, ...inputs] = positionals;
  if (!model || !inputs.length || !v.out) throw new UsageError(DECODE_USAGE);
  if (v.out === STDOUT_PATH && !v.stream) throw new UsageError(`--out - (stdout) needs --stream`);
  if (v.stream) return await streamDecodeCommand(model, inputs, v.out, v);
  if (v["first-chunk"] !== undefined) throw new UsageError(`--first-chunk is the stream's first window; add --stream`);
  const files = await listFiles(inputs, new Set([".npy", ".jsonl", ".safetensors"]));
  const items: (CodeItem & { rel: string; label: string })[] = [];
  for (const f of files) {
    if (f.path === STDIN_PATH) {
      items.push({ name: "stdin", codes: await readTextCodes(), rel: "stdin", label: "<stdin>" });
      continue;
    }
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
  const windows = windowArgs(v);
  const codec = await loadCodec(model, v);
  try {
    // Every item is checked before anything is decoded or written, and a bad one is named by file and item.
    for (const it of items) checkItem(it.label, () => validateCodes([it.codes], codec.codebookSize));
  } catch (e) {
    await codec.dispose();
    throw e;
  }
  const bar = audioProgress("decode");
  bar.add(items.reduce((a, it) => a + it.codes.length, 0) / CODES_PER_SECOND, items.length);
  try {
    for (let i = 0; i < items.length;) {
      // at most CHUNK items and CHUNK_SAMPLES of audio (unless one item alone is longer) are held at a time
      const first = i;
      let codes = 0;
      while (i < items.length && i - first < CHUNK && (i === first || codes < codesForSamples(CHUNK_SAMPLES))) {
        codes += items[i++].codes.length;
      }
      const chunk = items.slice(first, i);
      const audio = await codec.decode(chunk.map((it) => it.codes), {
        batchSize,
        ...windows,
        onProgress: progressInSeconds(bar.advance),
      });
      for (let j = 0; j < chunk.length; j++) {
        await mkdir(dirname(targets[first + j]), { recursive: true });
        // Trim to the source length when the codes file recorded it: the codec emits whole hops.
        const n = chunk[j].samples;
        await writeWav(targets[first + j], n && n <= audio[j].length ? audio[j].subarray(0, n) : audio[j]);
      }
    }
  } finally {
    bar.stop();
    await codec.dispose();
  }
  console.error(`decoded ${items.length} item(s) on ${codec.device} (${codec.precision}) → ${v.out}`);
  return 0;
}

/** Codes as text on stdin (integers separated by whitespace or commas), all of them. */
async function readTextCodes(): Promise<Int32Array> {
  const parts: Int32Array[] = [];
  for await (const p of codesFromText(process.stdin, "<stdin>")) parts.push(p);
  const out = new Int32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

/** `decode --stream`: one item in (a codes file or "-"), one WAV out (a file or "-"), written as it is decoded. */
async function streamDecodeCommand(
  model: string,
  inputs: string[],
  out: string,
  v: Record<string, unknown>,
): Promise<number> {
  if (inputs.length !== 1) throw new UsageError(`--stream decodes one input, ${inputs.length} given`);
  if (out !== STDOUT_PATH && !out.endsWith(".wav")) {
    throw new UsageError(`--stream writes one WAV: --out must be a .wav file or - (stdout), got ${out}`);
  }
  const windows = windowArgs(v);
  if (windows.singlePassLimit !== undefined) {
    throw new UsageError(`--single-pass-limit does not apply to --stream (a stream is always windowed)`);
  }
  let item: CodeItem | undefined;
  if (inputs[0] !== STDIN_PATH) {
    if (!(await exists(inputs[0]))) throw new FileRefusedError(`${inputs[0]}: no such file`);
    const inFile = await readCodesFile(inputs[0]);
    if (inFile.length !== 1) {
      throw new UsageError(`--stream decodes one item, ${inputs[0]} holds ${inFile.length}; decode without --stream`);
    }
    item = inFile[0];
  }
  if (out !== STDOUT_PATH && !v.force && (await exists(out))) {
    throw new FileRefusedError(`${out} exists; pass --force to overwrite`);
  }
  const codec = await loadCodec(model, v);
  try {
    if (item) checkItem(inputs[0], () => validateCodes([item.codes], codec.codebookSize));
    await streamDecodeToWav(codec, item ? inputs[0] : "<stdin>", item, out, windows, (m) => console.error(m));
  } finally {
    await codec.dispose();
  }
  return 0;
}
