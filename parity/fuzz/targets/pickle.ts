/**
 * PyTorch checkpoints: `pickle` mutates the pickle program (data.pkl) inside an otherwise valid torch zip; `zip`
 * mutates whole files (local headers, central directory, ZIP64 records, storages).
 */
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPickleCheckpoint, PickleError, ZipReader } from "../../../convert/mod.ts";
import { lightningCkpt, stateDictBin, type TensorData, viewsCheckpoint } from "../../../fixtures/pickle/checkpoints.ts";
import { writeTorchZip } from "../../../fixtures/pickle/torch_zip.ts";
import { type FuzzInput, type FuzzTarget, readEveryTensor } from "../harness.ts";
import { applyMutations, mutatedBytes, mutationArb } from "../mutate.ts";

const SMALL: TensorData[] = [
  { name: "enc.weight", dtype: "F32", shape: [2, 3], data: Uint8Array.from({ length: 24 }, (_, i) => i) },
  { name: "enc.bias", dtype: "F16", shape: [3], data: Uint8Array.from({ length: 6 }, (_, i) => 100 + i) },
  { name: "steps", dtype: "I64", shape: [], data: new Uint8Array(8).fill(1) },
];

function corpus(): Array<{ name: string; bytes: Uint8Array }> {
  return [
    { name: "views.pt", bytes: viewsCheckpoint().bytes },
    { name: "views64.pt", bytes: viewsCheckpoint({ zip64: true, bigEndian: true }).bytes },
    { name: "plain.bin", bytes: stateDictBin(SMALL, { dataDescriptor: false, prefix: "pytorch_model" }) },
    { name: "last.ckpt", bytes: lightningCkpt(SMALL) },
  ];
}

async function run(path: string): Promise<void> {
  await readEveryTensor(await openPickleCheckpoint(path), path);
}

/** Opcode bytes worth splicing into a pickle (every implemented one, some refused ones, a few unknown). */
const OPCODES = [
  0x28,
  0x2e,
  0x30,
  0x31,
  0x32,
  0x4a,
  0x4b,
  0x4d,
  0x4e,
  0x51,
  0x52,
  0x58,
  0x61,
  0x62,
  0x63,
  0x64,
  0x7d,
  0x65,
  0x68,
  0x69,
  0x6a,
  0x6c,
  0x5d,
  0x71,
  0x72,
  0x73,
  0x74,
  0x29,
  0x75,
  0x47,
  0x80,
  0x81,
  0x85,
  0x86,
  0x87,
  0x88,
  0x89,
  0x8a,
  0x8b,
  0x42,
  0x43,
  0x8c,
  0x8d,
  0x8e,
  0x8f,
  0x90,
  0x91,
  0x92,
  0x93,
  0x94,
  0x95,
  0x96,
  0x97,
  0x00,
  0xff,
  0x82,
];

export const pickleTarget: FuzzTarget = {
  name: "pickle",
  description:
    "convert/pickle unpickler: mutated data.pkl programs (opcodes, lengths, memo indices) in a valid torch zip",
  typedErrors: [PickleError],
  async prepare(): Promise<fc.Arbitrary<FuzzInput>> {
    // split each corpus file into its entries so the pickle can be mutated and re-zipped with valid CRCs
    const dir = mkdtempSync(join(tmpdir(), "xcodec2-fuzz-pickle-corpus-"));
    const bases: Array<{ name: string; entries: Array<[string, Uint8Array]> }> = [];
    try {
      for (const c of corpus()) {
        const p = join(dir, c.name);
        writeFileSync(p, c.bytes);
        const zip = await ZipReader.open(p);
        const entries: Array<[string, Uint8Array]> = [];
        for (const name of zip.names) entries.push([name, await zip.read(zip.entries.get(name)!)]);
        await zip.close();
        bases.push({ name: c.name, entries });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const splice = fc.record({
      at: fc.nat(),
      op: fc.constantFrom(...OPCODES),
      arg: fc.uint8Array({ maxLength: 9 }),
    });
    return fc
      .record({
        base: fc.nat({ max: bases.length - 1 }),
        mutations: fc.array(mutationArb(1 << 20), { maxLength: 4 }),
        splices: fc.array(splice, { maxLength: 3 }),
      })
      .map(({ base, mutations, splices }) => {
        const b = bases[base];
        const entries = b.entries.map(([n, d]): [string, Uint8Array] => {
          if (!n.endsWith("/data.pkl")) return [n, d];
          let pkl = applyMutations(d, mutations);
          for (const s of splices) {
            const at = s.at % (pkl.length + 1);
            pkl = Uint8Array.from([...pkl.subarray(0, at), s.op, ...s.arg, ...pkl.subarray(at)]);
          }
          return [n, pkl];
        });
        return { name: b.name, bytes: writeTorchZip(entries) };
      });
  },
  run,
};

export const zipTarget: FuzzTarget = {
  name: "zip",
  description:
    "convert/pickle zip container: byte mutations of whole torch zips (headers, central directory, ZIP64, data)",
  typedErrors: [PickleError],
  prepare(): fc.Arbitrary<FuzzInput> {
    return mutatedBytes(corpus(), { headBytes: 160 });
  },
  run,
};
