/**
 * Audio of any length on the tiny reference checkpoint (CPU): windowed encode and decode, the stream and its offline
 * twin. Small grids (windows of tens of frames, `singlePassLimit` lowered) make a few seconds of audio cross many
 * seams, so every property runs in seconds.
 *
 *  - one window = today's single pass, bit for bit (decode and encode);
 *  - the stream = `decode(…, { streaming: true })` bit for bit for any split of the input (fast-check);
 *  - a batch mixing long (windowed) and short items gives every item what it gives alone;
 *  - the windowed error falls (or stays) as context grows;
 *  - the stream's edges: early break, a bad code mid-stream, an empty input, a throwing input.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { codesForSamples, HOP_LENGTH } from "../convert/mod.ts";
import { mulberry32 } from "../parity/prng.ts";
import { tieFrames } from "../parity/fsq_ties.ts";
import { TOLERANCES } from "../parity/tolerances.ts";
import { Xcodec2 } from "./codec.ts";
import { preparedTinyModel } from "../fixtures/support/prepared_model.ts";
import { readClip } from "../fixtures/support/reference.ts";
import { relL2 } from "../fixtures/support/metrics.ts";
import { InputError } from "./validate.ts";
import type { WindowOptions } from "./windows.ts";

let codec: Xcodec2;
let speech: Float32Array;

before(async () => {
  codec = await Xcodec2.load(await preparedTinyModel(), { device: "cpu", log: () => {} });
  speech = await readClip("espeak_en");
});
after(async () => {
  await codec?.dispose();
});

function randomCodes(n: number, seed: number): Int32Array {
  const r = mulberry32(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r() * 65536));
}

/** `seconds` of the espeak clip, looped from `offset` samples on. */
function loopedSpeech(seconds: number, offset = 0): Float32Array {
  const out = new Float32Array(Math.round(seconds * 16000));
  for (let i = 0; i < out.length; i++) out[i] = speech[(i + offset) % speech.length];
  return out;
}

async function collect(it: AsyncIterable<Float32Array>): Promise<{ audio: Float32Array; pieces: number[] }> {
  const parts: Float32Array[] = [];
  for await (const p of it) parts.push(p);
  const audio = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) audio.set(p, (at += p.length) - p.length);
  return { audio, pieces: parts.map((p) => p.length) };
}

/** `codes` in pieces of the given sizes, cycling through them. */
async function* split(codes: Int32Array, sizes: number[]): AsyncGenerator<Int32Array> {
  let at = 0;
  for (let i = 0; at < codes.length; i++) {
    const n = sizes[i % sizes.length];
    yield codes.slice(at, at + n);
    at += n;
  }
}

const SLOW = { timeout: 300_000 };
/** windows of 30 frames with context on both sides: a 4 s sequence crosses 6 seams */
const SMALL: WindowOptions = { window: 30, left: 12, right: 6 };

describe("one window = today's single pass", () => {
  test("decode: at or below the single-pass limit, and with one window covering the sequence", SLOW, async () => {
    const codes = randomCodes(180, 1);
    const [single] = await codec.decodeBatch([codes]);
    const [plain] = await codec.decode([codes]);
    assert.deepEqual(plain, single, "a sequence under the limit is decoded exactly as decodeBatch");
    const [oneWindow] = await codec.decode([codes], { singlePassLimit: 0, window: 200, left: 40, right: 40 });
    assert.deepEqual(oneWindow, single, "a grid whose first window covers the sequence is the single pass");
    const [atLimit] = await codec.decode([codes], { singlePassLimit: 180, window: 30 });
    assert.deepEqual(atLimit, single, "a sequence of exactly singlePassLimit codes takes the single pass");
    const [windowed] = await codec.decode([codes], { singlePassLimit: 179, ...SMALL });
    assert.notDeepEqual(windowed, single, "one code past the limit, the windows really are used");
  });

  test("encode: at or below the single-pass limit, and with one window covering the clip", SLOW, async () => {
    const clip = loopedSpeech(1.5);
    const alone = await codec.encodeBatch([clip]);
    const plain = await codec.encodeDetailed([clip]);
    const oneWindow = await codec.encodeDetailed([clip], { singlePassLimit: 0, window: 100, left: 20, right: 20 });
    for (const [name, r] of [["plain", plain], ["one window", oneWindow]] as const) {
      assert.deepEqual(r.codes[0], alone.codes[0], `${name}: codes`);
      assert.deepEqual(r.latents[0], alone.latents[0], `${name}: latents`);
      assert.deepEqual(r.fsqInput[0], alone.fsqInput[0], `${name}: FSQ inputs`);
    }
  });
});

describe("windowed encode", () => {
  test("codes, latents and FSQ inputs line up with the whole clip's; most codes agree", SLOW, async () => {
    const clip = loopedSpeech(4, 1234);
    const whole = await codec.encodeDetailed([clip]);
    const progress: number[] = [];
    const windowed = await codec.encodeDetailed([clip], {
      singlePassLimit: 50,
      ...SMALL,
      onProgress: (done, total) => progress.push(done / total),
    });
    const T = codesForSamples(clip.length);
    assert.equal(windowed.codes[0].length, T);
    assert.equal(windowed.latents[0].length, whole.latents[0].length);
    assert.equal(windowed.fsqInput[0].length, whole.fsqInput[0].length);
    let same = 0;
    for (let t = 0; t < T; t++) same += windowed.codes[0][t] === whole.codes[0][t] ? 1 : 0;
    // measured 0.99 on this clip; a misaligned window (codes shifted by one frame) agrees on about 1/65536
    assert.ok(same / T >= 0.9, `only ${same} of ${T} codes agree with the whole clip's`);
    // latents [Q, T]: each window's centre went to its own columns (rel L2 per clip, as the batch gate measures)
    assert.ok(relL2(windowed.latents[0], whole.latents[0]) < 0.2);
    assert.equal(progress.at(-1), 1);
    assert.ok(progress.every((p, i) => i === 0 || p >= progress[i - 1]));
  });

  test("a batch mixing long and short clips gives each clip its codes alone", SLOW, async () => {
    const clips = [loopedSpeech(3.1, 0), loopedSpeech(0.5, 999), loopedSpeech(2.2, 5555), loopedSpeech(0.04, 7)];
    const opts = { singlePassLimit: 60, ...SMALL, batchSize: 8 };
    const batched = await codec.encodeDetailed(clips, opts);
    const levels = codec.config.quantization_levels;
    for (const [i, clip] of clips.entries()) {
      const alone = await codec.encodeDetailed([clip], opts);
      const ties = new Set([
        ...tieFrames(alone.fsqInput[0], levels, TOLERANCES.fsqTieMargin),
        ...tieFrames(batched.fsqInput[i], levels, TOLERANCES.fsqTieMargin),
      ]);
      const bad = [...alone.codes[0].keys()].filter((t) => alone.codes[0][t] !== batched.codes[i][t] && !ties.has(t));
      assert.equal(batched.codes[i].length, alone.codes[0].length);
      assert.deepEqual(bad, [], `clip ${i}: codes differ from its own run at non-tie frames ${bad.join(", ")}`);
    }
  });
});

describe("windowed decode", () => {
  test("a batch mixing long and short sequences gives each its audio alone (within the batch gate)", SLOW, async () => {
    const seqs = [randomCodes(260, 2), randomCodes(7, 3), randomCodes(95, 4), randomCodes(61, 5), randomCodes(2, 6)];
    const opts = { singlePassLimit: 60, ...SMALL, batchSize: 4 };
    const batched = await codec.decode(seqs, opts);
    for (const [i, s] of seqs.entries()) {
      const [alone] = await codec.decode([s], opts);
      assert.equal(batched[i].length, s.length * HOP_LENGTH);
      const e = relL2(batched[i], alone);
      assert.ok(e <= TOLERANCES.batchDecodeRelL2, `sequence ${i}: rel L2 ${e} against its own run`);
    }
  });

  test("the error against the whole-sequence decode falls (or stays) as context grows", SLOW, async () => {
    // 30 s of seeded random codes, windows of 250 frames; measured on tiny-a: 2.0e-1, 1.5e-1, 1.4e-1, 1.1e-1
    const codes = randomCodes(1500, 12);
    const [whole] = await codec.decode([codes], { singlePassLimit: Infinity });
    const errors: number[] = [];
    for (const context of [0, 5, 25, 100]) {
      const [a] = await codec.decode([codes], { singlePassLimit: 0, window: 250, left: context, right: context });
      errors.push(relL2(a, whole));
    }
    for (let i = 1; i < errors.length; i++) {
      assert.ok(errors[i] <= errors[i - 1] * 1.01, `context grew and the error rose: ${errors.join(", ")}`);
    }
    assert.ok(errors[3] < errors[0] * 0.95, `context changed nothing: ${errors.join(", ")}`);
  });
});

describe("decodeStream = decode(…, { streaming: true })", () => {
  test("bit for bit for any split of the input (one at a time, 7, 25, all at once, random)", SLOW, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 140 }),
        fc.integer(),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
        fc.constantFrom<WindowOptions>({}, { window: 20, left: 8, right: 3 }, { window: 25, crossfade: 320 }),
        async (n, seed, randomSplit, grid) => {
          const codes = randomCodes(n, seed);
          const [twin] = await codec.decode([codes], { streaming: true, ...grid });
          assert.equal(twin.length, n * HOP_LENGTH);
          for (const sizes of [[1], [7], [25], [n], randomSplit]) {
            const { audio } = await collect(codec.decodeStream(split(codes, sizes), grid));
            assert.deepEqual(audio, twin, `split ${JSON.stringify(sizes)} differs from the offline twin`);
          }
        },
      ),
      { numRuns: 6, seed: 11 },
    );
  });

  test("the first piece is the 10-code first window; plain arrays and sync iterables are accepted", SLOW, async () => {
    const codes = randomCodes(75, 7);
    const { audio, pieces } = await collect(codec.decodeStream([Array.from(codes)]));
    assert.equal(pieces[0], 10 * HOP_LENGTH);
    const [twin] = await codec.decode([codes], { streaming: true });
    assert.deepEqual(audio, twin);
  });

  test("an empty input yields no audio, and makes no call", async () => {
    const { audio, pieces } = await collect(codec.decodeStream((async function* () {})()));
    assert.equal(audio.length, 0);
    assert.deepEqual(pieces, []);
    assert.equal((await collect(codec.decodeStream([[], new Int32Array(0)]))).audio.length, 0);
  });

  test("breaking out of for-await returns the input; the codec keeps working", SLOW, async () => {
    let returned = false, pulled = 0;
    const input = {
      [Symbol.asyncIterator]() {
        return {
          next: async () => ({ done: false, value: randomCodes(5, ++pulled) }),
          return: async () => {
            returned = true;
            return { done: true, value: undefined };
          },
        };
      },
    };
    let pieces = 0;
    for await (const _ of codec.decodeStream(input as AsyncIterable<Int32Array>)) if (++pieces === 2) break;
    assert.ok(returned, "the input iterator's return() was not called");
    assert.ok(pulled < 30, `the stream kept pulling after the break (${pulled} pieces)`);
    assert.equal((await codec.decode([randomCodes(3, 1)])).length, 1);
  });

  test("a code out of range mid-stream: the audio before it, then an error naming its position", SLOW, async () => {
    const codes = randomCodes(130, 8);
    const [twin] = await codec.decode([codes], { streaming: true });
    const bad = Array.from(codes);
    bad[97] = 65536;
    const got: Float32Array[] = [];
    await assert.rejects(
      (async () => {
        for await (const p of codec.decodeStream(split(Int32Array.from(bad), [9]))) got.push(p);
      })(),
      (e: Error) => {
        assert.ok(e instanceof InputError, `${e.name}: ${e.message}`);
        assert.match(e.message, /decodeStream: code 65536 at position 97 is outside \[0, 65535\]/);
        return true;
      },
    );
    // centres [0, 10), [10, 30), [30, 70), [70, 150): windows 0, 1 and 2 (need 20, 40 and 80 codes) were complete
    // before position 97; window 3 (needs 160) was not
    const emitted = got.reduce((a, p) => a + p.length, 0);
    assert.equal(emitted, 70 * HOP_LENGTH);
    let at = 0;
    for (const p of got) assert.deepEqual(p, twin.subarray(at, at += p.length));
    await assert.rejects(
      collect(codec.decodeStream([[1, 2, 2.5]])),
      /code 2.5 at position 2 is not an integer in \[0, 65535\]/,
    );
    await assert.rejects(collect(codec.decodeStream([5 as never])), /piece 0 is not an array of codes/);
  });

  test("an input that throws: its error propagates, nothing hangs", SLOW, async () => {
    const boom = new Error("generator failed");
    async function* failing() {
      yield randomCodes(40, 9);
      throw boom;
    }
    const got: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const p of codec.decodeStream(failing())) got.push(p.length);
      })(),
      (e) => e === boom,
    );
    // windows 0 and 1 (centres of 10 and 20 codes, needing 20 and 40) were complete before the failure
    assert.deepEqual(got, [10 * HOP_LENGTH, 20 * HOP_LENGTH], "the windows complete before the failure were emitted");
  });

  test("bad options and a disposed codec fail clearly", async () => {
    assert.throws(() => codec.decodeStream([], { right: -1 }), /decodeStream: right must be an integer ≥ 0, got -1/);
    await assert.rejects(codec.decode([randomCodes(3, 1)], { window: 0 }), /decode: window must be an integer ≥ 1/);
    await assert.rejects(codec.decode([randomCodes(3, 1)], { singlePassLimit: -5 }), /singlePassLimit must be/);
    await assert.rejects(codec.encode([new Float32Array(10)], { left: 0.5 }), /encode: left must be an integer/);
  });
});
