/**
 * Float conversions between the safetensors float dtypes, with IEEE round-to-nearest-even on narrowing (the rounding
 * torch's `.to(torch.float16 / torch.bfloat16)` uses). All data is little-endian; typed arrays here assume a
 * little-endian host, as every platform Node, Bun and Deno run on is.
 */
import type { DType } from "./tensor_source.ts";

export type FloatDType = "F64" | "F32" | "F16" | "BF16";
export const FLOAT_DTYPES: readonly FloatDType[] = ["F64", "F32", "F16", "BF16"];

export function isFloatDType(d: DType): d is FloatDType {
  return (FLOAT_DTYPES as readonly string[]).includes(d);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** float32 bits → float16 bits, round to nearest even (overflow → ±Inf, NaN kept quiet). */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const man = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 | (man >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const full = man | 0x800000; // implicit bit
    const shift = 14 - e; // 24-bit significand → subnormal half
    const q = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return sign | (q + (rem > half || (rem === half && (q & 1)) ? 1 : 0));
  }
  const q = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  // carry out of the mantissa correctly bumps the exponent (up to Inf)
  return sign | (q + (rem > 0x1000 || (rem === 0x1000 && (q & 1)) ? 1 : 0));
}

/** float32 bits → bfloat16 bits, round to nearest even (NaN kept quiet). */
export function f32BitsToBf16(b: number): number {
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff)) return ((b >>> 16) | 0x40) & 0xffff;
  const rounding = 0x7fff + ((b >>> 16) & 1);
  return ((b + rounding) >>> 16) & 0xffff;
}

/**
 * Decodes any float tensor to float32 values (F64 is rounded to nearest). An aligned F32 input is returned as a view
 * of the same memory (no copy): callers that write into the result write into `data`.
 */
export function toFloat32(data: Uint8Array, dtype: FloatDType): Float32Array {
  const n = data.byteLength / BYTES[dtype];
  switch (dtype) {
    case "F32":
      return new Float32Array(...aligned(data, 4), n);
    case "F64":
      return Float32Array.from(new Float64Array(...aligned(data, 8), n));
    case "F16": {
      const h = new Uint16Array(...aligned(data, 2), n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = f16ToF32(h[i]!);
      return out;
    }
    case "BF16": {
      const h = new Uint16Array(...aligned(data, 2), n);
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = h[i]! << 16;
      return new Float32Array(out.buffer);
    }
  }
}

/** Encodes float32 values in the target float dtype. */
export function fromFloat32(values: Float32Array, dtype: FloatDType): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case "F32":
      return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    case "F64":
      return new Uint8Array(Float64Array.from(values).buffer);
    case "F16":
      return new Uint8Array(toFloat16Bits(values).buffer);
    case "BF16": {
      const bits = new Uint32Array(values.buffer, values.byteOffset, n);
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = f32BitsToBf16(bits[i]!);
      return new Uint8Array(out.buffer);
    }
  }
}

/** float32 values → float16 bits, each rounded to nearest even (the graphs' fp16 initializers). */
export function toFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i]!);
  return out;
}

/** Casts a float tensor's bytes; identical dtypes return the input untouched (bit-exact pass-through). */
export function castFloat(data: Uint8Array, from: FloatDType, to: FloatDType): Uint8Array {
  if (from === to) return data;
  if (from === "F64" && to !== "F32") {
    // F64 → F16/BF16 must round once, not twice: go through float32 only where that is exact enough (it is not in
    // general), so round directly from the double value via a float32 that is nudged with round-to-odd.
    const d = new Float64Array(...aligned(data, 8), data.byteLength / 8);
    const f = new Float32Array(d.length);
    for (let i = 0; i < d.length; i++) f[i] = roundToOddF32(d[i]!);
    return fromFloat32(f, to);
  }
  return fromFloat32(toFloat32(data, from), to);
}

/** float64 → float32 with round-to-odd, so that a second rounding to a narrower format is correctly rounded. */
function roundToOddF32(x: number): number {
  const r = Math.fround(x);
  if (r === x || !Number.isFinite(r)) return r;
  f32[0] = r;
  if ((u32[0]! & 1) === 0) {
    // r is "even": step one ulp towards x to make it odd (x lies strictly between r and that neighbour)
    u32[0] = x > r === r > 0 ? u32[0]! + 1 : u32[0]! - 1;
    if (r === 0) u32[0] = (x > 0 ? 0 : 0x80000000) | 1;
  }
  return f32[0];
}

const BYTES: Record<FloatDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

/** Typed-array views need offsets aligned to the element size: a view of `data` where it is, else of a copy. */
function aligned(data: Uint8Array, elementBytes: number): [ArrayBufferLike, number] {
  return data.byteOffset % elementBytes === 0 ? [data.buffer, data.byteOffset] : [data.slice().buffer, 0];
}
