/**
 * CI budget of the fuzzing campaign: every target, a fixed seed, 300 cases each. A case must end in success or a
 * typed error naming the input, within the time bound, leaving no files behind. `npm run fuzz` runs deeper.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { runTarget } from "./harness.ts";
import { DEFAULT_SEED, TARGETS } from "./targets/mod.ts";
import { applyMutation } from "./mutate.ts";

const RUNS = 300;

describe("fuzz targets (CI budget)", () => {
  for (const target of TARGETS) {
    test(`${target.name}: ${RUNS} cases end in success or a typed error`, async () => {
      const r = await runTarget(target, { runs: RUNS, seed: DEFAULT_SEED });
      assert.equal(r.failure, undefined, r.failure ?? "");
      assert.equal(r.runs, RUNS);
      // the corpus and mutations reach both outcomes: valid inputs pass, broken ones are refused
      assert.ok(r.ok > 0, `${target.name}: no case succeeded`);
      assert.ok(Object.values(r.errors).reduce((a, b) => a + b, 0) > 0, `${target.name}: no case was refused`);
    });
  }

  test("mutations do what they say", () => {
    const base = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual([...applyMutation(base, { kind: "truncate", at: { region: "any", n: 3 } })], [1, 2, 3]);
    assert.deepEqual(
      [...applyMutation(base, {
        kind: "int",
        at: { region: "head", n: 0 },
        width: 4,
        value: 0xffffffffn,
        bigEndian: false,
      })],
      [255, 255, 255, 255, 5, 6, 7, 8],
    );
    assert.deepEqual([...applyMutation(base, { kind: "flip", at: { region: "tail", n: 0 }, bit: 0 })], [
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      9,
    ]);
  });
});
