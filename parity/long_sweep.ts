/**
 * `xcodec2 parity --long <model>`: the measured context sweep behind the window defaults (runtime/windows.ts).
 *
 * One clip of speech (the reference espeak clip looped, or `--audio`), `seconds` long, is encoded whole in one pass;
 * its codes are decoded whole in one pass. Then, for each grid point:
 *  - decode: the same codes in windows of W centre frames with L frames of left and R of right context (joined by a
 *    crossfade of X samples, or, X = 0, by a hard cut): relative L2 against the whole-sequence audio; the worst
 *    jump at a seam, max |Δe| at a seam sample where e = windowed − whole and Δe[i] = e[i] − e[i−1], relative to the
 *    whole audio's RMS, beside the 99th percentile of |Δe| away from seams (a seam jump within it does not stand
 *    out from the windowing's error elsewhere); and the time per 10 s of audio;
 *  - encode: the clip in windows: the fraction of codes equal to the whole-clip codes, with features normalised with
 *    the whole clip's statistics ("clip", the default) or with each window's own ("window").
 * The whole-sequence passes need memory that grows with the square of the length (that is why windows exist), so
 * `seconds` is the longest length whose single pass fits: 60 s by default (full-size model: a 60 s encode takes about
 * 4.6 GB). Random weights (tiny-a, the synthetic full-size checkpoint) do not behave like the trained model: users
 * with the real checkpoint should run the sweep on it before trusting the defaults.
 */
import { rename, writeFile } from "node:fs/promises";
import process from "node:process";
import { UsageError } from "../common/errors.ts";
import type { Xcodec2 } from "../runtime/codec.ts";
import { readAudio } from "../runtime/audio/mod.ts";
import type { WindowNormalisation } from "../runtime/features/windowed.ts";
import {
  DECODE_GRID,
  ENCODE_GRID,
  STREAM_GRID,
  type WindowGrid,
  type WindowOptions,
  windowsOf,
} from "../runtime/windows.ts";
import { formatError, relL2 } from "./metrics.ts";
import { referenceClipPath, referenceIndex, referenceRoot } from "./reference.ts";

export interface DecodePoint extends WindowGrid {
  relL2: number;
  /** max |Δe| at a seam / RMS of the whole-sequence audio */
  seamJump: number;
  /** 99th percentile of |Δe| away from seams / RMS */
  offSeamP99: number;
  secondsPer10s: number;
  /** which default this grid point is, if any */
  label?: string;
}

export interface EncodePoint extends WindowGrid {
  normalisation: WindowNormalisation;
  agreement: number;
  secondsPer10s: number;
  label?: string;
}

export interface SweepReport {
  model: string;
  audio: string;
  seconds: number;
  quick: boolean;
  device: string;
  whole: { encodeSecondsPer10s: number; decodeSecondsPer10s: number };
  decode: DecodePoint[];
  encode: EncodePoint[];
}

export interface SweepOptions {
  /** clip length (default 60 s) */
  seconds?: number;
  /** a short grid that runs in minutes on the full-size model */
  quick?: boolean;
  /** speech to encode (default: the reference espeak clip, looped) */
  audio?: string;
  /** override the grids (tests) */
  decodeGrid?: WindowOptions[];
  encodeGrid?: (WindowOptions & { normalisation: WindowNormalisation })[];
  log?: (m: string) => void;
}

const CONTEXTS = [5, 25, 50, 150];
/** The reference clip looped when no `--audio` is given: the only natural speech in the set (espeak, 3.5 s). */
const SWEEP_CLIP = "espeak_en";

/** The grids: every default, then W × L × R (full) or a line through the context sizes (quick). */
export function sweepGrids(quick: boolean): {
  decode: WindowOptions[];
  encode: (WindowOptions & { normalisation: WindowNormalisation })[];
} {
  const d = (window: number, left: number, right: number, crossfade = 0) => ({
    first: window,
    window,
    left,
    right,
    crossfade,
  });
  const decode: WindowOptions[] = [DECODE_GRID, STREAM_GRID];
  const encode: (WindowOptions & { normalisation: WindowNormalisation })[] = [
    { ...ENCODE_GRID, normalisation: "clip" },
    { ...ENCODE_GRID, normalisation: "window" },
  ];
  if (quick) {
    for (const c of CONTEXTS) decode.push(d(1000, c, c));
    decode.push(d(1000, 150, 50, 640), d(50, 50, 10), d(50, 150, 25));
    for (const c of [25, 50]) encode.push({ ...d(1000, c, c), normalisation: "clip" });
  } else {
    for (const w of [50, 250, 1000]) for (const l of CONTEXTS) for (const r of CONTEXTS) decode.push(d(w, l, r));
    for (const x of [320, 1280]) decode.push(d(250, 50, 50, x), d(1000, 150, 50, x));
    for (const w of [250, 1000]) {
      for (const c of CONTEXTS) {
        for (const n of ["clip", "window"] as const) encode.push({ ...d(w, c, c), normalisation: n });
      }
    }
  }
  return { decode, encode };
}

/** `seconds` of the speech in `file`, looped (at the rate `readAudio` gives: the encoder's). */
async function speech(file: string, seconds: number): Promise<Float32Array> {
  const { samples: src, sampleRate } = await readAudio(file);
  const out = new Float32Array(Math.round(seconds * sampleRate));
  for (let i = 0; i < out.length; i++) out[i] = src[i % src.length];
  return out;
}

function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / Math.max(1, x.length));
}

/** Seam figures of `windowed` against `whole` for a sequence of `frames` codes on `grid`, `hop` samples per code. */
export function seamFigures(
  windowed: Float32Array,
  whole: Float32Array,
  frames: number,
  grid: WindowGrid,
  hop: number,
): { seamJump: number; offSeamP99: number } {
  const scale = rms(whole) || 1;
  const seams = new Set(windowsOf(frames, grid).slice(1).map((w) => w.start * hop));
  let seamJump = 0;
  const off: number[] = [];
  for (let i = 1; i < whole.length; i++) {
    const d = Math.abs(windowed[i] - whole[i] - (windowed[i - 1] - whole[i - 1]));
    if (seams.has(i)) seamJump = Math.max(seamJump, d);
    else off.push(d);
  }
  off.sort((a, b) => a - b);
  const p99 = off.length ? off[Math.min(off.length - 1, Math.floor(0.99 * off.length))] : 0;
  return { seamJump: seamJump / scale, offSeamP99: p99 / scale };
}

function labelOf(g: WindowGrid, normalisation?: WindowNormalisation): string | undefined {
  const same = (d: WindowGrid) =>
    g.first === d.first && g.window === d.window && g.left === d.left && g.right === d.right &&
    g.crossfade === d.crossfade;
  if (normalisation === undefined) {
    if (same(DECODE_GRID)) return "decode default";
    if (same(STREAM_GRID)) return "stream default";
    return undefined;
  }
  return same(ENCODE_GRID) && normalisation === "clip" ? "encode default" : undefined;
}

const key = (g: WindowGrid, n = "") => `${g.first}/${g.window}/${g.left}/${g.right}/${g.crossfade}/${n}`;

export async function runLongSweep(codec: Xcodec2, model: string, opts: SweepOptions = {}): Promise<SweepReport> {
  const log = opts.log ?? (() => {});
  const seconds = opts.seconds ?? 60;
  const quick = opts.quick ?? false;
  const audio = opts.audio ?? (referenceRoot() && referenceClipPath(referenceIndex(), SWEEP_CLIP));
  if (!audio) {
    throw new UsageError("no speech to sweep on: pass --audio <file> (the reference clips are not installed)");
  }
  const clip = await speech(audio, seconds);
  const grids = sweepGrids(quick);
  const whole = { singlePassLimit: Infinity };
  const per10 = (t0: number) => ((performance.now() - t0) / 1000 / seconds) * 10;

  log(`encoding ${seconds} s in one pass`);
  let t0 = performance.now();
  const [codes] = await codec.encode([clip], whole);
  const encodeSecondsPer10s = per10(t0);
  log(`decoding ${codes.length} codes in one pass`);
  t0 = performance.now();
  const [ref] = await codec.decode([codes], whole);
  const decodeSecondsPer10s = per10(t0);

  const decode: DecodePoint[] = [];
  const seen = new Set<string>();
  for (const o of opts.decodeGrid ?? grids.decode) {
    const g = { ...DECODE_GRID, ...o };
    if (seen.has(key(g))) continue;
    seen.add(key(g));
    log(
      `decode W ${g.window} L ${g.left} R ${g.right} X ${g.crossfade}${
        g.first !== g.window ? ` first ${g.first}` : ""
      }`,
    );
    t0 = performance.now();
    const [a] = await codec.decode([codes], { ...g, singlePassLimit: 0 });
    const secondsPer10s = per10(t0);
    decode.push({
      ...g,
      relL2: relL2(a, ref),
      ...seamFigures(a, ref, codes.length, g, codec.facts.decoderHop),
      secondsPer10s,
      label: labelOf(g),
    });
  }
  const encode: EncodePoint[] = [];
  for (const o of opts.encodeGrid ?? grids.encode) {
    const g = { ...ENCODE_GRID, ...o, normalisation: o.normalisation };
    if (seen.has(key(g, g.normalisation))) continue;
    seen.add(key(g, g.normalisation));
    log(`encode W ${g.window} L ${g.left} R ${g.right} (${g.normalisation} statistics)`);
    t0 = performance.now();
    const [c] = await codec.encode([clip], { ...g, singlePassLimit: 0 });
    const secondsPer10s = per10(t0);
    let same = 0;
    for (let t = 0; t < c.length; t++) same += c[t] === codes[t] ? 1 : 0;
    encode.push({ ...g, agreement: same / codes.length, secondsPer10s, label: labelOf(g, g.normalisation) });
  }
  return {
    model,
    audio,
    seconds,
    quick,
    device: codec.device,
    whole: { encodeSecondsPer10s, decodeSecondsPer10s },
    decode,
    encode,
  };
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => "| " + r.map((c, i) => c.padEnd(w[i])).join(" | ") + " |";
  return [line(head), line(w.map((n) => "-".repeat(n))), ...rows.map(line)].join("\n");
}

export function formatSweep(r: SweepReport): string {
  const s = (x: number) => x.toFixed(2);
  const dec = table(
    ["W", "L", "R", "X", "first", "rel L2", "seam jump", "p99 elsewhere", "s / 10 s", ""],
    r.decode.map((p) => [
      String(p.window),
      String(p.left),
      String(p.right),
      String(p.crossfade),
      String(p.first),
      formatError(p.relL2),
      formatError(p.seamJump),
      formatError(p.offSeamP99),
      s(p.secondsPer10s),
      p.label ?? "",
    ]),
  );
  const enc = table(
    ["W", "L", "R", "statistics", "codes equal", "s / 10 s", ""],
    r.encode.map((p) => [
      String(p.window),
      String(p.left),
      String(p.right),
      p.normalisation,
      `${(100 * p.agreement).toFixed(2)}%`,
      s(p.secondsPer10s),
      p.label ?? "",
    ]),
  );
  return [
    `long-audio sweep${r.quick ? " (quick)" : ""}: ${r.model} on ${r.device}, ${r.seconds} s of ${r.audio}`,
    `whole clip in one pass: encode ${s(r.whole.encodeSecondsPer10s)} s / 10 s, decode ${
      s(r.whole.decodeSecondsPer10s)
    } s / 10 s`,
    "",
    "decode, windowed against whole-sequence (frames: W centre, L left, R right context; X crossfade samples):",
    dec,
    "",
    "encode, windowed against whole-clip codes:",
    enc,
    "",
    "Random weights do not behave like the trained model: rerun this on the real checkpoint before trusting defaults.",
  ].join("\n");
}

/** The report as JSON, written to a temporary name and renamed. */
export async function writeSweepJson(r: SweepReport, file: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(r, null, 2) + "\n");
  await rename(tmp, file);
}
