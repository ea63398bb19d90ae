/**
 * Test support: read tensors from the reference safetensors files in fixtures/reference/ (8-byte LE header length,
 * JSON header, data block). Deliberately minimal and independent of the converter's reader so the feature tests do
 * not depend on another package's code.
 */
import { readFileSync } from "node:fs";

export interface ReferenceTensor {
  dtype: string;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

export function readReferenceTensors(path: string): Map<string, ReferenceTensor> {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLength;
  const out = new Map<string, ReferenceTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const [b, e] = info.data_offsets;
    // Copy so the typed array is aligned regardless of where the data block starts (Buffer.slice would be a view).
    const buf = new Uint8Array(bytes.subarray(base + b, base + e)).buffer;
    const data =
      info.dtype === "F32" ? new Float32Array(buf)
      : info.dtype === "I32" ? new Int32Array(buf)
      : info.dtype === "I64" ? new BigInt64Array(buf)
      : undefined;
    if (data === undefined) continue;
    out.set(name, { dtype: info.dtype, shape: info.shape, data });
  }
  return out;
}
