/**
 * A long clip's features per window (windowed.ts) for every feature flavour of the family: a window's rows are
 * exactly the whole clip's rows over its encoder frames (normalised with the whole clip's statistics, in the model's
 * arithmetic), so a window covering the clip gives exactly `extractFeatures`, and a pooled model's windows start on
 * the pooling pairs.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { codesForClip, type ModelFacts, XCODEC2_FACTS } from "../../convert/mod.ts";
import { readClip } from "../../fixtures/support/reference.ts";
import { extractFeatures } from "./extractor.ts";
import { ClipFeatureSource } from "./windowed.ts";

/** The three ways the family cuts features (members.ts): XCodec2, NeuCodec (no side padding), 25TPS (pooled 2). */
const KINDS: Record<string, ModelFacts> = {
  xcodec2: XCODEC2_FACTS,
  neucodec: { ...XCODEC2_FACTS, features: "neucodec", fbank: "seamless_m4t" },
  pooled: { ...XCODEC2_FACTS, fbank: "seamless_m4t", codePooling: 2, codesPerSecond: 25 },
};
const ROW = 160; // FEATURE_DIM: two stacked 80-bin frames per encoder frame

describe("ClipFeatureSource: a window's features are the whole clip's over its frames", () => {
  for (const [name, facts] of Object.entries(KINDS)) {
    test(`${name}: whole-clip window = extractFeatures; inner windows = the clip's rows and samples`, async () => {
      const speech = await readClip("espeak_en");
      // around the hop edges (odd and even frame counts for the pooled model) and a clip longer than SCAN_FRAMES rows
      for (const n of [9599, 9600, 9601, 9919, 16000 * 25 + 77]) {
        const clip = new Float32Array(n).map((_, i) => speech[(i * 7) % speech.length]);
        const whole = extractFeatures(clip, 0, facts);
        const src = new ClipFeatureSource(clip, 0, facts);
        const T = codesForClip(facts, n);
        assert.equal(src.frames, T, `${name} ${n}: codes`);
        const P = facts.codePooling;
        const all = src.window(0, T);
        assert.equal(all.frames, T * P);
        assert.deepEqual(all.features, whole.features.subarray(0, T * P * ROW), `${name} ${n}: whole-clip window`);
        assert.deepEqual(all.inputValues, whole.inputValues.subarray(0, T * P * 320));
        for (const [a, b] of [[0, 3], [5, 12], [T - 4, T]]) {
          const w = src.window(a, b);
          assert.deepEqual(w.features, whole.features.subarray(a * P * ROW, b * P * ROW), `${name} ${n}: [${a}, ${b})`);
          assert.deepEqual(w.inputValues, whole.inputValues.subarray(a * P * 320, b * P * 320));
          assert.equal(w.paddingMaskLength, Math.min(n + 1, b * P * 320) - a * P * 320);
          assert.equal(src.heldSamples(a, b), Math.min(n, b * P * 320) - a * P * 320);
        }
      }
    });
  }

  test("a window outside the clip's codes is refused", () => {
    const src = new ClipFeatureSource(new Float32Array(3200).fill(0.1), 0, KINDS.pooled);
    assert.equal(src.frames, 5); // T = ⌈3201/320⌉ = 11 rows, pooled in pairs
    assert.throws(() => src.window(4, 6), /window \[4, 6\) outside the clip's 5 codes/);
  });
});
