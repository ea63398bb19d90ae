/** safetensors headers and bodies: JSON-level header mutations (dtypes, shapes, offsets, metadata) and byte mutations. */
import fc from "fast-check";
import { openSafetensors, SafetensorsError } from "../../../convert/mod.ts";
import { type FuzzInput, type FuzzTarget, readEveryTensor } from "../harness.ts";
import { applyMutations, INTERESTING, mutationArb } from "../mutate.ts";

type Header = Record<string, unknown>;

function file(header: Header, data: Uint8Array, headerText?: string): Uint8Array {
  const text = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

const CORPUS: Array<{ header: Header; data: Uint8Array }> = [
  {
    header: {
      __metadata__: { format: "pt" },
      "a.weight": { dtype: "F32", shape: [2, 3], data_offsets: [0, 24] },
      "a.bias": { dtype: "I64", shape: [2], data_offsets: [24, 40] },
      "b.scale": { dtype: "BF16", shape: [1, 1], data_offsets: [40, 42] },
      "c.flag": { dtype: "BOOL", shape: [], data_offsets: [42, 43] },
      "d.empty": { dtype: "F16", shape: [0, 4], data_offsets: [43, 43] },
    },
    data: Uint8Array.from({ length: 43 }, (_, i) => (i * 29) & 0xff),
  },
  { header: {}, data: new Uint8Array(0) },
  {
    header: {
      __metadata__: { names: '["x"]', format: "xcodec2-codes" },
      "0.codes": { dtype: "I32", shape: [5], data_offsets: [0, 20] },
    },
    data: Uint8Array.from({ length: 20 }, (_, i) => i),
  },
];

const WEIRD_VALUES: unknown[] = [
  null,
  true,
  "F32",
  "F33",
  "",
  -1,
  0,
  1,
  1.5,
  -0.5,
  1e20,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 31,
  2 ** 32,
  -(2 ** 31),
  [],
  [0],
  [1, 2],
  [-1, 4],
  [4, 0],
  [0, 1e18],
  [[1]],
  {},
  { a: 1 },
  "0",
  [2, 3, 4, 5, 6, 7, 8, 9, 10],
  Array(64).fill(2),
];

/** Edit one field of one entry (or the metadata) of a parsed header. */
const headerEdit = fc.record({
  entry: fc.nat(),
  field: fc.constantFrom("dtype", "shape", "data_offsets", "extra", "delete", "metadata", "rename"),
  value: fc.constantFrom(...WEIRD_VALUES),
  index: fc.nat({ max: 3 }),
});

function edit(h: Header, e: { entry: number; field: string; value: unknown; index: number }): Header {
  const out = structuredClone(h);
  const names = Object.keys(out);
  if (e.field === "metadata") {
    out.__metadata__ = e.index === 0 ? e.value : { key: e.value };
    return out;
  }
  if (names.length === 0) {
    out["new.tensor"] = { dtype: "F32", shape: [1], data_offsets: [0, 4] };
    return out;
  }
  const name = names[e.entry % names.length];
  if (e.field === "delete") {
    delete out[name];
    return out;
  }
  if (e.field === "rename") {
    out[String(e.value)] = out[name];
    delete out[name];
    return out;
  }
  const t = out[name] as Record<string, unknown>;
  if (!t || typeof t !== "object") {
    out[name] = e.value;
    return out;
  }
  if (e.field === "extra") {
    t[`x${e.index}`] = e.value;
  } else if (
    (e.field === "shape" || e.field === "data_offsets") && Array.isArray(t[e.field]) &&
    e.index < (t[e.field] as unknown[]).length
  ) {
    (t[e.field] as unknown[])[e.index] = e.value; // one element
  } else {
    t[e.field] = e.value;
  }
  return out;
}

export const safetensorsTarget: FuzzTarget = {
  name: "safetensors",
  description:
    "convert/safetensors openSafetensors: header JSON edits (dtype/shape/offsets/metadata), header length, byte mutations, truncation",
  typedErrors: [SafetensorsError],
  prepare(): fc.Arbitrary<FuzzInput> {
    return fc
      .record({
        base: fc.nat({ max: CORPUS.length - 1 }),
        edits: fc.array(headerEdit, { maxLength: 3 }),
        textTweak: fc.constantFrom("none", "none", "dupkey", "trailing-space", "bad-json", "not-object", "bom"),
        lengthDelta: fc.oneof({ weight: 6, arbitrary: fc.constant(0n) }, {
          weight: 1,
          arbitrary: fc.constantFrom(...INTERESTING),
        }),
        bytes: fc.array(mutationArb(96), { maxLength: 3 }),
      })
      .map(({ base, edits, textTweak, lengthDelta, bytes }) => {
        const c = CORPUS[base];
        let header = c.header;
        for (const e of edits) header = edit(header, e);
        let text = JSON.stringify(header);
        if (textTweak === "dupkey" && text.length > 2) text = text.replace(/^\{("[^"]*":\{[^}]*\})/, "{$1,$1");
        if (textTweak === "trailing-space") text += "        ";
        if (textTweak === "bad-json") text = text.slice(0, Math.max(1, text.length - 3));
        if (textTweak === "not-object") text = "[1,2,3]";
        if (textTweak === "bom") text = "\ufeff" + text;
        let b = file(header, c.data, text);
        if (lengthDelta !== 0n) new DataView(b.buffer).setBigUint64(0, lengthDelta, true);
        b = applyMutations(b, bytes);
        return { name: "model.safetensors", bytes: b };
      });
  },
  async run(path: string): Promise<void> {
    await readEveryTensor(await openSafetensors(path), path);
  },
};
