/**
 * The command line's long-audio parts: window options, a progress bar in audio time, and `xcodec2 decode --stream`
 * (codes from a file or from stdin as text → a WAV written as it is decoded, to a file or to stdout).
 */
import cliProgress from "cli-progress";
import process from "node:process";
import { STDIN_PATH } from "./audio/read_audio.ts";
import { STDOUT_PATH, WavStreamWriter } from "./audio/wav_stream_writer.ts";
import type { Xcodec2 } from "./codec.ts";
import { codesFromText } from "./codes_text.ts";
import type { CodeItem } from "./codes_io.ts";
import { SINGLE_PASS_LIMIT, type WindowGrid, type WindowOptions } from "./windows.ts";
import { InputError } from "./validate.ts";

/** Window sizes are frames (codes); this bounds them far above any useful window (55 hours of codes). */
const MAX_FRAMES = 10_000_000;

const defaultText = (k: keyof WindowGrid, grid: Readonly<WindowGrid>, stream?: Readonly<WindowGrid>) =>
  `(default ${grid[k]}${stream && stream[k] !== grid[k] ? `; --stream ${stream[k]}` : ""})`;

const frames = (
  min: number,
  help: string,
) => ({ type: "integer", min, max: MAX_FRAMES, value: "FRAMES", help } as const);

/**
 * The window options of `encode` and `decode` (common/args.ts specs); `grid` (and `stream`) supply the defaults shown
 * in the help. The crossfade is decode's alone (`crossfadeOptionSpec`): encode keeps each window's centre codes.
 */
export function windowOptionSpecs(grid: Readonly<WindowGrid>, stream?: Readonly<WindowGrid>) {
  const dflt = (k: keyof WindowGrid) => defaultText(k, grid, stream);
  return {
    window: frames(1, `centre frames of a window of a long input ${dflt("window")}`),
    left: frames(0, `context frames before a window's centre ${dflt("left")}`),
    right: frames(0, `context frames after a window's centre ${dflt("right")}`),
    "single-pass-limit": frames(
      0,
      `inputs of at most this many codes run in one pass, longer ones in windows (default ${SINGLE_PASS_LIMIT})`,
    ),
  } as const;
}

/** decode's `--crossfade` (common/args.ts spec). */
export function crossfadeOptionSpec(grid: Readonly<WindowGrid>, stream?: Readonly<WindowGrid>) {
  return {
    type: "integer",
    min: 0,
    max: MAX_FRAMES,
    value: "SAMPLES",
    help: `samples blended across each seam; 0: a hard cut ${defaultText("crossfade", grid, stream)}`,
  } as const;
}

/** decode's `--first-chunk`: the stream's first window (common/args.ts spec). */
export function firstChunkOptionSpec(stream: Readonly<WindowGrid>) {
  return {
    type: "integer",
    min: 1,
    max: MAX_FRAMES,
    value: "CODES",
    help: `with --stream: centre frames of the first window, for early first audio; later windows double up to ` +
      `--window (default ${stream.first})`,
  } as const;
}

/** The window options' parsed values, as the codec takes them (options not given are left to its defaults). */
export function windowOptions(
  v: { window?: number; left?: number; right?: number; crossfade?: number; "single-pass-limit"?: number },
  first?: number,
): WindowOptions & { singlePassLimit?: number } {
  const out: WindowOptions & { singlePassLimit?: number } = {};
  if (v.window !== undefined) out.window = v.window;
  if (v.left !== undefined) out.left = v.left;
  if (v.right !== undefined) out.right = v.right;
  if (v.crossfade !== undefined) out.crossfade = v.crossfade;
  if (first !== undefined) out.first = first;
  if (v["single-pass-limit"] !== undefined) out.singlePassLimit = v["single-pass-limit"];
  return out;
}

/**
 * A progress bar in seconds of audio (stderr, only when it is a terminal): `total` may grow as inputs are read.
 * Shown when there are several files or at least `minSeconds` of audio, where waiting without one is unnerving.
 */
export function audioProgress(label: string, minSeconds = 30) {
  const tty = !!process.stderr.isTTY;
  let bar: cliProgress.SingleBar | undefined;
  let total = 0, value = 0, files = 0;
  const ensure = () => {
    if (bar || !tty || (files < 2 && total < minSeconds)) return;
    bar = new cliProgress.SingleBar({
      format: `${label} [{bar}] {value}/{total} s of audio | {eta_formatted} left`,
      stream: process.stderr,
    }, cliProgress.Presets.shades_classic);
    bar.start(Math.round(total), Math.round(value));
  };
  return {
    /** more input: `seconds` of audio in `n` files */
    add(seconds: number, n = 1) {
      total += seconds;
      files += n;
      ensure();
      bar?.setTotal(Math.round(total));
    },
    /** `seconds` of audio done */
    advance(seconds: number) {
      value += seconds;
      bar?.update(Math.round(value));
    },
    stop: () => bar?.stop(),
  };
}

/**
 * `onProgress` (codes done in one call) → seconds advanced, for calls that report cumulative counts; `codesPerSecond`
 * is the codec's (`facts.codesPerSecond`).
 */
export function progressInSeconds(advance: (s: number) => void, codesPerSecond: number): (done: number) => void {
  let last = 0;
  return (done) => {
    advance((done - last) / codesPerSecond);
    last = done;
  };
}

/**
 * `decode --stream`: one item (read from a codes file; undefined: codes as text on stdin, decoded as they arrive) →
 * one WAV written piece by piece (a file, or "-": stdout). Returns the samples written.
 */
export async function streamDecodeToWav(
  codec: Xcodec2,
  name: string,
  item: CodeItem | undefined,
  out: string,
  grid: WindowOptions,
  log: (m: string) => void,
): Promise<number> {
  const source = item ? [item.codes] : codesFromText(process.stdin, "<stdin>");
  const { decoderHop, sampleRate, inputSampleRate, codesPerSecond } = codec.facts;
  // the codes file may record the source length (input samples, carried to the output rate): the codec emits whole
  // hops, so the tail is cut to it
  const wanted = item?.samples && Math.round((item.samples * sampleRate) / inputSampleRate);
  const limit = wanted && wanted <= item.codes.length * decoderHop ? wanted : Infinity;
  const bar = audioProgress("decode");
  if (item) bar.add(item.codes.length / codesPerSecond);
  const writer = await WavStreamWriter.open(out, { sampleRate });
  try {
    for await (const piece of codec.decodeStream(source, grid)) {
      const keep = piece.subarray(0, Math.max(0, limit - writer.written));
      await writer.write(keep);
      bar.advance(piece.length / sampleRate);
    }
    await writer.close();
  } catch (e) {
    await writer.abort();
    // "decodeStream: code 70000 at position 12 …" → named by its input, as the other commands name files
    if (e instanceof InputError) throw new InputError(e.message.replace(/^decodeStream: /, `${name}: `));
    throw e;
  } finally {
    bar.stop();
  }
  log(`streamed ${(writer.written / sampleRate).toFixed(2)} s of audio → ${out}`);
  return writer.written;
}

export { STDIN_PATH, STDOUT_PATH };
