/**
 * Property 1, batch = loop (encode): in one `encodeBatch` call over 1–8 clips of any length, every item's codes equal
 * the codes of that clip encoded alone, and a shuffled order of the same items (duplicates included) changes nothing.
 * Codes must match exactly except on tie frames (an FSQ value within the tie margin of x.5 in either run); those are
 * counted in `ties`. `maxError` is the largest |Δ| of the FSQ input (before the bound) between batch and alone.
 */
import { codesForClip, minClipSamples, type ModelFacts, XCODEC2_FACTS } from "../../convert/mod.ts";
import { batchSpecArb, CI_SIZES, describeClip, renderClip } from "../arbitraries.ts";
import { codecFacts, type ParityCodec } from "../codec_handle.ts";
import { maxAbsDiff } from "../metrics.ts";
import type { PropertyResult, Tally } from "../result.ts";
import { tieFrames } from "../fsq_ties.ts";
import { TOLERANCES } from "../tolerances.ts";
import { batchLoopProperty, type BatchPropertyOptions } from "./batch_loop.ts";

export const BATCH_ENCODE = "1 batch=loop encode";

/** Compares one batched item with the same clip alone; returns why it differs, or undefined. */
export function compareEncoded(
  batched: { codes: Int32Array; fsqInput: Float32Array },
  alone: { codes: Int32Array; fsqInput: Float32Array },
  samples: number,
  levels: readonly number[],
  tally: Tally,
  recordFsqError = true,
  facts: ModelFacts = XCODEC2_FACTS,
): string | undefined {
  const k = codesForClip(facts, samples);
  if (alone.codes.length !== k) return `alone gave ${alone.codes.length} codes for ${samples} samples, expected ${k}`;
  if (batched.codes.length !== k) {
    return `batched gave ${batched.codes.length} codes for ${samples} samples, expected ${k}`;
  }
  const ties = new Set([
    ...tieFrames(alone.fsqInput, levels, TOLERANCES.fsqTieMargin),
    ...tieFrames(batched.fsqInput, levels, TOLERANCES.fsqTieMargin),
  ]);
  tally.ties += ties.size;
  let equal = 0;
  const bad: number[] = [];
  for (let t = 0; t < k; t++) {
    if (batched.codes[t] === alone.codes[t]) equal++;
    else if (!ties.has(t)) bad.push(t);
  }
  tally.codes(k, equal);
  if (recordFsqError && batched.fsqInput.length && alone.fsqInput.length) {
    tally.error(maxAbsDiff(batched.fsqInput, alone.fsqInput));
  }
  if (bad.length) {
    return `codes differ at ${bad.length} non-tie frame(s) of ${k}, first at frame ${bad[0]} (${
      batched.codes[bad[0]]
    } batched vs ${alone.codes[bad[0]]} alone)`;
  }
  return undefined;
}

export function batchEncodeProperty(codec: ParityCodec, opts: BatchPropertyOptions): Promise<PropertyResult> {
  const facts = codecFacts(codec);
  const sizes = { ...(opts.sizes ?? CI_SIZES), minClipSamples: minClipSamples(facts) };
  const levels = codec.config.quantization_levels;
  return batchLoopProperty(
    {
      name: opts.name ?? BATCH_ENCODE,
      errorMetric: "FSQ input max |Δ|",
      arbitrary: batchSpecArb(sizes, opts.sources),
      items: (spec) => spec.clips,
      render: (clip) => renderClip(clip, opts.sources),
      describe: (clip) => describeClip(clip, opts.sources),
      label: (clip, i) => `clip ${i}, ${clip.length} samples`,
      alone: (clip) => codec.encodeBatch([clip]),
      batch: (clips) => codec.encodeBatch(clips),
      compare: ({ out, j, input, alone, where }, tally) => {
        const why = compareEncoded(
          { codes: out.codes[j], fsqInput: out.fsqInput[j] },
          { codes: alone.codes[0], fsqInput: alone.fsqInput[0] },
          input.length,
          levels,
          tally,
          true,
          facts,
        );
        return why && `${where}: ${why}`;
      },
    },
    sizes.maxBatch,
    opts,
  );
}
