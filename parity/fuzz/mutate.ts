/**
 * Byte-level mutations of valid inputs, as fast-check arbitraries: bit flips, interesting integers written over
 * length/offset fields, truncation, insertion, deletion and duplication. Positions are drawn relative to the head,
 * the tail (where zip directories live) or anywhere in the input, so headers get most of the attention.
 */

import fc from "fast-check";

export type Region = "head" | "tail" | "any";

export interface Position {
  region: Region;
  n: number;
}

export type Mutation =
  | { kind: "flip"; at: Position; bit: number }
  | { kind: "set"; at: Position; value: number }
  | { kind: "int"; at: Position; width: 1 | 2 | 4 | 8; value: bigint; bigEndian: boolean }
  | { kind: "truncate"; at: Position }
  | { kind: "insert"; at: Position; bytes: Uint8Array }
  | { kind: "delete"; at: Position; length: number }
  | { kind: "duplicate"; at: Position; length: number; to: Position };

/** Values that break length and offset arithmetic. */
export const INTERESTING = [
  0n,
  1n,
  2n,
  7n,
  8n,
  0x7fn,
  0x80n,
  0xffn,
  0x100n,
  0x7fffn,
  0x8000n,
  0xffffn,
  0x10000n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n,
];

const position = (headBytes: number): fc.Arbitrary<Position> =>
  fc.record({
    region: fc.constantFrom<Region>("head", "head", "tail", "any"),
    n: fc.nat({ max: 1 << 30 }),
  }).map((p) => (p.region === "head" ? { ...p, n: p.n % headBytes } : p));

export function mutationArb(headBytes = 256): fc.Arbitrary<Mutation> {
  const at = position(headBytes);
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("flip" as const), at, bit: fc.nat({ max: 7 }) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("set" as const),
        at,
        value: fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x20, 0x30),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("int" as const),
        at,
        width: fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 4, 8),
        value: fc.oneof(fc.constantFrom(...INTERESTING), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
        bigEndian: fc.boolean(),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("insert" as const),
        at,
        bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant("delete" as const), at, length: fc.integer({ min: 1, max: 64 }) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("duplicate" as const),
        at,
        length: fc.integer({ min: 1, max: 64 }),
        to: at,
      }),
    },
  );
}

function resolve(p: Position, length: number): number {
  if (length === 0) return 0;
  if (p.region === "tail") return Math.max(0, length - 1 - (p.n % Math.min(length, 256)));
  return p.n % length;
}

export function applyMutation(input: Uint8Array, m: Mutation): Uint8Array {
  const at = resolve(m.at, input.length);
  switch (m.kind) {
    case "flip": {
      if (input.length === 0) return input;
      const out = input.slice();
      out[at] ^= 1 << m.bit;
      return out;
    }
    case "set": {
      if (input.length === 0) return input;
      const out = input.slice();
      out[at] = m.value;
      return out;
    }
    case "int": {
      const out = input.slice();
      for (let i = 0; i < m.width && at + i < out.length; i++) {
        const shift = BigInt(8 * (m.bigEndian ? m.width - 1 - i : i));
        out[at + i] = Number((m.value >> shift) & 0xffn);
      }
      return out;
    }
    case "truncate":
      return input.slice(0, at);
    case "insert": {
      const out = new Uint8Array(input.length + m.bytes.length);
      out.set(input.subarray(0, at));
      out.set(m.bytes, at);
      out.set(input.subarray(at), at + m.bytes.length);
      return out;
    }
    case "delete": {
      const out = new Uint8Array(input.length - Math.min(m.length, input.length - at));
      out.set(input.subarray(0, at));
      out.set(input.subarray(at + m.length), at);
      return out;
    }
    case "duplicate": {
      const piece = input.slice(at, at + m.length);
      const to = resolve(m.to, input.length);
      const out = new Uint8Array(input.length + piece.length);
      out.set(input.subarray(0, to));
      out.set(piece, to);
      out.set(input.subarray(to), to + piece.length);
      return out;
    }
  }
}

export function applyMutations(input: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  return ms.reduce(applyMutation, input);
}

/** A valid input from `corpus`, then 1..maxMutations mutations (sometimes none: the valid file must pass too). */
export function mutatedBytes(
  corpus: ReadonlyArray<{ name: string; bytes: Uint8Array }>,
  opts: { headBytes?: number; maxMutations?: number } = {},
): fc.Arbitrary<{ name: string; bytes: Uint8Array }> {
  return fc
    .record({
      base: fc.nat({ max: corpus.length - 1 }),
      mutations: fc.array(mutationArb(opts.headBytes), { minLength: 0, maxLength: opts.maxMutations ?? 6 }),
    })
    .map(({ base, mutations }) => ({
      name: corpus[base].name,
      bytes: applyMutations(corpus[base].bytes, mutations),
    }));
}
