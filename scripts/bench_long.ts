/**
 * The benchmark's long-audio and streaming section (issue "Audio of any length"): figures beside their targets.
 *
 *  - decode and encode of a long sequence (10 minutes at full size) on the default window grids: seconds per 10 s
 *    of audio against a 10 s clip's figure in the same process, and the child's peak RSS;
 *  - decodeStream: time from the arrival of the first window's codes (with its right context) to its audio, and the
 *    steady-state real-time factor (decode time per second of audio after the first piece, all codes available);
 *  - with --hour: one hour of codes decoded and a one-hour clip encoded (time, peak RSS).
 * Each runs in its own child process (bench.ts), so each peak RSS is that phase's own.
 */
import { mulberry32 } from "../parity/prng.ts";
import { STREAM_GRID } from "../runtime/windows.ts";

export const LONG_TARGETS = {
  /** decode 10 minutes of codes */
  decodePeakRssBytes: 1.5e9,
  /** encode a 10-minute clip */
  encodePeakRssBytes: 3e9,
  /** long seconds per 10 s ÷ the 10 s clip's */
  per10sRatio: 1.3,
  /** first window's codes (with right context) → its audio */
  firstAudioSeconds: 0.25,
  /** decode seconds per second of audio, steady state */
  streamRtf: 0.3,
};

export interface LongPhase {
  seconds: number;
  clipSecondsPer10s: number;
  longSecondsPer10s: number;
  ratio: number;
  peakRssBytes: number;
}

export interface LongFigures {
  decode: LongPhase;
  encode: LongPhase;
  stream: { seconds: number; firstAudioSeconds: number; rtf: number; peakRssBytes: number };
  hour?: {
    decode: { wallSeconds: number; peakRssBytes: number };
    encode: { wallSeconds: number; peakRssBytes: number };
  };
  targets: typeof LONG_TARGETS;
  pass: {
    decodeRss: boolean;
    decodeSpeed: boolean;
    encodeRss: boolean;
    encodeSpeed: boolean;
    firstAudio: boolean;
    rtf: boolean;
  };
}

export interface LongChildArgs {
  phase: "long-decode" | "long-encode" | "stream" | "hour-decode" | "hour-encode";
  dir: string;
  threads: number;
  /** length of the long run */
  seconds: number;
  /** the reference clip the encode runs loop over (a name in fixtures/reference) */
  sourceClip: string;
}

function randomCodes(n: number, seed: number, codebook: number): Int32Array {
  const r = mulberry32(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r() * codebook));
}

/** `seconds` of a reference clip at `sampleRate` (the encoder's input rate, the clips' own), looped from `offset`. */
async function speech(name: string, sampleRate: number, seconds: number, offset = 0): Promise<Float32Array> {
  const { readReferenceClip, referenceIndex } = await import("../parity/reference.ts");
  const src = await readReferenceClip(referenceIndex(), name);
  const out = new Float32Array(Math.round(seconds * sampleRate));
  for (let i = 0; i < out.length; i++) out[i] = src[(i + offset) % src.length];
  return out;
}

/** One phase, inside its child process; returns JSON-able figures (the parent adds the peak RSS). */
export async function longChild(args: LongChildArgs): Promise<Record<string, number>> {
  const { Xcodec2 } = await import("../runtime/codec.ts");
  const codec = await Xcodec2.load(args.dir, { device: "cpu", threads: args.threads, log: () => {} });
  const time = async (f: () => Promise<unknown>) => {
    const t0 = performance.now();
    await f();
    return (performance.now() - t0) / 1000;
  };
  try {
    const { codesPerSecond, sampleRate, inputSampleRate } = codec.facts;
    const looped = (s: number, offset?: number) => speech(args.sourceClip, inputSampleRate, s, offset);
    const codes = (s: number, seed: number) => randomCodes(Math.round(s * codesPerSecond), seed, codec.codebookSize);
    switch (args.phase) {
      case "long-decode":
      case "hour-decode": {
        await codec.decode([codes(1, 1)]); // warm-up
        const clip = args.phase === "long-decode" ? await time(() => codec.decode([codes(10, 2)])) : NaN;
        const long = await time(() => codec.decode([codes(args.seconds, 3)]));
        return { clipSecondsPer10s: clip, longSecondsPer10s: (long / args.seconds) * 10, wallSeconds: long };
      }
      case "long-encode":
      case "hour-encode": {
        await codec.encode([await looped(1)]);
        const ten = await looped(10, 777);
        const clip = args.phase === "long-encode" ? await time(() => codec.encode([ten])) : NaN;
        const audio = await looped(args.seconds, 4242);
        const long = await time(() => codec.encode([audio]));
        return { clipSecondsPer10s: clip, longSecondsPer10s: (long / args.seconds) * 10, wallSeconds: long };
      }
      case "stream": {
        const all = codes(args.seconds, 4);
        await codec.decode([codes(1, 5)], { streaming: true }); // warm-up
        const firstCodes = STREAM_GRID.first + STREAM_GRID.right;
        let fedFirst = 0;
        const input = async function* () {
          fedFirst = performance.now();
          yield all.subarray(0, firstCodes);
          for (let at = firstCodes; at < all.length; at += 25) yield all.subarray(at, at + 25);
        };
        let first = 0, firstLength = 0, rest = 0, t1 = 0;
        for await (const piece of codec.decodeStream(input())) {
          if (!first) {
            first = performance.now();
            firstLength = piece.length;
            t1 = first;
          } else rest += piece.length;
        }
        const steady = (performance.now() - t1) / 1000;
        return {
          firstAudioSeconds: (first - fedFirst) / 1000,
          rtf: steady / (rest / sampleRate),
          firstPieceSamples: firstLength,
        };
      }
    }
  } finally {
    await codec.dispose();
  }
}

type Child = (args: LongChildArgs) => Record<string, number> & { peakRssBytes: number };

/** Run every long phase (`hour`: also the one-hour runs) through `child`, and judge the figures. */
export function runLongPhases(
  child: Child,
  base: { dir: string; threads: number; sourceClip: string },
  opts: { quick: boolean; hour: boolean; log: (m: string) => void },
): LongFigures {
  // quick (tiny model): 35 s, long enough for the default grids to window it (1,750 codes > the 1,500 limit)
  const seconds = opts.quick ? 35 : 600;
  const phase = (p: LongChildArgs["phase"], s: number) => {
    opts.log(`${p}: ${s} s of audio`);
    return child({ ...base, phase: p, seconds: s });
  };
  const pair = (p: "long-decode" | "long-encode"): LongPhase => {
    const r = phase(p, seconds);
    return {
      seconds,
      clipSecondsPer10s: r.clipSecondsPer10s,
      longSecondsPer10s: r.longSecondsPer10s,
      ratio: r.longSecondsPer10s / r.clipSecondsPer10s,
      peakRssBytes: r.peakRssBytes,
    };
  };
  const decode = pair("long-decode"), encode = pair("long-encode");
  const s = phase("stream", opts.quick ? 20 : 60);
  const stream = {
    seconds: opts.quick ? 20 : 60,
    firstAudioSeconds: s.firstAudioSeconds,
    rtf: s.rtf,
    peakRssBytes: s.peakRssBytes,
  };
  let hour: LongFigures["hour"];
  if (opts.hour) {
    const hd = phase("hour-decode", 3600), he = phase("hour-encode", 3600);
    hour = {
      decode: { wallSeconds: hd.wallSeconds, peakRssBytes: hd.peakRssBytes },
      encode: { wallSeconds: he.wallSeconds, peakRssBytes: he.peakRssBytes },
    };
  }
  const t = LONG_TARGETS;
  return {
    decode,
    encode,
    stream,
    hour,
    targets: t,
    pass: {
      decodeRss: decode.peakRssBytes <= t.decodePeakRssBytes,
      decodeSpeed: decode.ratio <= t.per10sRatio,
      encodeRss: encode.peakRssBytes <= t.encodePeakRssBytes,
      encodeSpeed: encode.ratio <= t.per10sRatio,
      firstAudio: stream.firstAudioSeconds <= t.firstAudioSeconds,
      rtf: stream.rtf <= t.streamRtf,
    },
  };
}

/** Table rows [what, figure, target and verdict]. */
export function longRows(r: LongFigures): string[][] {
  const ok = (p: boolean) => (p ? "PASS" : "FAIL");
  const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;
  const rows: string[][] = [];
  for (const kind of ["decode", "encode"] as const) {
    const p = r[kind];
    const rss = kind === "decode" ? r.targets.decodePeakRssBytes : r.targets.encodePeakRssBytes;
    const pass = r.pass;
    rows.push([
      `${kind} ${p.seconds} s (windowed)`,
      `${p.longSecondsPer10s.toFixed(2)} s/10 s`,
      `${p.ratio.toFixed(2)}× the 10 s clip's ${p.clipSecondsPer10s.toFixed(2)}: target ≤ ${r.targets.per10sRatio}× ${
        ok(kind === "decode" ? pass.decodeSpeed : pass.encodeSpeed)
      }; peak RSS ${gb(p.peakRssBytes)}: target ≤ ${gb(rss)} ${
        ok(kind === "decode" ? pass.decodeRss : pass.encodeRss)
      }`,
    ]);
  }
  rows.push([
    `stream ${r.stream.seconds} s`,
    `${(r.stream.firstAudioSeconds * 1000).toFixed(0)} ms to first audio`,
    `target ≤ ${r.targets.firstAudioSeconds * 1000} ms ${ok(r.pass.firstAudio)}; steady RTF ${
      r.stream.rtf.toFixed(3)
    }: ` +
    `target ≤ ${r.targets.streamRtf} ${ok(r.pass.rtf)}`,
  ]);
  if (r.hour) {
    for (const kind of ["decode", "encode"] as const) {
      rows.push([
        `${kind} one hour`,
        `${r.hour[kind].wallSeconds.toFixed(0)} s`,
        `peak RSS ${gb(r.hour[kind].peakRssBytes)}`,
      ]);
    }
  }
  return rows;
}
