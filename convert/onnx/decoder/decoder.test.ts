import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type * as ort from "onnxruntime-node";
import { HOP_LENGTH } from "../../architecture/mod.ts";
import { buildDecoder } from "./decoder.ts";
import { int64, session, tinyA } from "../../../fixtures/support/graph_session.ts";
import { maxAbs, maxAbsDiff, relL2 } from "../../../fixtures/support/metrics.ts";
import { caseTensors, referenceCases } from "../../../fixtures/support/reference.ts";

type Session = Awaited<ReturnType<typeof session>>;

/** Build the decoder graph in one precision / mask mode (fresh Weights: each graph records its own reads). */
async function decoderSession(dtype: "float32" | "float16", masks: boolean): Promise<Session> {
  const { w, cfg } = await tinyA();
  return session(dtype, (g) => buildDecoder(g, w, cfg, { masks }));
}

/** Decode a batch of code sequences, right-padded with `pad(b, t)`; returns each item's full output row. */
async function decodeBatch(
  s: ort.InferenceSession,
  seqs: number[][],
  pad: (b: number, t: number) => number = () => 0,
): Promise<Float32Array[]> {
  const K = Math.max(...seqs.map((q) => q.length));
  const codes: number[] = [], mask: number[] = [];
  seqs.forEach((q, b) => {
    for (let t = 0; t < K; t++) {
      codes.push(t < q.length ? q[t] : pad(b, t));
      mask.push(t < q.length ? 1 : 0);
    }
  });
  const out = await s.run({
    audio_codes: int64(codes, [seqs.length, 1, K]),
    audio_codes_mask: int64(mask, [seqs.length, 1, K]),
  });
  assert.deepEqual(out.audio_values.dims, [seqs.length, 1, HOP_LENGTH * K]);
  const data = out.audio_values.data as Float32Array;
  return seqs.map((_, b) => data.slice(b * HOP_LENGTH * K, (b + 1) * HOP_LENGTH * K));
}

interface Clip {
  name: string;
  codes: number[];
  audio: Float32Array;
}

describe("decoder graph (tiny-a, onnxruntime-node CPU)", () => {
  let clips: Clip[] = [];
  let fp32: Session;
  const alone = new Map<string, Float32Array>(); // per-sample audio of the masked fp32 graph, keyed by the codes

  const perSample = async (codes: number[]) => {
    const key = codes.join(",");
    if (!alone.has(key)) alone.set(key, (await decodeBatch(fp32.s, [codes]))[0]);
    return alone.get(key)!;
  };

  before(async () => {
    fp32 = await decoderSession("float32", true);
    for (const c of Object.values(referenceCases()).filter((c) => c.kind === "single")) {
      const ref = await caseTensors(c.key);
      clips.push({
        name: c.clips[0],
        codes: Array.from(ref.tensor("enc.audio_codes").data),
        audio: ref.tensor("dec.audio_values").data as Float32Array,
      });
    }
    clips = clips.sort((a, b) => a.codes.length - b.codes.length);
  });
  after(async () => {
    await fp32?.close();
  });

  test("per-sample: decoding upstream's codes gives upstream's audio within 1e-5 absolute", async () => {
    assert.ok(clips.length >= 8);
    for (const c of clips) {
      const y = await perSample(c.codes);
      assert.equal(y.length, c.audio.length);
      const err = maxAbsDiff(y, c.audio);
      console.log(
        `per-sample ${c.name} (K=${c.codes.length}): max |Δ| ${err.toExponential(2)} (peak ${
          maxAbs(c.audio).toFixed(3)
        })`,
      );
      assert.ok(err <= 1e-5, `${c.name}: max abs error ${err}`);
    }
  });

  test("batch = per-sample for mixed lengths, duplicates, a 1-code item and arbitrary padding codes", async () => {
    const by = (n: string) => clips.find((c) => c.name === n)!.codes;
    const compositions: { name: string; seqs: number[][]; pad?: (b: number, t: number) => number }[] = [
      { name: "mixed3", seqs: [by("espeak_en"), by("speech_1000"), by("speech_36817")] },
      { name: "duplicates", seqs: [by("speech_1600"), by("noise_16123"), by("speech_1600")], pad: () => 65535 },
      {
        name: "one-code",
        seqs: [by("speech_16000").slice(0, 1), by("speech_16000")],
        pad: (b, t) => (b * 7919 + t * 104729) % 65536,
      },
      { name: "all8", seqs: clips.map((c) => c.codes), pad: (b, t) => (t * 31 + b) % 65536 },
      { name: "equal-lengths", seqs: [by("speech_16000"), by("speech_16001"), by("noise_16123")] },
    ];
    for (const comp of compositions) {
      const rows = await decodeBatch(fp32.s, comp.seqs, comp.pad);
      let worst = 0;
      for (let b = 0; b < comp.seqs.length; b++) {
        const n = HOP_LENGTH * comp.seqs[b].length;
        const own = await perSample(comp.seqs[b]);
        assert.equal(own.length, n);
        worst = Math.max(worst, maxAbsDiff(rows[b].subarray(0, n), own));
        assert.ok(rows[b].subarray(n).every((v) => v === 0), `${comp.name}[${b}]: samples past ${n} are not zero`);
      }
      console.log(
        `batch ${comp.name} (K=[${comp.seqs.map((q) => q.length)}]): max |batch − alone| ${worst.toExponential(2)}`,
      );
      assert.ok(worst <= 1e-5, `${comp.name}: batch differs from per-sample by ${worst}`);
    }
  });

  test("the masks: false graph leaks padding into short items (and still matches for the longest one)", async () => {
    const naive = await decoderSession("float32", false);
    try {
      const long = clips[clips.length - 1].codes, short = clips[0].codes;
      const [rShort, rLong] = await decodeBatch(naive.s, [short, long]);
      const n = HOP_LENGTH * short.length;
      const ownShort = await perSample(short), ownLong = await perSample(long);
      const leak = relL2(rShort.subarray(0, n), ownShort);
      const longErr = maxAbsDiff(rLong, ownLong);
      console.log(
        `no-masks: short item (K=${short.length}) rel L2 vs alone ${leak.toFixed(3)}, max |Δ| ${
          maxAbsDiff(rShort.subarray(0, n), ownShort).toExponential(2)
        }; longest item max |Δ| ${longErr.toExponential(2)}`,
      );
      assert.ok(leak > 0.05, `the naive batch should leak, rel L2 ${leak}`);
      assert.ok(longErr <= 1e-5, `the unpadded item should be unaffected, ${longErr}`);
      assert.ok(rShort.subarray(n).every((v) => v === 0));
    } finally {
      await naive.close();
    }
  });

  test("fp16 graph builds, runs on CPU and stays close to fp32", async () => {
    const half = await decoderSession("float16", true);
    try {
      let worstAbs = 0, worstRel = 0;
      for (const c of clips) {
        const [y] = await decodeBatch(half.s, [c.codes]);
        const ref = await perSample(c.codes);
        assert.ok(y.every(Number.isFinite), `${c.name}: fp16 audio has non-finite values`);
        const abs = maxAbsDiff(y, ref), rel = relL2(y, ref);
        worstAbs = Math.max(worstAbs, abs);
        worstRel = Math.max(worstRel, rel);
        console.log(`fp16 ${c.name}: max |Δ| vs fp32 ${abs.toExponential(2)}, rel L2 ${rel.toExponential(2)}`);
      }
      const seqs = [clips[0].codes, clips[clips.length - 1].codes, clips[3].codes];
      const rows = await decodeBatch(half.s, seqs);
      let batchWorst = 0;
      for (let b = 0; b < seqs.length; b++) {
        const n = HOP_LENGTH * seqs[b].length;
        const [own] = await decodeBatch(half.s, [seqs[b]]);
        batchWorst = Math.max(batchWorst, maxAbsDiff(rows[b].subarray(0, n), own));
      }
      console.log(
        `fp16 worst: max |Δ| ${worstAbs.toExponential(2)}, rel L2 ${
          worstRel.toExponential(2)
        }; fp16 batch vs fp16 alone max |Δ| ${batchWorst.toExponential(2)}`,
      );
      assert.ok(worstRel < 0.05, `fp16 rel L2 ${worstRel}`);
      assert.ok(batchWorst < 1e-2, `fp16 batch vs alone ${batchWorst}`);
    } finally {
      await half.close();
    }
  });
});
