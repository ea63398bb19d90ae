/**
 * Where ndarray / ndarray-ops earn their place: each strided copy the toolkit makes, as the hand-written loop and as
 * an ndarray view + `ops.assign`, timed under the runtime that runs this file (plain JS, so Node runs it too):
 *
 *   bun scripts/ndarray_probe.mjs;  deno run -A scripts/ndarray_probe.mjs;  node scripts/ndarray_probe.mjs
 *
 * Outcome (2-core development machine): the pickle reader's strided gather is 1.3–2.4× faster as a view
 * (convert/pickle/strided.ts uses it); splitting [B, Q, K] latents per item is 1.4–3× slower than one memcpy per
 * row (runtime/codec.ts keeps the rows); the one-frame padding copy is slower but under 1 ms and rare (it uses views).
 */
import ndarray from "ndarray";
import ops from "ndarray-ops";

function contiguousStrides(shape) {
  const s = new Array(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}
const numelOf = (shape) => shape.reduce((a, b) => a * b, 1);
function isContiguous(shape, stride) {
  const want = contiguousStrides(shape);
  return shape.every((d, i) => d === 1 || stride[i] === want[i]);
}
// the current convert/pickle/strided.ts gatherStrided
function gatherOld(storage, elementSize, offset, shape, stride) {
  const numel = numelOf(shape);
  if (numel === 0) return new Uint8Array(0);
  if (isContiguous(shape, stride)) return storage.slice(offset * elementSize, (offset + numel) * elementSize);
  const out = new Uint8Array(numel * elementSize);
  const nd = shape.length, inner = shape[nd - 1], innerStride = stride[nd - 1];
  const index = new Array(nd - 1).fill(0);
  let o = 0;
  for (let done = 0; done < numel; done += inner) {
    let base = offset;
    for (let d = 0; d < nd - 1; d++) base += index[d] * stride[d];
    if (innerStride === 1) {
      const from = base * elementSize;
      out.set(storage.subarray(from, from + inner * elementSize), o);
      o += inner * elementSize;
    } else {for (let j = 0; j < inner; j++) {
        const from = (base + j * innerStride) * elementSize;
        for (let b = 0; b < elementSize; b++) out[o++] = storage[from + b];
      }}
    for (let d = nd - 2; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}
const WORD = { 1: Uint8Array, 2: Uint16Array, 4: Uint32Array, 8: BigUint64Array };
// ndarray: a view in the element's word type + ops.assign
function gatherNd(storage, elementSize, offset, shape, stride) {
  const W = WORD[elementSize];
  const words = new W(storage.buffer, storage.byteOffset, storage.byteLength / elementSize);
  const out = new W(numelOf(shape));
  ops.assign(ndarray(out, shape), ndarray(words, shape, stride, offset));
  return new Uint8Array(out.buffer);
}
// ndarray over bytes, one more axis for the element's bytes (any element size, any alignment)
function gatherNdBytes(storage, elementSize, offset, shape, stride) {
  const out = new Uint8Array(numelOf(shape) * elementSize);
  ops.assign(
    ndarray(out, [...shape, elementSize]),
    ndarray(storage, [...shape, elementSize], [...stride.map((s) => s * elementSize), 1], offset * elementSize),
  );
  return out;
}

function time(label, f, reps) {
  f();
  f();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  const ms = (performance.now() - t0) / reps;
  console.log(`  ${label.padEnd(52)} ${ms.toFixed(3)} ms`);
  return ms;
}
const rt = typeof Bun !== "undefined"
  ? `bun ${Bun.version}`
  : typeof Deno !== "undefined"
  ? `deno ${Deno.version.deno}`
  : `node ${process.version}`;
console.log(rt);

// 1. a transposed 1024×1024 view (torch `.t()` saved without .contiguous()), for every element size
for (const E of [4, 2]) {
  const N = 1024;
  const storage = new Uint8Array(N * N * E);
  for (let i = 0; i < storage.length; i++) storage[i] = (i * 2654435761) >>> 24;
  const args = [storage, E, 0, [N, N], [1, N]];
  const a = gatherOld(...args), b = gatherNd(...args), c = gatherNdBytes(...args);
  if (!a.every((x, i) => x === b[i] && x === c[i])) throw new Error("mismatch");
  console.log(`transposed ${N}x${N}, ${E}-byte elements`);
  time("hand loop (strided.ts)", () => gatherOld(...args), 10);
  time("ndarray view in words + ops.assign", () => gatherNd(...args), 10);
  time("ndarray view in bytes (extra axis) + ops.assign", () => gatherNdBytes(...args), 10);
}
// 1b. a slice along dim 0 of a [64, 1024, 16] storage: rows stay contiguous
{
  const E = 4, shape = [32, 1024, 16], stride = [2 * 1024 * 16, 16, 1];
  const storage = new Uint8Array(64 * 1024 * 16 * E).map((_, i) => i);
  const args = [storage, E, 1024 * 16, shape, stride];
  const a = gatherOld(...args), b = gatherNd(...args);
  if (!a.every((x, i) => x === b[i])) throw new Error("mismatch");
  console.log("every other [1024,16] block of a [64,1024,16] storage (contiguous rows)");
  time("hand loop (strided.ts, row memcpy)", () => gatherOld(...args), 20);
  time("ndarray view in words + ops.assign", () => gatherNd(...args), 20);
}

// 2. per-item slicing of an encoder output latents [B, Q, K] → [Q, k] per item (full size: Q = 1024, 8 clips ≤ 10 s)
{
  const B = 8, Q = 1024, K = 501, ks = [501, 160, 250, 400, 480, 300, 200, 455];
  const latents = new Float32Array(B * Q * K).map((_, i) => i % 997);
  const handLoop = () =>
    ks.map((k, b) => {
      const lat = new Float32Array(Q * k);
      for (let q = 0; q < Q; q++) lat.set(latents.subarray((b * Q + q) * K, (b * Q + q) * K + k), q * k);
      return lat;
    });
  const view = ndarray(latents, [B, Q, K]);
  const nd = () =>
    ks.map((k, b) => {
      const lat = new Float32Array(Q * k);
      ops.assign(ndarray(lat, [Q, k]), view.pick(b, null, null).hi(Q, k));
      return lat;
    });
  const a = handLoop(), b = nd();
  if (!a.every((x, i) => x.every((v, j) => v === b[i][j]))) throw new Error("mismatch");
  console.log(`latents [${B}, ${Q}, ${K}] → per item [Q, k]`);
  time("hand loop (Q row copies with set/subarray)", handLoop, 20);
  time("ndarray pick + hi + ops.assign", nd, 20);
}

// 3. padding a [B, F, D] feature batch by one frame (runtime/codec.ts atLeastTwoFrames), and the int64 masks
{
  const B = 8, F = 1, D = 160, L = 320;
  const feats = new Float32Array(B * F * D).fill(0.5), mask = new BigInt64Array(B * L).fill(1n);
  const hand = () => {
    const f2 = new Float32Array(B * (F + 1) * D).fill(1), m2 = new BigInt64Array(B * (L + 320));
    for (let b = 0; b < B; b++) {
      f2.set(feats.subarray(b * F * D, (b + 1) * F * D), b * (F + 1) * D);
      m2.set(mask.subarray(b * L, (b + 1) * L), b * (L + 320));
    }
    return [f2, m2];
  };
  const nd = () => {
    const f2 = new Float32Array(B * (F + 1) * D).fill(1), m2 = new BigInt64Array(B * (L + 320));
    ops.assign(ndarray(f2, [B, F + 1, D]).hi(B, F, D), ndarray(feats, [B, F, D]));
    ops.assign(ndarray(m2, [B, L + 320]).hi(B, L), ndarray(mask, [B, L]));
    return [f2, m2];
  };
  const [a1, a2] = hand(), [b1, b2] = nd();
  if (!a1.every((v, i) => v === b1[i]) || !a2.every((v, i) => v === b2[i])) throw new Error("mismatch");
  console.log("pad features [8,1,160]→[8,2,160] and masks [8,320]→[8,640] (int64)");
  time("hand loop (set/subarray per item)", hand, 200);
  time("ndarray hi + ops.assign", nd, 200);
}
