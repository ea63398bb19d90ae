/**
 * Raw little-endian tensor bytes ⇄ typed arrays. Floats decode with the converter's casts (an aligned F32 tensor is
 * viewed, not copied; unaligned file slices are copied first); integers are range-checked into int32.
 */
import { type DType, isFloatDType, toFloat32 } from "../convert/mod.ts";
import { Xcodec2Error } from "../common/errors.ts";

export class TensorDataError extends Xcodec2Error {
  constructor(readonly tensor: string, message: string) {
    super(`${tensor}: ${message}`);
  }
}

export function bytesToFloat32(bytes: Uint8Array, dtype: DType, name: string): Float32Array {
  if (!isFloatDType(dtype)) {
    throw new TensorDataError(name, `dtype ${dtype} where a float tensor (F32, F64, F16 or BF16) was expected`);
  }
  return toFloat32(bytes, dtype);
}

export function bytesToInt32(bytes: Uint8Array, dtype: DType, name: string): Int32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === "I32") {
    const out = new Int32Array(bytes.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = dv.getInt32(i * 4, true);
    return out;
  }
  if (dtype === "I64") {
    const out = new Int32Array(bytes.byteLength / 8);
    for (let i = 0; i < out.length; i++) {
      const v = dv.getBigInt64(i * 8, true);
      if (v < -(2n ** 31n) || v >= 2n ** 31n) throw new TensorDataError(name, `value ${v} at ${i} does not fit int32`);
      out[i] = Number(v);
    }
    return out;
  }
  throw new TensorDataError(name, `dtype ${dtype} where an integer tensor (I32 or I64) was expected`);
}

export function float32Bytes(a: Float32Array): Uint8Array {
  const out = new Uint8Array(a.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) dv.setFloat32(i * 4, a[i], true);
  return out;
}

export function int32Bytes(a: Int32Array): Uint8Array {
  const out = new Uint8Array(a.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) dv.setInt32(i * 4, a[i], true);
  return out;
}
