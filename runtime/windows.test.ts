/**
 * The window grid, the joiner and the stream's scheduling, on a stand-in decoder (pure TS, no model): the grid tiles
 * every sequence exactly once by absolute position; the joiner keeps centres (hard cut) or blends across seams; and
 * `decodeStreamWindows` equals the offline twin `decodeAnyLength(…, { streaming: true })` bit for bit for any split
 * of the input, making the same decoder calls in the same order. The same properties on the real model are in
 * long_audio.test.ts; this file runs thousands of cases in a second.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { HOP_LENGTH } from "../convert/mod.ts";
import { decodeAnyLength, type LongDecodeSettings } from "./long_decode.ts";
import { decodeStreamWindows } from "./stream.ts";
import { InputError } from "./validate.ts";
import {
  centre,
  DECODE_GRID,
  framesNeeded,
  resolveGrid,
  STREAM_GRID,
  type WindowGrid,
  WindowJoiner,
  windowsOf,
} from "./windows.ts";

const CODEBOOK = 65536;

const gridArb: fc.Arbitrary<WindowGrid> = fc.record({
  first: fc.integer({ min: 1, max: 12 }),
  window: fc.integer({ min: 1, max: 12 }),
  left: fc.integer({ min: 0, max: 8 }),
  right: fc.integer({ min: 0, max: 8 }),
  crossfade: fc.constant(0),
}).chain((g) => {
  // a crossfade needs context on both sides and fits in a centre
  const max = Math.min(HOP_LENGTH * Math.min(g.first, g.window), 2 * HOP_LENGTH * Math.min(g.left, g.right));
  return fc.integer({ min: 0, max }).map((crossfade) => ({ ...g, crossfade }));
});

/**
 * A stand-in decoder whose output depends on the whole input window (its mean code, like a GroupNorm statistic) and
 * on the window's length, so any difference in what a window is given shows up in its samples. It logs its calls.
 */
function standIn(hop = HOP_LENGTH) {
  const calls: string[] = [];
  const decodeOne = async (codes: Int32Array): Promise<Float32Array> => {
    calls.push(codes.join(","));
    let mean = 0;
    for (const c of codes) mean += c / codes.length;
    const out = new Float32Array(codes.length * hop);
    for (let f = 0; f < codes.length; f++) {
      for (let i = 0; i < hop; i++) {
        out[f * hop + i] = Math.sin(codes[f] * 0.001 + i * 0.05) * 0.5 + mean * 1e-6 + codes.length * 1e-4;
      }
    }
    return out;
  };
  return { calls, decodeOne, decodeBatch: async (c: Int32Array[]) => Promise.all(c.map(decodeOne)) };
}

function twinSettings(grid: WindowGrid): LongDecodeSettings {
  return {
    batchSize: 8,
    maxBatchSamples: Infinity,
    singlePassLimit: 0,
    grid,
    hop: HOP_LENGTH,
    budgetPerCode: HOP_LENGTH,
    streaming: true,
  };
}

async function collect(it: AsyncIterable<Float32Array>): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for await (const p of it) parts.push(p);
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

async function* pieces(codes: Int32Array, sizes: number[]): AsyncGenerator<number[]> {
  let at = 0, i = 0;
  while (at < codes.length) {
    const n = sizes[i++ % sizes.length];
    yield Array.from(codes.subarray(at, at + n));
    at += n;
  }
}

function randomCodes(n: number, seed: number): Int32Array {
  const out = new Int32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) out[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % CODEBOOK;
  return out;
}

describe("window grid", () => {
  test("centres tile [0, total) in order; inputs are centres plus clipped context", () => {
    fc.assert(
      fc.property(gridArb, fc.integer({ min: 1, max: 200 }), (g, total) => {
        const ws = windowsOf(total, g);
        let next = 0;
        for (const [k, w] of ws.entries()) {
          assert.equal(w.index, k);
          assert.equal(w.start, next);
          assert.ok(w.end > w.start && w.end <= total);
          assert.equal(w.start, centre(k, g)[0]);
          assert.equal(w.end, Math.min(total, centre(k, g)[1]));
          assert.equal(w.from, Math.max(0, w.start - g.left));
          assert.equal(w.to, Math.min(total, centre(k, g)[1] + g.right));
          next = w.end;
        }
        assert.equal(next, total);
      }),
      { numRuns: 500 },
    );
  });

  test("centres double from `first` up to `window`, then stay at `window`", () => {
    const sizes = (g: WindowGrid, n: number) =>
      Array.from({ length: n }, (_, k) => centre(k, g)).map(([a, b]) => b - a);
    assert.deepEqual(sizes(STREAM_GRID, 8), [10, 20, 40, 80, 160, 250, 250, 250]);
    assert.deepEqual(sizes(DECODE_GRID, 3), [1000, 1000, 1000], "first = window: no ramp");
    assert.deepEqual(sizes({ ...DECODE_GRID, first: 1500 }, 3), [1500, 1000, 1000], "a long first, then `window`");
    fc.assert(
      fc.property(gridArb, fc.integer({ min: 1, max: 40 }), (g, n) => {
        const s = sizes(g, n);
        for (let k = 1; k < n; k++) {
          const expected = s[k - 1] >= g.window ? g.window : Math.min(g.window, 2 * s[k - 1]);
          assert.equal(s[k], expected, `window ${k} of ${JSON.stringify(g)}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  test("the grid does not depend on the length: a window whose right context exists is the same in a longer sequence", () => {
    fc.assert(
      fc.property(gridArb, fc.integer({ min: 1, max: 150 }), fc.integer({ min: 0, max: 100 }), (g, a, extra) => {
        const long = windowsOf(a + extra, g);
        for (const w of windowsOf(a, g)) if (framesNeeded(w.index, g) <= a) assert.deepEqual(long[w.index], w);
      }),
      { numRuns: 300 },
    );
  });

  test("options are checked and named", () => {
    assert.deepEqual(resolveGrid(DECODE_GRID, {}, HOP_LENGTH), DECODE_GRID);
    const plain = resolveGrid(DECODE_GRID, { window: 300 }, HOP_LENGTH);
    assert.equal(plain.first, 300, "a plain grid's first window follows `window`");
    const stream = resolveGrid(STREAM_GRID, { window: 300 }, HOP_LENGTH);
    assert.equal(stream.first, STREAM_GRID.first, "a stream keeps its short first");
    const bad: [Partial<WindowGrid>, RegExp][] = [
      [{ window: 0 }, /decode: window must be an integer ≥ 1, got 0/],
      [{ left: -1 }, /left must be an integer ≥ 0/],
      [{ right: 1.5 }, /right must be an integer ≥ 0, got 1.5/],
      [{ first: 2, crossfade: 700 }, /crossfade 700 samples is longer than a window's centre \(640 samples\)/],
      [{ left: 0, crossfade: 64 }, /crossfade 64 samples needs 1 frames of context on each side, left is 0/],
    ];
    for (const [opts, msg] of bad) {
      assert.throws(
        () => resolveGrid(DECODE_GRID, opts, HOP_LENGTH, "decode"),
        (e: Error) => e instanceof InputError && msg.test(e.message),
      );
    }
    // the crossfade's bounds are in the model's samples per code: 700 samples fit two frames of 480 (24 kHz, 50/s)
    assert.equal(resolveGrid(DECODE_GRID, { first: 2, crossfade: 700 }, 480).crossfade, 700);
  });
});

describe("joiner", () => {
  for (const hop of [HOP_LENGTH, 480]) {
    test(`hard cut: the output is each window's centre, ${hop} samples per frame`, async () => {
      const g: WindowGrid = { first: 3, window: 4, left: 2, right: 1, crossfade: 0 };
      const codes = randomCodes(17, 1);
      const { decodeOne } = standIn(hop);
      const joiner = new WindowJoiner(g, hop);
      const parts: Float32Array[] = [];
      for (const w of windowsOf(codes.length, g)) {
        const audio = await decodeOne(codes.subarray(w.from, w.to));
        const piece = joiner.push(w, audio);
        assert.deepEqual(piece, audio.subarray((w.start - w.from) * hop, (w.end - w.from) * hop), `window ${w.index}`);
        parts.push(piece);
      }
      assert.equal(joiner.finish().length, 0);
      assert.equal(parts.reduce((a, p) => a + p.length, 0), codes.length * hop);
    });
  }

  test("crossfade: each seam's samples move linearly from the earlier window to the later one", async () => {
    const g: WindowGrid = { first: 4, window: 4, left: 2, right: 2, crossfade: 200 };
    const codes = randomCodes(12, 2);
    const { decodeOne } = standIn();
    const joiner = new WindowJoiner(g, HOP_LENGTH);
    const ws = windowsOf(codes.length, g);
    const audio = await Promise.all(ws.map((w) => decodeOne(codes.subarray(w.from, w.to))));
    const parts = ws.map((w, k) => joiner.push(w, audio[k]));
    parts.push(joiner.finish());
    const out = new Float32Array(codes.length * HOP_LENGTH);
    let at = 0;
    for (const p of parts) out.set(p, (at += p.length) - p.length);
    assert.equal(at, out.length);
    const sampleOf = (k: number, abs: number) => audio[k][abs - ws[k].from * HOP_LENGTH];
    const seam = ws[1].start * HOP_LENGTH;
    // away from the seam: the owning window's own samples
    assert.equal(out[seam - 101], sampleOf(0, seam - 101));
    assert.equal(out[seam + 100], sampleOf(1, seam + 100));
    // inside: the blend, weight (i + 0.5) / 200 on the later window
    for (const i of [0, 57, 100, 199]) {
      const x = (i + 0.5) / 200, abs = seam - 100 + i;
      assert.equal(out[abs], Math.fround(sampleOf(0, abs) * (1 - x) + sampleOf(1, abs) * x));
    }
  });

  test("windows must be joined in order and with their full audio", () => {
    const g = { ...STREAM_GRID };
    const [w0, w1] = windowsOf(200, g);
    const j = new WindowJoiner(g, HOP_LENGTH);
    assert.throws(() => j.push(w1, new Float32Array((w1.to - w1.from) * HOP_LENGTH)), /out of order/);
    assert.throws(() => j.push(w0, new Float32Array(5)), /5 samples for 20 frames/);
  });
});

describe("decodeStreamWindows = decodeAnyLength(streaming) on a stand-in decoder", () => {
  test("bit for bit, with the same calls in the same order, for any grid, length and split", async () => {
    await fc.assert(
      fc.asyncProperty(
        gridArb,
        fc.integer({ min: 0, max: 120 }),
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 6 }).filter((a) => a.some((n) => n > 0)),
        fc.integer(),
        async (g, n, split, seed) => {
          const codes = randomCodes(n, seed);
          const a = standIn(), b = standIn();
          const streamed = await collect(
            decodeStreamWindows(pieces(codes, split), a.decodeOne, g, CODEBOOK, HOP_LENGTH),
          );
          if (n === 0) {
            assert.equal(streamed.length, 0);
            assert.deepEqual(a.calls, []);
            return;
          }
          const [twin] = await decodeAnyLength([codes], b.decodeBatch, twinSettings(g));
          assert.deepEqual(a.calls, b.calls);
          assert.equal(streamed.length, n * HOP_LENGTH);
          assert.deepEqual(streamed, twin);
        },
      ),
      { numRuns: 400 },
    );
  });

  test("a window runs as soon as its right context has arrived, never later", async () => {
    const g: WindowGrid = { first: 10, window: 50, left: 150, right: 10, crossfade: 0 };
    const codes = randomCodes(200, 3);
    const { decodeOne, calls } = standIn();
    let fed = 0;
    const ranAt: number[] = [];
    async function* oneByOne() {
      for (const c of codes) {
        fed++;
        yield [c];
      }
    }
    const counting = async (c: Int32Array) => {
      ranAt.push(fed);
      return decodeOne(c);
    };
    await collect(decodeStreamWindows(oneByOne(), counting, g, CODEBOOK, HOP_LENGTH));
    // centres [0, 10), [10, 30), [30, 70), [70, 120), [120, 170), [170, 220): window 0 needs 10 + 10 codes, window 1
    // 30 + 10, …; the last, cut to [170, 200), runs when the input ends
    assert.deepEqual(ranAt, [20, 40, 80, 130, 180, 200]);
    assert.equal(calls.length, 6);
  });
});
