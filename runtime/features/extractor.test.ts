import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { codesForSamples, FEATURE_DIM, FEATURE_PADDING_VALUE, paddedSamples } from "../../convert/mod.ts";
import { batchFeatures, extractFeatures, FeatureInputError } from "./mod.ts";
import { maxAbsDiff } from "../../fixtures/support/metrics.ts";
import { caseTensors, readClip } from "../../fixtures/support/reference.ts";
import { referenceIndex } from "../../parity/reference.ts";

const cases = referenceIndex();
/** The reference README's gates: 1e-4 absolute, 3e-4 for noise. */
const tolerance = (clip: string) => (cases.clips[clip].kind === "noise" ? 3e-4 : 1e-4);

function assertMaskEqual(ours: BigInt64Array, ref: ArrayLike<number>, what: string) {
  assert.equal(ours.length, ref.length, `${what} length`);
  for (let i = 0; i < ours.length; i++) assert.equal(Number(ours[i]), ref[i], `${what}[${i}]`);
}

const singles = Object.entries(cases.cases).filter(([k]) => k.includes("/single/"));
const batches = Object.entries(cases.cases).filter(([k]) => k.includes("/batch/"));

describe("extractFeatures equals upstream Xcodec2FeatureExtractor", () => {
  for (const [key, c] of singles) {
    test(key, async () => {
      const name = c.clips[0];
      const audio = await readClip(name);
      const ref = await caseTensors(key);
      const fe = extractFeatures(audio);

      const iv = ref.get("fe.input_values")!;
      assert.deepEqual(iv.shape, [1, 1, fe.inputValues.length]);
      assert.deepEqual(fe.inputValues, iv.data, "input_values exactly equal");

      const pm = ref.get("fe.padding_mask")!.data as Int32Array;
      let ones = 0;
      for (let i = 0; i < pm.length; i++) ones += pm[i];
      assert.equal(fe.paddingMaskLength, ones);
      assert.equal(pm[ones - 1], 1);
      assert.equal(fe.paddingMaskLength, audio.length + 1);

      const feat = ref.get("fe.input_features")!;
      assert.deepEqual(feat.shape, [1, fe.frames, FEATURE_DIM]);
      assert.equal(fe.frames, codesForSamples(audio.length));
      const mask = ref.get("fe.input_features_mask")!.data as Int32Array;
      assert.deepEqual(Array.from(mask), new Array(fe.frames).fill(1));

      const err = maxAbsDiff(fe.features, feat.data as Float32Array);
      assert.ok(err <= tolerance(name), `${name}: max |Δfeature| ${err.toExponential(2)} > ${tolerance(name)}`);
    });
  }
});

describe("batchFeatures equals upstream's padded batches", () => {
  for (const [key, c] of batches) {
    test(key, async () => {
      const audios = await Promise.all(c.clips.map((name) => readClip(name)));
      const ref = await caseTensors(key);
      const b = batchFeatures(audios);
      const B = audios.length;

      const feat = ref.get("fe.input_features")!;
      assert.deepEqual(feat.shape, [B, b.Fmax, FEATURE_DIM]);
      assertMaskEqual(
        b.inputFeaturesMask,
        ref.get("fe.input_features_mask")!.data as Int32Array,
        "input_features_mask",
      );
      for (let i = 0; i < B; i++) {
        const rows = b.Fmax * FEATURE_DIM;
        const ours = b.inputFeatures.subarray(i * rows, (i + 1) * rows);
        const theirs = (feat.data as Float32Array).subarray(i * rows, (i + 1) * rows);
        const err = maxAbsDiff(ours, theirs);
        assert.ok(err <= tolerance(c.clips[i]), `${key} item ${i}: max |Δfeature| ${err.toExponential(2)}`);
        // Padding rows are exactly the padding value in both.
        for (let j = b.frames[i] * FEATURE_DIM; j < rows; j++) assert.equal(ours[j], FEATURE_PADDING_VALUE);
      }

      const sums = ref.get("fe.padding_mask_sum");
      if (sums !== undefined) {
        assert.deepEqual(
          Array.from(sums.data, Number),
          audios.map((a) => a.length + 1),
        );
      }
      const iv = ref.get("fe.input_values");
      if (iv !== undefined) {
        assert.deepEqual(iv.shape, [B, 1, b.Lmax]);
        assert.deepEqual(b.inputValues, iv.data);
        assertMaskEqual(b.paddingMask, ref.get("fe.padding_mask")!.data as Int32Array, "padding_mask");
      }
      assert.equal(b.Lmax, Math.max(...audios.map((a) => paddedSamples(a.length))));
      assert.deepEqual(b.lengths, audios.map((a) => a.length));
    });
  }
  test("boundary3 stores the batched waveform tensors (so the exact comparison above ran)", async () => {
    const ref = await caseTensors("tiny-a/batch/boundary3");
    assert.ok(ref.has("fe.input_values") && ref.has("fe.padding_mask"));
  });
});

describe("shapes and padding arithmetic", () => {
  test("T = codesForSamples(n) and Lp = 320·T for lengths around the hop boundaries", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.2;
    for (const n of [1, 2, 79, 80, 81, 159, 160, 161, 318, 319, 320, 321, 639, 640, 641, 1000, 4799]) {
      const audio = Float32Array.from({ length: n }, rand);
      const fe = extractFeatures(audio);
      assert.equal(fe.frames, codesForSamples(n), `n=${n}`);
      assert.equal(fe.features.length, fe.frames * FEATURE_DIM);
      assert.equal(fe.inputValues.length, paddedSamples(n));
      assert.deepEqual(fe.inputValues.subarray(0, n), audio);
      assert.ok(fe.inputValues.subarray(n).every((v) => v === 0));
      assert.ok(fe.features.every(Number.isFinite), `n=${n}: finite features`);
    }
  });

  test("a batch item equals the same clip run alone, whatever the batch", () => {
    const mk = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.05 * k) * 0.3);
    const clips = [mk(5000, 1), mk(333, 2), mk(12001, 3), mk(640, 4)];
    const b = batchFeatures(clips);
    clips.forEach((c, i) => {
      const s = extractFeatures(c);
      assert.deepEqual(
        b.inputFeatures.subarray(i * b.Fmax * FEATURE_DIM, i * b.Fmax * FEATURE_DIM + s.features.length),
        s.features,
      );
      assert.deepEqual(b.inputValues.subarray(i * b.Lmax, i * b.Lmax + s.inputValues.length), s.inputValues);
      const pm = b.paddingMask.subarray(i * b.Lmax, (i + 1) * b.Lmax);
      assert.equal(pm.reduce((a, v) => a + v, 0n), BigInt(c.length + 1));
      assert.equal(b.frames[i], s.frames);
    });
  });

  test("a silent clip gives finite features (zero variance is guarded by the epsilon)", () => {
    const fe = extractFeatures(new Float32Array(3200));
    assert.ok(fe.features.every((v) => v === 0));
  });
});

describe("input validation", () => {
  const expectError = (fn: () => unknown, index: number, problem: string) =>
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof FeatureInputError, String(e));
      assert.equal(e.itemIndex, index);
      assert.equal(e.problem, problem);
      assert.match(e.message, new RegExp(`item ${index}`));
      return true;
    });
  const ok = new Float32Array(1000).fill(0.1);

  test("empty clip", () => {
    expectError(() => extractFeatures(new Float32Array(0)), 0, "empty");
    expectError(() => batchFeatures([ok, new Float32Array(0)]), 1, "empty");
  });
  test("NaN and Inf name the item and the sample", () => {
    const nan = ok.slice();
    nan[17] = NaN;
    const inf = ok.slice();
    inf[999] = -Infinity;
    expectError(() => batchFeatures([ok, ok, nan]), 2, "non-finite");
    expectError(() => batchFeatures([inf, ok]), 0, "non-finite");
    assert.throws(() => extractFeatures(nan), /sample 17 is NaN/);
  });
  test("wrong dtype and empty batch", () => {
    expectError(() => batchFeatures([ok, new Float64Array(10) as unknown as Float32Array]), 1, "not-float32");
    expectError(() => batchFeatures([]), 0, "no-clips");
  });
});
