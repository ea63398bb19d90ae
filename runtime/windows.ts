/**
 * The window grid for audio of any length, and the join of decoded windows into one signal.
 *
 * A sequence longer than the single-pass limit is cut into windows whose *centres* tile it: window 0 holds frames
 * [0, first), window k ≥ 1 holds [first + (k−1)·window, first + k·window). Each window is run with up to `left`
 * frames of context before its centre and `right` after it (fewer at the ends of the sequence), and only its centre
 * is kept. The grid is a function of absolute frame positions alone, so a stream that receives codes in any pieces
 * cuts exactly the windows the offline call cuts, and runs them with exactly the same inputs.
 *
 * Why windows are needed at all: the decoder's attention and GroupNorm, and Wav2Vec2-BERT's attention and its
 * T × T × 64 relative-position term, see the whole sequence, so time and memory grow with its square (full-size
 * model: decoding 180 s took 87 s and 11.5 GB; 10 minutes fails to allocate one 57.6 GB attention matrix). Windows
 * bound both by the window; the price is that a window sees only its context, not the whole sequence. What that costs
 * is measured by `xcodec2 parity --long` (parity/long_sweep.ts), which is where the defaults below come from.
 *
 * Joining: with `crossfade` = 0 the context is discarded and windows meet at a frame boundary (a hard cut). With
 * `crossfade` = X samples, the two windows around each seam are blended linearly over X samples centred on the seam
 * (both have decoded those samples: the earlier one as right context, the later one as left context), which needs
 * X/2 ≤ 320·min(left, right); where a sequence end leaves less context, the blend narrows to what both cover.
 */
import { CODES_PER_SECOND, HOP_LENGTH } from "../convert/architecture.ts";
import { InputError } from "./validate.ts";

export interface WindowGrid {
  /** centre frames of window 0 (a short one gives a stream its first audio early) */
  first: number;
  /** centre frames of every later window */
  window: number;
  /** context frames before a window's centre */
  left: number;
  /** context frames after a window's centre (a stream waits for them before it emits the window) */
  right: number;
  /** samples blended across each seam (0: hard cut at the frame boundary) */
  crossfade: number;
}

/** One window of a sequence of `total` frames: centre [start, end), input [from, to), both clipped to the sequence. */
export interface Window {
  index: number;
  start: number;
  end: number;
  from: number;
  to: number;
}

/**
 * Sequences up to this many codes (30 s) are encoded and decoded in one pass, exactly as without windows. Above it,
 * one pass costs more than linear time and memory (full-size decoder: 1.2 s per 10 s at 10 s, 2.3 at 60 s, 4.8 at
 * 180 s), and the windowed path takes over.
 */
export const SINGLE_PASS_LIMIT = 30 * CODES_PER_SECOND;

/**
 * Defaults, chosen from `xcodec2 parity --long` on the bundled tiny-a checkpoint (README "Audio of any length");
 * random weights do not behave like the trained model, so these are provisional until the sweep is run on it.
 *
 * decode: 20 s centres with 3 s of left context (the workaround users report for chunked decoding) and 1 s of right
 * context: a window costs (1000 + 150 + 50) / 1000 = 1.2× its centre. The ISTFT head alone reaches 2 frames either
 * side, and on tiny-a the error stops falling after about 50 frames of context on either side (see the sweep).
 */
export const DECODE_GRID: Readonly<WindowGrid> = { first: 1000, window: 1000, left: 150, right: 50, crossfade: 0 };
/**
 * stream (decodeStream and decode with `streaming: true`): a 10-code first window (200 ms) so that audio starts as
 * soon as 10 + `right` codes exist, then 1 s windows; 3 s of left context, 10 frames (200 ms) of look-ahead.
 */
export const STREAM_GRID: Readonly<WindowGrid> = { first: 10, window: 50, left: 150, right: 10, crossfade: 0 };
/** encode: 20 s centres, 3 s of context on each side (Wav2Vec2-BERT's attention looks both ways). */
export const ENCODE_GRID: Readonly<WindowGrid> = { first: 1000, window: 1000, left: 150, right: 150, crossfade: 0 };

/** The caller's window options: any subset of the grid. */
export type WindowOptions = Partial<WindowGrid>;

/** `opts` over `defaults`, checked: every field a non-negative integer, centres at least one frame. */
export function resolveGrid(defaults: Readonly<WindowGrid>, opts: WindowOptions = {}, what = "windows"): WindowGrid {
  const window = opts.window ?? defaults.window;
  const grid: WindowGrid = {
    window, // checked first: `first` follows it below
    // a caller who sets only `window` on a non-streaming grid means equal windows throughout
    first: opts.first ?? (defaults.first === defaults.window ? window : defaults.first),
    left: opts.left ?? defaults.left,
    right: opts.right ?? defaults.right,
    crossfade: opts.crossfade ?? defaults.crossfade,
  };
  for (const [k, v] of Object.entries(grid)) {
    const min = k === "first" || k === "window" ? 1 : 0;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > 10_000_000) {
      throw new InputError(`${what}: ${k} must be an integer ≥ ${min}, got ${v}`);
    }
  }
  if (grid.crossfade > HOP_LENGTH * Math.min(grid.first, grid.window)) {
    throw new InputError(
      `${what}: crossfade ${grid.crossfade} samples is longer than a window's centre ` +
        `(${HOP_LENGTH * Math.min(grid.first, grid.window)} samples)`,
    );
  }
  if (grid.crossfade > 0 && grid.crossfade > 2 * HOP_LENGTH * Math.min(grid.left, grid.right)) {
    throw new InputError(
      `${what}: crossfade ${grid.crossfade} samples needs ${Math.ceil(grid.crossfade / 2 / HOP_LENGTH)} frames of ` +
        `context on each side, left is ${grid.left} and right ${grid.right}`,
    );
  }
  return grid;
}

/** Centre [start, end) of window k on the unbounded grid. */
export function centre(k: number, g: WindowGrid): [number, number] {
  if (k === 0) return [0, g.first];
  const start = g.first + (k - 1) * g.window;
  return [start, start + g.window];
}

/** Window k of a sequence of `total` frames, or undefined when the sequence ends before it starts. */
export function windowOf(k: number, total: number, g: WindowGrid): Window | undefined {
  const [start, end] = centre(k, g);
  if (start >= total) return undefined;
  return {
    index: k,
    start,
    end: Math.min(end, total),
    from: Math.max(0, start - g.left),
    to: Math.min(total, end + g.right),
  };
}

/** Every window of a sequence of `total` frames, in order. */
export function windowsOf(total: number, g: WindowGrid): Window[] {
  const out: Window[] = [];
  for (let k = 0;; k++) {
    const w = windowOf(k, total, g);
    if (!w) return out;
    out.push(w);
  }
}

/**
 * Frames a stream must have received before window k can run without knowing the sequence's length: its centre and
 * its whole right context. (When the input ends earlier, the window runs with what there is, as offline.)
 */
export function framesNeeded(k: number, g: WindowGrid): number {
  return centre(k, g)[1] + g.right;
}

/** Half-width of the blend at the seam after window `w` (0 at a hard cut, or where a neighbour lacks context). */
function halfFade(w: Window, g: WindowGrid): number {
  const nextFrom = Math.max(0, w.end - g.left);
  return Math.min(Math.floor(g.crossfade / 2), (w.to - w.end) * HOP_LENGTH, (w.end - nextFrom) * HOP_LENGTH);
}

/**
 * Joins decoded windows, pushed in order, into consecutive pieces of the output signal. Both the stream and the
 * offline path push the same windows through this one class, so they produce the same samples bit for bit; only
 * where the pieces are cut differs. Each window's audio covers its input frames [from, to).
 */
export class WindowJoiner {
  /** the previous window's audio over the blend region after its centre: [seam − h, seam + h) */
  private tail = new Float32Array(0);
  private expected = 0;

  constructor(private readonly grid: WindowGrid) {}

  /** The samples that became final with window `w`: from the end of the previous piece to before the next seam. */
  push(w: Window, audio: Float32Array): Float32Array {
    if (w.index !== this.expected) throw new Error(`window ${w.index} joined out of order (expected ${this.expected})`);
    if (audio.length !== (w.to - w.from) * HOP_LENGTH) {
      throw new Error(`window ${w.index}: ${audio.length} samples for ${w.to - w.from} frames`);
    }
    this.expected++;
    const at = (frame: number) => (frame - w.from) * HOP_LENGTH; // absolute frame → index into `audio`
    const hIn = this.tail.length / 2; // the blend into this window's start
    const hOut = halfFade(w, this.grid);
    const out = new Float32Array((w.end - w.start) * HOP_LENGTH + hIn - hOut);
    const head = audio.subarray(at(w.start) - hIn, at(w.start) + hIn);
    for (let i = 0; i < 2 * hIn; i++) {
      const x = (i + 0.5) / (2 * hIn);
      out[i] = this.tail[i] * (1 - x) + head[i] * x;
    }
    out.set(audio.subarray(at(w.start) + hIn, at(w.end) - hOut), 2 * hIn);
    this.tail = audio.slice(at(w.end) - hOut, at(w.end) + hOut);
    return out;
  }

  /** What remains after the last window: its centre up to the sequence's end (the blend region's first half). */
  finish(): Float32Array {
    const rest = this.tail.slice(0, this.tail.length / 2);
    this.tail = new Float32Array(0);
    return rest;
  }
}
