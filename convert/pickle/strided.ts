/**
 * Materialise a strided tensor view as contiguous row-major bytes. torch.save writes a view's whole storage plus its
 * geometry (storage offset, sizes, strides in elements), so slices, transposes and tensors sharing one storage all
 * come through here.
 */

/** Row-major contiguous strides for `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** One past the last storage element the view touches (0 for an empty view). */
export function viewExtent(offset: number, shape: readonly number[], stride: readonly number[]): number {
  if (shape.some((d) => d === 0)) return 0;
  let last = offset;
  for (let i = 0; i < shape.length; i++) last += (shape[i] - 1) * stride[i];
  return last + 1;
}

/** True when the view reads `numel` consecutive elements starting at its offset. */
export function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  const want = contiguousStrides(shape);
  return shape.every((d, i) => d === 1 || stride[i] === want[i]);
}

/**
 * Copy the view out of `storage` (bytes of the whole storage). The caller has checked that the view's extent lies
 * inside the storage.
 */
export function gatherStrided(
  storage: Uint8Array,
  elementSize: number,
  offset: number,
  shape: readonly number[],
  stride: readonly number[],
): Uint8Array {
  const numel = numelOf(shape);
  if (numel === 0) return new Uint8Array(0);
  if (isContiguous(shape, stride)) {
    return storage.slice(offset * elementSize, (offset + numel) * elementSize);
  }
  const out = new Uint8Array(numel * elementSize);
  const nd = shape.length;
  const inner = shape[nd - 1];
  const innerStride = stride[nd - 1];
  const index = new Array<number>(nd - 1).fill(0);
  let o = 0;
  for (let done = 0; done < numel; done += inner) {
    let base = offset;
    for (let d = 0; d < nd - 1; d++) base += index[d] * stride[d];
    if (innerStride === 1) {
      const from = base * elementSize;
      out.set(storage.subarray(from, from + inner * elementSize), o);
      o += inner * elementSize;
    } else {
      for (let j = 0; j < inner; j++) {
        const from = (base + j * innerStride) * elementSize;
        for (let b = 0; b < elementSize; b++) out[o++] = storage[from + b];
      }
    }
    // odometer over the outer dimensions
    for (let d = nd - 2; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** Reverse the bytes of every element in place (big-endian storages). */
export function swapBytes(bytes: Uint8Array, elementSize: number): void {
  if (elementSize === 1) return;
  for (let i = 0; i + elementSize <= bytes.length; i += elementSize) {
    for (let a = i, b = i + elementSize - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}
