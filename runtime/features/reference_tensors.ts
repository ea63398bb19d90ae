/**
 * Test support: the reference tensors of one fixtures/reference safetensors file as typed arrays, read through the
 * project's strict safetensors reader (so the fixtures are validated like any other input).
 */
import { openSafetensors } from "../../convert/mod.ts";

export interface ReferenceTensor {
  dtype: string;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

export async function readReferenceTensors(path: string): Promise<Map<string, ReferenceTensor>> {
  const file = await openSafetensors(path);
  try {
    const out = new Map<string, ReferenceTensor>();
    for (const t of file.list()) {
      const make = { F32: Float32Array, I32: Int32Array, I64: BigInt64Array }[t.dtype as "F32" | "I32" | "I64"];
      if (!make) continue;
      // a copy, so the typed array is aligned wherever the tensor sits in the file
      out.set(t.name, { dtype: t.dtype, shape: t.shape, data: new make((await file.read(t.name)).slice().buffer) });
    }
    return out;
  } finally {
    await file.close();
  }
}
