/** Raw little-endian tensor bytes ⇄ typed arrays (copies, so unaligned file slices are fine). */
import type { DType } from "../convert/mod.ts";
import { Xcodec2Error } from "../common/errors.ts";

export class TensorDataError extends Xcodec2Error {
  constructor(readonly tensor: string, message: string) {
    super(`${tensor}: ${message}`);
  }
}

export function bytesToFloat32(bytes: Uint8Array, dtype: DType, name: string): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === "F32") {
    const out = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
    return out;
  }
  if (dtype === "F64") {
    const out = new Float32Array(bytes.byteLength / 8);
    for (let i = 0; i < out.length; i++) out[i] = dv.getFloat64(i * 8, true);
    return out;
  }
  throw new TensorDataError(name, `dtype ${dtype} where a float tensor (F32 or F64) was expected`);
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
