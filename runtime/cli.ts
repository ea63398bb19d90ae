/**
 * `xcodec2 encode` and `xcodec2 decode`: files in, files out, batched, with a progress bar for many files.
 * Every output path is checked before any work starts, so a refused overwrite costs nothing and leaves nothing.
 */
import { mkdir, readdir, stat } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative } from "node:path";
import cliProgress from "cli-progress";
import { Xcodec2 } from "./codec.ts";
import { readAudio, writeWav } from "./audio/mod.ts";
import { type CodeItem, readCodesFile, writeCodesFile, writeNpy } from "./codes_io.ts";
import { Command, type OptionValues } from "../common/args.ts";
import { UsageError, Xcodec2Error } from "../common/errors.ts";
import { DEVICE_CHOICES } from "../convert/mod.ts";
import { InputError, validateClips, validateCodes } from "./validate.ts";

/** A named input is missing, or an output exists and --force was not given: exit status 1. */
export class FileRefusedError extends Xcodec2Error {}

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

/** Options both commands take. */
const COMMON_OPTIONS = {
  out: { type: "string", short: "o", value: "PATH", required: true, help: "" },
  device: {
    type: "choice",
    choices: DEVICE_CHOICES,
    default: "auto",
    help: "where to run; auto = cuda, then a hardware WebGPU adapter, then cpu",
  },
  "batch-size": { type: "integer", min: 1, max: 1024, default: 8, help: "largest number of items per graph call" },
  precision: {
    type: "choice",
    choices: ["fp32", "fp16", "int8", "auto"],
    default: "auto",
    help: "graph precision; auto = fp32 encoder, fp16 decoder on GPUs; int8 = int8 decoder (fp32 encoder)",
  },
  force: { type: "boolean", help: "overwrite existing outputs" },
  cache: {
    type: "string",
    value: "DIR",
    help: "cache for converted and exported models (default $XCODEC2_CACHE or ~/.cache/xcodec2-kit)",
  },
} as const;
const MODEL = { name: "model", help: "converted folder, original checkpoint, or hf://owner/repo[@revision]" } as const;

const ENCODE = new Command({
  name: "encode",
  summary: "Encode audio files (WAV, FLAC, MP3; 16 kHz unless --resample) into codes, batched by length.",
  positionals: [MODEL, { name: "audio", help: "audio files or folders of them", variadic: true }],
  options: {
    ...COMMON_OPTIONS,
    out: { ...COMMON_OPTIONS.out, help: "a folder (one int32 .npy per file), or one file.npy / .safetensors / .jsonl" },
    resample: { type: "boolean", help: "resample other rates to 16 kHz (libsamplerate, best quality)" },
  },
});

const DECODE = new Command({
  name: "decode",
  summary: "Decode codes (.npy, .jsonl, .safetensors) into 16 kHz WAV files.",
  positionals: [MODEL, { name: "codes", help: "codes files or folders of them", variadic: true }],
  options: { ...COMMON_OPTIONS, out: { ...COMMON_OPTIONS.out, help: "file.wav (one item) or a folder" } },
});

function progress(total: number, label: string) {
  if (total < 2 || !process.stderr.isTTY) return { tick: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar({
    format: `${label} [{bar}] {value}/{total} files | {eta_formatted} left`,
    stream: process.stderr,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0);
  return { tick: (n = 1) => bar.increment(n), stop: () => bar.stop() };
}

function loadCodec(model: string, v: OptionValues<typeof COMMON_OPTIONS>): Promise<Xcodec2> {
  return Xcodec2.load(model, { device: v.device, precision: v.precision, cacheDir: v.cache });
}

/** Files are read and encoded this many at a time, so memory stays bounded for folders of any size. */
const CHUNK = 64;

/** Re-throw a per-item InputError ("clip 0: …", "codes 0: …") with the file it came from. */
function checkItem(file: string, check: () => void): void {
  try {
    check();
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${file}: ${e.message.replace(/^(clip|codes) 0: /, "")}`);
    throw e;
  }
}

export function runEncodeCommand(argv: string[]): Promise<number> {
  return ENCODE.run(argv, ({ positionals: [model, ...inputs], values }) => encode(model, inputs, values));
}

async function encode(model: string, inputs: string[], v: OptionValues<typeof ENCODE.spec.options>): Promise<number> {
  const files = await listFiles(inputs, AUDIO_EXT);
  const single = /\.(safetensors|jsonl|npy)$/.test(v.out);
  if (v.out.endsWith(".npy") && files.length !== 1) {
    throw new UsageError(`--out ${v.out}: a .npy file holds one clip, ${files.length} given; give a folder`);
  }
  const targets = single ? [v.out] : files.map((f) => join(v.out, f.rel.replace(/\.[^.]+$/, ".npy")));
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
  const batchSize = v["batch-size"];
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

export function runDecodeCommand(argv: string[]): Promise<number> {
  return DECODE.run(argv, ({ positionals: [model, ...inputs], values }) => decode(model, inputs, values));
}

async function decode(model: string, inputs: string[], v: OptionValues<typeof DECODE.spec.options>): Promise<number> {
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
  const targets = toFile ? [v.out] : items.map((it) => join(v.out, `${it.rel}.wav`));
  if (!toFile) {
    // Item names come from the codes file: a name like "../../x" must not write outside --out.
    items.forEach((it, i) => {
      const r = relative(v.out, targets[i]);
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
  const batchSize = v["batch-size"];
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
