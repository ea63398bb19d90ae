/**
 * `xcodec2 encode` and `xcodec2 decode`: files in, files out, batched, with a progress bar in audio time for many
 * files or long ones (hour-long files run in windows: runtime/windows.ts). `decode --stream` writes its WAV as it
 * decodes (cli_long.ts). Every output path is checked before any work starts, so a refused overwrite costs nothing
 * and leaves nothing.
 */
import { mkdir, readdir, stat } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative } from "node:path";
import process from "node:process";
import { Xcodec2 } from "./codec.ts";
import { readAudio, writeWav } from "./audio/mod.ts";
import { type CodeItem, readCodesFile, writeCodesFile, writeNpy } from "./codes_io.ts";
import { codesFromText } from "./codes_text.ts";
import {
  audioProgress,
  crossfadeOptionSpec,
  firstChunkOptionSpec,
  progressInSeconds,
  STDIN_PATH,
  STDOUT_PATH,
  streamDecodeToWav,
  windowOptions,
  windowOptionSpecs,
} from "./cli_long.ts";
import { Command, type OptionValues } from "../common/args.ts";
import { UsageError, Xcodec2Error } from "../common/errors.ts";
import { DEVICE_CHOICES } from "../convert/mod.ts";
import { InputError, validateClips, validateCodes } from "./validate.ts";
import { DECODE_GRID, ENCODE_GRID, STREAM_GRID } from "./windows.ts";

/** A named input is missing, or an output exists and --force was not given: exit status 1. */
export class FileRefusedError extends Xcodec2Error {}

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

const LONG_AUDIO_NOTE =
  "Inputs longer than --single-pass-limit codes (30 s) run in windows of --window centre frames " +
  "with --left and --right frames of context (frames are codes: 50 per second, 25 for the 25TPS model); `xcodec2 parity --long` measures " +
  "what a grid costs on your checkpoint.";

const ENCODE = new Command({
  name: "encode",
  summary: "Encode audio files (WAV, FLAC, MP3; 16 kHz unless --resample) into codes, batched by length.",
  positionals: [MODEL, {
    name: "audio",
    help: "audio files or folders of them; - reads one file from stdin (a streamed WAV to its end)",
    variadic: true,
  }],
  options: {
    ...COMMON_OPTIONS,
    out: { ...COMMON_OPTIONS.out, help: "a folder (one int32 .npy per file), or one file.npy / .safetensors / .jsonl" },
    resample: { type: "boolean", help: "resample other rates to 16 kHz (libsamplerate, best quality)" },
    ...windowOptionSpecs(ENCODE_GRID),
  },
  notes: LONG_AUDIO_NOTE,
});

const DECODE = new Command({
  name: "decode",
  summary: "Decode codes (.npy, .jsonl, .safetensors, or Parquet shards of encode-dataset) into WAV files.",
  positionals: [MODEL, {
    name: "codes",
    help: "codes files or folders of them; - reads codes as text from stdin (integers, by spaces or commas)",
    variadic: true,
  }],
  options: {
    ...COMMON_OPTIONS,
    out: { ...COMMON_OPTIONS.out, help: "file.wav (one item) or a folder; with --stream, - writes to stdout" },
    stream: {
      type: "boolean",
      help: "one input → one WAV written as it decodes (playable while written; codes on stdin decode as they come)",
    },
    "first-chunk": firstChunkOptionSpec(STREAM_GRID),
    ...windowOptionSpecs(DECODE_GRID, STREAM_GRID),
    crossfade: crossfadeOptionSpec(DECODE_GRID, STREAM_GRID),
  },
  notes: LONG_AUDIO_NOTE + " --stream always runs in windows (a stream cannot know its length).",
});

function loadCodec(model: string, v: OptionValues<typeof COMMON_OPTIONS>): Promise<Xcodec2> {
  return Xcodec2.load(model, { device: v.device, precision: v.precision, cacheDir: v.cache });
}

/**
 * Files are read and encoded at most this many at a time, and no more than CHUNK_SECONDS of audio (10 minutes,
 * 38 MB of float32) unless one file alone is longer, so memory stays bounded for folders of any size.
 */
const CHUNK = 64;
const CHUNK_SECONDS = 600;

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
  const bar = audioProgress("encode");
  const collected: CodeItem[] = [];
  // readAudio gives audio at the model's input rate (resampled on request), whatever the file's rate
  const chunkSamples = CHUNK_SECONDS * codec.inputSampleRate;
  try {
    for (let i = 0; i < files.length;) {
      const first = i;
      const clips: Float32Array[] = [];
      let samples = 0;
      while (i < files.length && clips.length < CHUNK && (clips.length === 0 || samples < chunkSamples)) {
        const f = files[i++];
        const clip = (await readAudio(f.path, { resample: v.resample, sampleRate: codec.inputSampleRate })).samples;
        checkItem(f.path, () => {
          validateClips([clip]);
          if (clip.length < codec.minClipSamples) {
            throw new InputError(`${clip.length} samples; this model needs at least ${codec.minClipSamples}`);
          }
        });
        clips.push(clip);
        samples += clip.length;
        bar.add(clip.length / codec.inputSampleRate);
      }
      const codes = await codec.encode(clips, {
        batchSize,
        ...windowOptions(v),
        onProgress: progressInSeconds(bar.advance, codec.facts.codesPerSecond),
      });
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

export function runDecodeCommand(argv: string[]): Promise<number> {
  return DECODE.run(argv, ({ positionals: [model, ...inputs], values }) => decode(model, inputs, values));
}

async function decode(model: string, inputs: string[], v: OptionValues<typeof DECODE.spec.options>): Promise<number> {
  if (v.out === STDOUT_PATH && !v.stream) throw new UsageError(`--out - (stdout) needs --stream`);
  if (v.stream) return await streamDecodeCommand(model, inputs, v);
  if (v["first-chunk"] !== undefined) throw new UsageError(`--first-chunk is the stream's first window; add --stream`);
  const files = await listFiles(inputs, new Set([".npy", ".jsonl", ".safetensors", ".parquet"]));
  const items: (CodeItem & { rel: string; label: string })[] = [];
  for (const f of files) {
    if (f.path === STDIN_PATH) {
      items.push({ name: "stdin", codes: await readTextCodes(), rel: "stdin", label: "<stdin>" });
      continue;
    }
    const inFile = await readCodesFile(f.path);
    for (const it of inFile) {
      // .npy: the file's own path; a dataset's __key__ is the name itself; other names are the source file's
      const rel = f.path.endsWith(".npy")
        ? f.rel.replace(/\.npy$/, "")
        : f.path.endsWith(".parquet")
        ? it.name
        : it.name.replace(/\.[^./]+$/, "");
      items.push({
        ...it,
        rel,
        label: inFile.length > 1 || !f.path.endsWith(".npy") ? `${f.path} item "${it.name}"` : f.path,
      });
    }
  }
  if (!items.length) throw new FileRefusedError(`${inputs.join(", ")}: no codes to decode (every file is empty)`);
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
  const { codesPerSecond, sampleRate } = codec.facts;
  const bar = audioProgress("decode");
  bar.add(items.reduce((a, it) => a + it.codes.length, 0) / codesPerSecond, items.length);
  try {
    for (let i = 0; i < items.length;) {
      // at most CHUNK items and CHUNK_SECONDS of audio (unless one item alone is longer) are held at a time
      const first = i;
      let codes = 0;
      while (i < items.length && i - first < CHUNK && (i === first || codes < CHUNK_SECONDS * codesPerSecond)) {
        codes += items[i++].codes.length;
      }
      const chunk = items.slice(first, i);
      const audio = await codec.decode(chunk.map((it) => it.codes), {
        batchSize,
        ...windowOptions(v),
        onProgress: progressInSeconds(bar.advance, codesPerSecond),
      });
      for (let j = 0; j < chunk.length; j++) {
        await mkdir(dirname(targets[first + j]), { recursive: true });
        // Trim to the source's length when the codes file recorded it (input samples, carried to the output rate):
        // the codec emits whole hops. The WAV is written at the model's output rate.
        const src = chunk[j].samples;
        const n = src && Math.round((src * sampleRate) / codec.inputSampleRate);
        await writeWav(targets[first + j], n && n <= audio[j].length ? audio[j].subarray(0, n) : audio[j], {
          sampleRate,
        });
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
  v: OptionValues<typeof DECODE.spec.options>,
): Promise<number> {
  if (inputs.length !== 1) throw new UsageError(`--stream decodes one input, ${inputs.length} given`);
  const out = v.out;
  if (out !== STDOUT_PATH && !out.endsWith(".wav")) {
    throw new UsageError(`--stream writes one WAV: --out must be a .wav file or - (stdout), got ${out}`);
  }
  const { singlePassLimit, ...grid } = windowOptions(v, v["first-chunk"]);
  if (singlePassLimit !== undefined) {
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
    await streamDecodeToWav(codec, item ? inputs[0] : "<stdin>", item, out, grid, (m) => console.error(m));
  } finally {
    await codec.dispose();
  }
  return 0;
}
