/**
 * The command line's long-audio parts: window options, a progress bar in audio time, and `xcodec2 decode --stream`
 * (codes from a file or from stdin as text → a WAV written as it is decoded, to a file or to stdout).
 */
import cliProgress from "cli-progress";
import process from "node:process";
import { CODES_PER_SECOND, HOP_LENGTH } from "../convert/architecture.ts";
import { STDIN_PATH } from "./audio/read_audio.ts";
import { STDOUT_PATH, WavStreamWriter } from "./audio/wav_stream_writer.ts";
import type { Xcodec2 } from "./codec.ts";
import { codesFromText } from "./codes_text.ts";
import type { CodeItem } from "./codes_io.ts";
import type { WindowOptions } from "./windows.ts";
import { InputError } from "./validate.ts";

/** A bad option value; cli.ts turns it into its UsageError (exit 2). */
export class OptionError extends Error {
  override name = "OptionError";
}

/** The window options every long-audio command takes (parseArgs entries, in cli.ts's style). */
export function windowArgOptions() {
  return {
    window: { type: "string" as const },
    left: { type: "string" as const },
    right: { type: "string" as const },
    crossfade: { type: "string" as const },
    "first-chunk": { type: "string" as const },
    "single-pass-limit": { type: "string" as const },
  };
}

export const WINDOW_USAGE =
  "[--window FRAMES] [--left FRAMES] [--right FRAMES] [--crossfade SAMPLES] [--single-pass-limit CODES]";

function count(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > 10_000_000) {
    throw new OptionError(`--${name} must be an integer ≥ ${min}, got ${v}`);
  }
  return n;
}

/** Window options from parsed arguments (codes are frames: 50 per second). */
export function parseWindowArgs(v: Record<string, unknown>): WindowOptions & { singlePassLimit?: number } {
  const out: WindowOptions & { singlePassLimit?: number } = {};
  const set = <K extends keyof typeof out>(k: K, x: (typeof out)[K] | undefined) => {
    if (x !== undefined) out[k] = x;
  };
  set("window", count(v.window as string | undefined, "window", 1));
  set("left", count(v.left as string | undefined, "left", 0));
  set("right", count(v.right as string | undefined, "right", 0));
  set("crossfade", count(v.crossfade as string | undefined, "crossfade", 0));
  set("first", count(v["first-chunk"] as string | undefined, "first-chunk", 1));
  set("singlePassLimit", count(v["single-pass-limit"] as string | undefined, "single-pass-limit", 0));
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

/** `onProgress` (codes done in one call) → seconds advanced, for calls that report cumulative counts. */
export function progressInSeconds(advance: (s: number) => void): (done: number) => void {
  let last = 0;
  return (done) => {
    advance((done - last) / CODES_PER_SECOND);
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
  // the codes file may record the source length: the codec emits whole hops, so the tail is cut to it
  const limit = item?.samples && item.samples <= item.codes.length * HOP_LENGTH ? item.samples : Infinity;
  const bar = audioProgress("decode");
  if (item) bar.add(item.codes.length / CODES_PER_SECOND);
  const writer = await WavStreamWriter.open(out);
  try {
    for await (const piece of codec.decodeStream(source, grid)) {
      const keep = piece.subarray(0, Math.max(0, limit - writer.written));
      await writer.write(keep);
      bar.advance(piece.length / HOP_LENGTH / CODES_PER_SECOND);
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
  log(`streamed ${(writer.written / (HOP_LENGTH * CODES_PER_SECOND)).toFixed(2)} s of audio → ${out}`);
  return writer.written;
}

export { STDIN_PATH, STDOUT_PATH };
