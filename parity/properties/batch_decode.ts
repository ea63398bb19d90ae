/**
 * Property 2, batch = loop (decode): in one `decodeBatch` call over 1–8 code sequences of mixed lengths (random,
 * constant and real codes), every item's audio equals that sequence decoded alone within the relative-L2 gate, and
 * both are exactly HOP_LENGTH samples per code. A shuffled order of the items is checked the same way.
 */
import { HOP_LENGTH } from "../../convert/mod.ts";
import {
  batchRuns,
  CI_SIZES,
  type CodeBatchSpec,
  codeBatchSpecArb,
  describeBatch,
  describeCodes,
  renderCodes,
} from "../arbitraries.ts";
import type { ParityCodec } from "../codec_handle.ts";
import { runFcProperty } from "../fc_runner.ts";
import { relL2 } from "../metrics.ts";
import type { PropertyResult } from "../result.ts";
import { TOLERANCES } from "../tolerances.ts";
import type { BatchPropertyOptions } from "./batch_encode.ts";

export const BATCH_DECODE = "2 batch=loop decode";

export function batchDecodeProperty(codec: ParityCodec, opts: BatchPropertyOptions): Promise<PropertyResult> {
  const sizes = opts.sizes ?? CI_SIZES;
  const describe = (spec: CodeBatchSpec) =>
    describeBatch(spec, spec.seqs.length, sizes.maxBatch, (i) => describeCodes(spec.seqs[i], opts.sources));
  return runFcProperty(
    opts.name ?? BATCH_DECODE,
    "audio rel L2",
    codeBatchSpecArb(sizes, opts.sources),
    async (spec, tally) => {
      const seqs = spec.seqs.map((s) => renderCodes(s, opts.sources));
      const { items, runs } = batchRuns(spec, seqs.length, sizes.maxBatch);
      const alone: Float32Array[] = [];
      for (const [i, s] of seqs.entries()) {
        const [a] = await codec.decodeBatch([s]);
        if (a.length !== s.length * HOP_LENGTH) {
          return {
            ok: false,
            why: `sequence ${i} alone: ${a.length} samples for ${s.length} codes, expected ${s.length * HOP_LENGTH}`,
          };
        }
        alone.push(a);
      }
      let failure: string | undefined;
      for (const { name, order } of runs) {
        const out = await codec.decodeBatch(order.map((j) => seqs[items[j]]));
        for (let j = 0; j < order.length; j++) {
          const s = items[order[j]];
          const where = `${name} item ${j} (sequence ${s}, ${seqs[s].length} codes)`;
          if (out[j].length !== seqs[s].length * HOP_LENGTH) {
            return {
              ok: false,
              why: `${where}: ${out[j].length} samples, expected ${seqs[s].length * HOP_LENGTH}`,
            };
          }
          const e = relL2(out[j], alone[s]);
          tally.error(e);
          tally.offerWorst({
            title: `${where}: ${describeCodes(spec.seqs[s], opts.sources)}`,
            a: out[j],
            b: alone[s],
            aLabel: "batched",
            bLabel: "alone",
            error: e,
          });
          if (!(e <= TOLERANCES.batchDecodeRelL2) && !failure) {
            failure = `${where}: audio rel L2 ${e.toExponential(2)} > ${TOLERANCES.batchDecodeRelL2}`;
          }
        }
      }
      return failure ? { ok: false, why: failure } : { ok: true };
    },
    describe,
    opts,
  );
}
