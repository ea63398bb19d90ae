/** Strided views (torch slices, transposes, shared storages) come out as the elements they name, in row-major order. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { gatherStrided, numelOf } from "./strided.ts";

/** The definition: element (i0, i1, …) of the view is storage element offset + Σ i_d·stride_d. */
function reference(storage: Uint8Array, e: number, offset: number, shape: number[], stride: number[]): Uint8Array {
  const out = new Uint8Array(numelOf(shape) * e);
  const index = shape.map(() => 0);
  for (let n = 0; n < numelOf(shape); n++) {
    const at = offset + index.reduce((a, i, d) => a + i * stride[d], 0);
    out.set(storage.subarray(at * e, (at + 1) * e), n * e);
    for (let d = shape.length - 1; d >= 0 && ++index[d] === shape[d]; d--) index[d] = 0;
  }
  return out;
}

test("views of every element size, aligned or not in the file, equal the element-by-element definition", () => {
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
  const cases: [number[], (shape: number[]) => number[], number][] = [
    [[5, 7], ([r]) => [1, r], 0], // transpose of a [7, 5] storage
    [[3, 4, 6], () => [1, 3, 12], 0], // permute(2, 0, 1)-like
    [[4, 3], () => [6, 2], 1], // every other column, offset
    [[2, 3, 2], () => [40, 10, 3], 5], // slices in every dimension
    [[6], () => [3], 2], // one dimension, strided
  ];
  for (const e of [1, 2, 4, 8, 16]) {
    for (const misaligned of [false, true]) {
      for (const [shape, strides, offset] of cases) {
        const stride = strides(shape);
        const extent = offset + shape.reduce((a, d, i) => a + (d - 1) * stride[i], 0) + 1;
        const file = new Uint8Array(extent * e + 1).map(() => rand(256));
        const storage = misaligned ? file.subarray(1) : file.subarray(0, extent * e);
        const got = gatherStrided(storage, e, offset, shape, stride);
        const want = reference(storage, e, offset, shape, stride);
        assert.deepEqual(
          got,
          want,
          `element size ${e}, shape [${shape}], stride [${stride}], misaligned ${misaligned}`,
        );
      }
    }
  }
  assert.equal(gatherStrided(new Uint8Array(8), 4, 0, [0, 3], [3, 1]).length, 0);
});

test("an 8-byte NaN with a payload is copied bit for bit", () => {
  const storage = new Uint8Array(32);
  const dv = new DataView(storage.buffer);
  for (let i = 0; i < 4; i++) dv.setBigUint64(i * 8, 0x7ff0_0000_0000_0001n + BigInt(i), true); // signalling NaNs
  const got = gatherStrided(storage, 8, 0, [2, 2], [1, 2]);
  const words = new DataView(got.buffer);
  assert.deepEqual([0, 1, 2, 3].map((i) => words.getBigUint64(i * 8, true) - 0x7ff0_0000_0000_0000n), [1n, 3n, 2n, 4n]);
});
