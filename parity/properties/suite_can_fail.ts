/**
 * Property 6, the suite can fail: properties 1 and 2, run against a codec whose graphs were exported WITHOUT masks
 * (upstream's leaking batches), must each find a counterexample. This property passes when both of them fail; if
 * either passes on the mask-free graphs, the batch properties are too weak to catch the bug they exist for.
 */
import type { ParityCodec } from "../codec_handle.ts";
import type { PropertyResult } from "../result.ts";
import { batchDecodeProperty } from "./batch_decode.ts";
import { batchEncodeProperty } from "./batch_encode.ts";
import type { BatchPropertyOptions } from "./batch_loop.ts";

export const SUITE_CAN_FAIL = "6 suite can fail (mask-free export)";

export async function suiteCanFailProperty(maskFree: ParityCodec, opts: BatchPropertyOptions): Promise<PropertyResult> {
  const t0 = performance.now();
  const enc = await batchEncodeProperty(maskFree, { ...opts, name: "1 on mask-free export" });
  const dec = await batchDecodeProperty(maskFree, { ...opts, name: "2 on mask-free export" });
  const caught = [enc, dec].filter((r) => r.status === "fail" && r.counterexample !== undefined);
  const missed = [enc, dec].filter((r) => !caught.includes(r));
  return {
    name: SUITE_CAN_FAIL,
    status: missed.length === 0 ? "pass" : "fail",
    cases: enc.cases + dec.cases,
    // a failure here is a batch property that did NOT find the leak
    failures: missed.length,
    maxError: dec.maxError,
    errorMetric: "audio rel L2 (mask-free batch)",
    codeAgreement: enc.codeAgreement,
    ties: enc.ties + dec.ties,
    seed: opts.seed,
    counterexample: caught.map((r) => `${r.name}: ${r.counterexample}`).join(" | ") || undefined,
    reason: missed.length
      ? `${missed.map((r) => r.name).join(" and ")} found no counterexample on the mask-free export in ${
        missed.map((r) => r.cases).join("/")
      } cases`
      : caught.map((r) => `${r.name}: ${r.reason}`).join(" | "),
    seconds: (performance.now() - t0) / 1000,
    worst: dec.worst,
    details: { encode: strip(enc), decode: strip(dec) },
  };
}

function strip(r: PropertyResult) {
  const { worst: _w, ...rest } = r;
  return rest;
}
