import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { planBuckets } from "./batching.ts";

test("multi-item buckets hold at most maxWaste × their real samples once padded", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 1, max: 16 }),
      fc.double({ min: 1, max: 3, noNaN: true }),
      (lengths, batchSize, waste) => {
        const buckets = planBuckets(lengths, batchSize, Infinity, waste);
        assert.deepEqual(buckets.flat().sort((a, b) => a - b), lengths.map((_, i) => i));
        for (const b of buckets) {
          const real = b.reduce((s, i) => s + lengths[i], 0);
          const padded = b.length * Math.max(...b.map((i) => lengths[i]));
          if (b.length > 1) assert.ok(padded <= waste * real, `bucket ${b} pads ${real} to ${padded}`);
        }
      },
    ),
    { seed: 11, numRuns: 300 },
  );
});

test("the reference clips fall into three buckets of similar lengths, and equal lengths fill whole batches", () => {
  const lengths = [51278, 1000, 16123, 36817, 15999, 1600, 16000, 16001];
  const buckets = planBuckets(lengths, 8, 8 * 30 * 16_000);
  assert.deepEqual(buckets.map((b) => b.map((i) => lengths[i])), [[1000, 1600], [15999, 16000, 16001, 16123], [
    36817,
    51278,
  ]]);
  assert.deepEqual(planBuckets(new Array(10).fill(320), 4, Infinity), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
});

test("a waste bound below 1 is refused", () => {
  assert.throws(() => planBuckets([1, 2], 2, 100, 0.5), /maxWaste/);
});
