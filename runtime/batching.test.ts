import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { planBuckets } from "./batching.ts";

test("buckets cover every item once, respect the batch size and the padded budget", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1000, max: 5000 }),
      (lengths, batchSize, budget) => {
        const buckets = planBuckets(lengths, batchSize, budget);
        const seen = buckets.flat().sort((a, b) => a - b);
        assert.deepEqual(seen, lengths.map((_, i) => i));
        for (const b of buckets) {
          assert.ok(b.length >= 1 && b.length <= batchSize);
          const longest = Math.max(...b.map((i) => lengths[i]));
          // a single item longer than the budget still runs, alone
          if (b.length > 1) assert.ok(b.length * longest <= budget);
        }
      },
    ),
    { seed: 7, numRuns: 300 },
  );
});

test("a bad batch size is refused", () => {
  assert.throws(() => planBuckets([1, 2], 0, 100), /batchSize/);
});
