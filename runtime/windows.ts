/**
 * The window grid for audio of any length, and the join of decoded windows into one signal.
 *
 * A sequence longer than the single-pass limit is cut into windows whose *centres* tile it: window 0 holds `first`
 * frames, and each later window twice its predecessor's, up to `window` frames, which every window after holds
 * (first 10, window 250: centres of 10, 20, 40, 80, 160, 250, 250, … frames). Each window is run with up to `left`
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
 * X/2 ≤ hop·min(left, right); where a sequence end leaves less context, the blend narrows to what both cover.
 *
 * Frames are codes. The samples per frame (`hop`: 320 output samples per code for XCodec2) belong to the model, not
 * to the grid: callers pass the codec's (`Xcodec2.facts`), so models with other rates use the same grids.
 */
import { InputError } from "./validate.ts";

export interface WindowGrid {
  /** centre frames of window 0 (a short one gives a stream its first audio early) */
  first: number;
  /** centre frames of the later windows: each holds twice its predecessor's, up to this many */
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
 * Sequences up to this many codes (30 s at 50 codes per second) are encoded and decoded in one pass, exactly as
 * without windows. Above it, one pass costs more than linear time and memory (full-size decoder: 1.2 s per 10 s at
 * 10 s, 2.3 at 60 s, 4.8 at 180 s), and the windowed path takes over. It is a number of frames, not of seconds,
 * because what grows with the square of the length (attention, the relative-position term) is counted in frames.
 */
export const SINGLE_PASS_LIMIT = 1_500;

/**
 * Defaults, chosen from `xcodec2 parity --long` on the bundled tiny-a checkpoint (60 s of speech; README "Audio of
 * any length") and from the cost of a window. Random weights do not behave like the trained model, so these are
 * provisional until the sweep has run on it. What the sweep showed on tiny-a:
 *  - the error against a whole-sequence decode is spread evenly over a window (GroupNorm statistics and attention
 *    see the window instead of the sequence), so it falls mainly with the window (W 100 / 250 / 500 / 1000 with 50
 *    frames of context: rel L2 0.20 / 0.15 / 0.12 / 0.09) and only a little with context beyond ~25 frames;
 *  - context matters at the edges: with none, the first and last tenth of a window have twice the error of its
 *    middle and each seam jumps by 5× the audio's RMS; from 50 frames on, the jump at a seam is below the 99th
 *    percentile of the error's sample-to-sample change elsewhere (it does not stand out);
 *  - a crossfade (320–1280 samples) changed neither figure measurably, so windows are joined by a hard cut;
 *  - encode: whole-clip normalisation agrees with the whole clip's codes on 99.87–100% of frames, per-window
 *    normalisation on 99.83–99.93% (features/windowed.ts).
 * Cost: a window of W + L + R frames yields W, so it costs (W + L + R) / W of its centre, plus attention's growth
 * with the window; the target is 1.3× a 10 s clip's figure per 10 s.
 *
 * decode: 20 s centres with 2 s of left and 0.5 s of right context: 1.125× (tiny-a: rel L2 9.4e-2, seam jump
 * 1.8e-2 of RMS, against 8.7e-2 and 5.3e-2 with 3 s / 1 s).
 */
export const DECODE_GRID: Readonly<WindowGrid> = { first: 1000, window: 1000, left: 100, right: 25, crossfade: 0 };
/**
 * stream (decodeStream and decode with `streaming: true`): a 10-code first window (200 ms) so that audio starts as
 * soon as 10 + `right` codes exist, then windows doubling to 5 s (10, 20, 40, 80, 160, 250, 250, … codes) with 2 s of
 * left context and 200 ms of look-ahead (on tiny-a the seam jump falls with look-ahead: 0.93 / 0.69 / 0.57 of RMS for
 * 5 / 10 / 25 frames with 3 s of left context). A steady window decodes (250 + 100 + 10) / 250 = 1.44× its centre;
 * full size on the 2-core development machine (60 s of codes, steady real-time factor): 0.56 with 1 s windows
 * (3.2×), 0.37 with 2 s, 0.27 with 4 s, 0.24 with 5 s, 0.23 with 8 s; and the error against a whole-sequence
 * decode falls as the window grows (the sweep above).
 */
export const STREAM_GRID: Readonly<WindowGrid> = { first: 10, window: 250, left: 100, right: 10, crossfade: 0 };
/**
 * encode: 10 s centres with 1 s of context on each side (Wav2Vec2-BERT's attention looks both ways): 1.2×, and a
 * 12 s window keeps the encoder's peak memory near a 10 s clip's (full size: 2.05 GB at 10 s, 4.6 GB at 60 s).
 */
export const ENCODE_GRID: Readonly<WindowGrid> = { first: 500, window: 500, left: 50, right: 50, crossfade: 0 };

/** The caller's window options: any subset of the grid. */
export type WindowOptions = Partial<WindowGrid>;

/**
 * `opts` over `defaults`, checked: every field a non-negative integer, centres at least one frame, and a crossfade
 * (in samples, `hop` per frame) that fits the centres and the context.
 */
export function resolveGrid(
  defaults: Readonly<WindowGrid>,
  opts: WindowOptions,
  hop: number,
  what = "windows",
): WindowGrid {
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
  if (grid.crossfade > hop * Math.min(grid.first, grid.window)) {
    throw new InputError(
      `${what}: crossfade ${grid.crossfade} samples is longer than a window's centre ` +
        `(${hop * Math.min(grid.first, grid.window)} samples)`,
    );
  }
  if (grid.crossfade > 0 && grid.crossfade > 2 * hop * Math.min(grid.left, grid.right)) {
    throw new InputError(
      `${what}: crossfade ${grid.crossfade} samples needs ${Math.ceil(grid.crossfade / 2 / hop)} frames of ` +
        `context on each side, left is ${grid.left} and right ${grid.right}`,
    );
  }
  return grid;
}

/**
 * Centre [start, end) of window k on the unbounded grid. Why centres double from `first` to `window`: a stream's
 * first window is short so that audio starts early, and its steady windows are long because a window costs
 * (W + L + R) / W of its centre; jumping straight from one to the other would make the second piece wait for
 * `window` more codes while only `first` codes of audio play, so a player runs dry unless the codes arrive far
 * faster than real time (25× for 10 and 250). Piece k waits for 2× the codes of piece k − 1, which a producer twice
 * as fast as real time makes while piece k − 1 plays. Grids with `first` ≥ `window` (decode, encode) have no ramp.
 */
export function centre(k: number, g: WindowGrid): [number, number] {
  // walk the ramp (at most log2(window / first) + 1 steps): window i starts at `start` and holds `size`
  let i = 0, start = 0, size = g.first;
  for (; i < k && size < g.window; i++) {
    start += size;
    size = Math.min(g.window, 2 * size);
  }
  if (i === k) return [start, start + size];
  // past the ramp (or past a `first` ≥ `window`): every window from i + 1 on holds `window`
  const s = start + size + (k - i - 1) * g.window;
  return [s, s + g.window];
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
function halfFade(w: Window, g: WindowGrid, hop: number): number {
  const nextFrom = Math.max(0, w.end - g.left);
  return Math.min(Math.floor(g.crossfade / 2), (w.to - w.end) * hop, (w.end - nextFrom) * hop);
}

/**
 * Joins decoded windows, pushed in order, into consecutive pieces of the output signal. Both the stream and the
 * offline path push the same windows through this one class, so they produce the same samples bit for bit; only
 * where the pieces are cut differs. Each window's audio covers its input frames [from, to), `hop` samples per frame.
 */
export class WindowJoiner {
  /** the previous window's audio over the blend region after its centre: [seam − h, seam + h) */
  private tail = new Float32Array(0);
  private expected = 0;

  constructor(private readonly grid: WindowGrid, private readonly hop: number) {}

  /** The samples that became final with window `w`: from the end of the previous piece to before the next seam. */
  push(w: Window, audio: Float32Array): Float32Array {
    if (w.index !== this.expected) throw new Error(`window ${w.index} joined out of order (expected ${this.expected})`);
    if (audio.length !== (w.to - w.from) * this.hop) {
      throw new Error(`window ${w.index}: ${audio.length} samples for ${w.to - w.from} frames`);
    }
    this.expected++;
    const at = (frame: number) => (frame - w.from) * this.hop; // absolute frame → index into `audio`
    const hIn = this.tail.length / 2; // the blend into this window's start
    const hOut = halfFade(w, this.grid, this.hop);
    const out = new Float32Array((w.end - w.start) * this.hop + hIn - hOut);
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
