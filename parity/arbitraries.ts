/**
 * fast-check generators for the batch properties. Values are small SPECS (kind, length, seed), rendered to samples
 * or codes on demand, so a shrunk counterexample prints as something a human can read and replay
 * ("speech from espeak_en@12000, 321 samples") rather than as 30,000 numbers.
 *
 * Lengths are biased towards the places where padding arithmetic breaks: 1 sample, and k·HOP−1, k·HOP, k·HOP+1.
 */
import fc from "fast-check";
import { HOP_LENGTH, SAMPLE_RATE } from "../convert/mod.ts";
import { gaussian, mulberry32, permutation } from "./prng.ts";

export type ClipKind = "speech" | "noise" | "silence" | "clipped" | "tone";

export interface ClipSpec {
  kind: ClipKind;
  /** samples, ≥ 1 */
  length: number;
  /** speech: which source clip; others: PRNG seed / tone frequency selector */
  source: number;
  /** speech: start offset into the source (wraps around) */
  offset: number;
  /** 0…1, scales the signal (speech, noise, tone) */
  gain: number;
}

export interface BatchSpec {
  /** distinct clips */
  clips: ClipSpec[];
  /** extra items that repeat clips[i % clips.length] */
  duplicates: number[];
  /** seed of the permutation applied in the second (shuffled) run */
  shuffle: number;
}

export type CodeSeqSpec =
  | { kind: "random"; length: number; seed: number }
  | { kind: "real"; length: number; source: number; offset: number }
  | { kind: "constant"; length: number; value: number };

export interface CodeBatchSpec {
  seqs: CodeSeqSpec[];
  duplicates: number[];
  shuffle: number;
}

/** What the generators draw from: real speech clips and real code sequences (reference `enc.audio_codes`). */
export interface Sources {
  speech: { name: string; samples: Float32Array }[];
  codes: { name: string; codes: Int32Array }[];
  /** number of distinct codes (65,536) */
  codebookSize: number;
}

/** Size limits: CI keeps them small, `xcodec2 parity --runs N` only changes how many cases are drawn. */
export interface Sizes {
  maxClipSamples: number;
  maxBatch: number;
  maxCodes: number;
  /** shortest code sequence drawn (default 1, the contract) */
  minCodes?: number;
}

export const CI_SIZES: Sizes = { maxClipSamples: 3 * SAMPLE_RATE, maxBatch: 8, maxCodes: 250 };

/** A length in [1, max], half the time near a multiple of HOP_LENGTH (±1), where padding is decided. */
export function lengthArb(max: number): fc.Arbitrary<number> {
  const hops = Math.max(1, Math.floor(max / HOP_LENGTH));
  const nearHop = fc.tuple(fc.integer({ min: 1, max: hops }), fc.integer({ min: -1, max: 1 }))
    .map(([k, d]) => Math.min(max, Math.max(1, k * HOP_LENGTH + d)));
  return fc.oneof(fc.integer({ min: 1, max }), nearHop, fc.integer({ min: 1, max: Math.min(max, 3 * HOP_LENGTH) }));
}

export function clipSpecArb(sizes: Sizes, sources: Sources): fc.Arbitrary<ClipSpec> {
  const kinds: ClipKind[] = sources.speech.length
    ? ["speech", "noise", "silence", "clipped", "tone"]
    : ["noise", "silence", "clipped", "tone"];
  return fc.record({
    kind: fc.constantFrom(...kinds),
    length: lengthArb(sizes.maxClipSamples),
    source: fc.nat({ max: 1 << 20 }),
    offset: fc.nat({ max: 1 << 20 }),
    gain: fc.double({ min: 0.05, max: 1, noNaN: true }),
  });
}

export function batchSpecArb(sizes: Sizes, sources: Sources): fc.Arbitrary<BatchSpec> {
  return fc.record({
    clips: fc.array(clipSpecArb(sizes, sources), { minLength: 1, maxLength: sizes.maxBatch }),
    duplicates: fc.array(fc.nat({ max: sizes.maxBatch - 1 }), { maxLength: Math.min(3, sizes.maxBatch - 1) }),
    shuffle: fc.nat(),
  });
}

export function codeSeqArb(sizes: Sizes, sources: Sources): fc.Arbitrary<CodeSeqSpec> {
  const min = Math.min(sizes.minCodes ?? 1, sizes.maxCodes);
  const length = fc.oneof(
    fc.integer({ min, max: sizes.maxCodes }),
    fc.integer({ min, max: Math.max(min, Math.min(8, sizes.maxCodes)) }),
  );
  const arbs: fc.Arbitrary<CodeSeqSpec>[] = [
    fc.record({ kind: fc.constant("random" as const), length, seed: fc.nat() }),
    fc.record({
      kind: fc.constant("constant" as const),
      length,
      value: fc.integer({ min: 0, max: sources.codebookSize - 1 }),
    }),
  ];
  if (sources.codes.length) {
    arbs.push(
      fc.record({
        kind: fc.constant("real" as const),
        length,
        source: fc.nat({ max: 1 << 20 }),
        offset: fc.nat({ max: 1 << 20 }),
      }),
    );
  }
  return fc.oneof(...arbs);
}

export function codeBatchSpecArb(sizes: Sizes, sources: Sources): fc.Arbitrary<CodeBatchSpec> {
  return fc.record({
    seqs: fc.array(codeSeqArb(sizes, sources), { minLength: 1, maxLength: sizes.maxBatch }),
    duplicates: fc.array(fc.nat({ max: sizes.maxBatch - 1 }), { maxLength: Math.min(3, sizes.maxBatch - 1) }),
    shuffle: fc.nat(),
  });
}

/** The samples of a clip spec (deterministic). */
export function renderClip(spec: ClipSpec, sources: Sources): Float32Array {
  const out = new Float32Array(spec.length);
  const n = spec.length;
  switch (spec.kind) {
    case "silence":
      break;
    case "speech": {
      if (!sources.speech.length) throw new Error("no speech sources to render a speech clip from");
      const src = sources.speech[spec.source % sources.speech.length].samples;
      const start = spec.offset % src.length;
      for (let i = 0; i < n; i++) out[i] = src[(start + i) % src.length] * spec.gain;
      break;
    }
    case "noise": {
      const g = gaussian(mulberry32(spec.source));
      for (let i = 0; i < n; i++) out[i] = Math.max(-1, Math.min(1, g() * 0.3 * spec.gain));
      break;
    }
    case "clipped": {
      // a loud tone driven into ±1: long runs of exactly ±1, as in clipped recordings
      const f = 80 + (spec.source % 400);
      for (let i = 0; i < n; i++) out[i] = Math.max(-1, Math.min(1, 8 * Math.sin((2 * Math.PI * f * i) / SAMPLE_RATE)));
      break;
    }
    case "tone": {
      const f = 50 + (spec.source % 7950);
      for (let i = 0; i < n; i++) {
        out[i] = spec.gain * 0.8 * Math.sin((2 * Math.PI * f * i) / SAMPLE_RATE + (spec.offset % 628) / 100);
      }
      break;
    }
  }
  return out;
}

export function renderCodes(spec: CodeSeqSpec, sources: Sources): Int32Array {
  const out = new Int32Array(spec.length);
  if (spec.kind === "constant") out.fill(spec.value);
  else if (spec.kind === "random") {
    const r = mulberry32(spec.seed);
    for (let i = 0; i < out.length; i++) out[i] = Math.floor(r() * sources.codebookSize);
  } else {
    const src = sources.codes[spec.source % sources.codes.length].codes;
    const start = spec.offset % src.length;
    for (let i = 0; i < out.length; i++) out[i] = src[(start + i) % src.length];
  }
  return out;
}

/** Items of a batch spec, as indices into its distinct clips: the clips, then the duplicates, at most maxBatch. */
export function batchItems(spec: { duplicates: number[] }, distinct: number, maxBatch: number): number[] {
  const items = Array.from({ length: distinct }, (_, i) => i);
  for (const d of spec.duplicates) items.push(d % distinct);
  return items.slice(0, Math.max(distinct, Math.min(items.length, maxBatch)));
}

/** The shuffled order used in the second run of a batch (a permutation of item positions). */
export function shuffledOrder(items: number, seed: number): number[] {
  return permutation(items, seed);
}

/** The item positions of one run of a batch: as drawn ("batch"), then shuffled ("shuffled batch"). */
export interface BatchRun {
  name: "batch" | "shuffled batch";
  /** run position j holds items[order[j]] */
  order: number[];
}

/** A batch spec's items (indices of distinct inputs, duplicates included) and the two runs every property makes. */
export function batchRuns(
  spec: { duplicates: number[]; shuffle: number },
  distinct: number,
  maxBatch: number,
): { items: number[]; runs: BatchRun[] } {
  const items = batchItems(spec, distinct, maxBatch);
  return {
    items,
    runs: [
      { name: "batch", order: items.map((_, j) => j) },
      { name: "shuffled batch", order: shuffledOrder(items.length, spec.shuffle) },
    ],
  };
}

/** A failing batch for the report: its items (as `describeItem` names them) and the shuffled run's order. */
export function describeBatch(
  spec: { duplicates: number[]; shuffle: number },
  distinct: number,
  maxBatch: number,
  describeItem: (i: number) => string,
): string {
  const items = batchItems(spec, distinct, maxBatch);
  return `batch of ${items.length} [${items.map(describeItem).join("; ")}], shuffle ${
    JSON.stringify(shuffledOrder(items.length, spec.shuffle))
  }`;
}

export function describeClip(spec: ClipSpec, sources: Sources): string {
  const what = spec.kind === "speech" && sources.speech.length
    ? `speech ${sources.speech[spec.source % sources.speech.length].name}@${
      spec.offset % sources.speech[spec.source % sources.speech.length].samples.length
    }`
    : spec.kind === "tone"
    ? `tone ${50 + (spec.source % 7950)} Hz`
    : spec.kind === "noise"
    ? `noise seed ${spec.source}`
    : spec.kind;
  return `${what} ×${spec.gain.toFixed(2)}, ${spec.length} samples`;
}

export function describeCodes(spec: CodeSeqSpec, sources: Sources): string {
  if (spec.kind === "random") return `random seed ${spec.seed}, ${spec.length} codes`;
  if (spec.kind === "constant") return `constant ${spec.value}, ${spec.length} codes`;
  const src = sources.codes[spec.source % sources.codes.length];
  return `real ${src.name}@${spec.offset % src.codes.length}, ${spec.length} codes`;
}
