/**
 * Property 2, batch = loop (decode): in one `decodeBatch` call over 1–8 code sequences of mixed lengths (random,
 * constant and real codes), every item's audio equals that sequence decoded alone within the relative-L2 gate, and
 * both are exactly the model's samples per code (320 for XCodec2). A shuffled order of the items is checked the same way.
 */
import { CI_SIZES, codeBatchSpecArb, describeCodes, renderCodes } from "../arbitraries.ts";
import { codecFacts, type ParityCodec } from "../codec_handle.ts";
import { relL2 } from "../metrics.ts";
import type { PropertyResult } from "../result.ts";
import { TOLERANCES } from "../tolerances.ts";
import { batchLoopProperty, type BatchPropertyOptions } from "./batch_loop.ts";

export const BATCH_DECODE = "2 batch=loop decode";

export function batchDecodeProperty(codec: ParityCodec, opts: BatchPropertyOptions): Promise<PropertyResult> {
  const sizes = opts.sizes ?? CI_SIZES;
  const hop = codecFacts(codec).decoderHop;
  return batchLoopProperty(
    {
      name: opts.name ?? BATCH_DECODE,
      errorMetric: "audio rel L2",
      arbitrary: codeBatchSpecArb(sizes, opts.sources),
      items: (spec) => spec.seqs,
      render: (seq) => renderCodes(seq, opts.sources),
      describe: (seq) => describeCodes(seq, opts.sources),
      label: (codes, i) => `sequence ${i}, ${codes.length} codes`,
      alone: async (codes, i) => {
        const [a] = await codec.decodeBatch([codes]);
        if (a.length === codes.length * hop) return a;
        return `sequence ${i} alone: ${a.length} samples for ${codes.length} codes, expected ${codes.length * hop}`;
      },
      batch: (seqs) => codec.decodeBatch(seqs),
      compare: ({ out, j, item, input, alone, where }, tally, fail) => {
        if (out[j].length !== input.length * hop) {
          return `${where}: ${out[j].length} samples, expected ${input.length * hop}`;
        }
        const e = relL2(out[j], alone);
        tally.error(e);
        tally.offerWorst({
          title: `${where}: ${describeCodes(item, opts.sources)}`,
          a: out[j],
          b: alone,
          aLabel: "batched",
          bLabel: "alone",
          error: e,
        });
        if (!(e <= TOLERANCES.batchDecodeRelL2)) {
          fail(`${where}: audio rel L2 ${e.toExponential(2)} > ${TOLERANCES.batchDecodeRelL2}`);
        }
        return undefined;
      },
    },
    sizes.maxBatch,
    opts,
  );
}
