/** Codes files (.npy, .jsonl, .safetensors): byte mutations and JSON-line edits. */
import fc from "fast-check";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SafetensorsError } from "../../../convert/mod.ts";
import { CodesFileError, encodeNpyInt32, readCodesFile, writeCodesFile } from "../../../runtime/codes_io.ts";
import type { FuzzInput, FuzzTarget } from "../harness.ts";
import { mutatedBytes } from "../mutate.ts";

const ITEMS = [
  { name: "a", codes: Int32Array.from([0, 1, 65535, 1234, 7]), samples: 1500 },
  { name: "b", codes: Int32Array.from([42, 43]), samples: 640 },
];

const JSONL_LINES = [
  '{"name":"a","samples":1500,"codes":[0,1,65535]}',
  '{"name":"b","samples":null,"codes":[]}',
  '{"name":"c","codes":[1e30]}',
  '{"name":"d","codes":"123"}',
  '{"codes":[-1,2147483648]}',
  '{"name":"e","samples":-5,"codes":[3.5]}',
  "[1,2,3]",
  "null",
  '{"name":{"x":1},"codes":[1]}',
];

export const codesTarget: FuzzTarget = {
  name: "codes",
  description: "runtime/codes_io readCodesFile: mutated .npy / .jsonl / .safetensors codes files",
  typedErrors: [CodesFileError, SafetensorsError],
  async prepare(): Promise<fc.Arbitrary<FuzzInput>> {
    const dir = mkdtempSync(join(tmpdir(), "xcodec2-fuzz-codes-corpus-"));
    let st: Uint8Array;
    let jsonl: Uint8Array;
    try {
      await writeCodesFile(join(dir, "c.safetensors"), ITEMS);
      await writeCodesFile(join(dir, "c.jsonl"), ITEMS);
      st = new Uint8Array(readFileSync(join(dir, "c.safetensors")));
      jsonl = new Uint8Array(readFileSync(join(dir, "c.jsonl")));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const corpus = [
      { name: "codes.npy", bytes: encodeNpyInt32(ITEMS[0].codes) },
      { name: "codes.jsonl", bytes: jsonl },
      { name: "codes.safetensors", bytes: st },
    ];
    const lines = fc
      .array(fc.constantFrom(...JSONL_LINES), { minLength: 1, maxLength: 4 })
      .map((ls) => ({ name: "lines.jsonl", bytes: new TextEncoder().encode(ls.join("\n")) }));
    return fc.oneof({ weight: 4, arbitrary: mutatedBytes(corpus, { headBytes: 128 }) }, {
      weight: 1,
      arbitrary: lines,
    });
  },
  async run(path: string): Promise<void> {
    const items = await readCodesFile(path);
    for (const it of items) if (!(it.codes instanceof Int32Array)) throw new Error(`${path}: codes are not Int32Array`);
  },
};
