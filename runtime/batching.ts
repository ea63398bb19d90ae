/**
 * Length bucketing: sort items by length, cut the sorted list into batches of at most `batchSize` items whose padded
 * size (items × longest) stays within `maxPadded`, so padding waste and activation memory stay bounded. Returns the
 * original indices per batch; the caller restores order.
 */
export function planBuckets(lengths: number[], batchSize: number, maxPadded: number): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const buckets: number[][] = [];
  let cur: number[] = [];
  for (const i of order) {
    // sorted ascending, so the newest item is the longest of the bucket
    if (cur.length && (cur.length >= batchSize || (cur.length + 1) * lengths[i] > maxPadded)) {
      buckets.push(cur);
      cur = [];
    }
    cur.push(i);
  }
  if (cur.length) buckets.push(cur);
  return buckets;
}
