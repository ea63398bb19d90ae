/**
 * Property 5, device = device: the same clips through the WebGPU codec and the CPU codec give identical codes (tie
 * frames excepted and counted) and, decoded from the CPU's codes, audio within 1e-4 relative L2. `not-run` with the
 * reason when no WebGPU adapter is available.
 */
import fc from "fast-check";
import { CI_SIZES, clipSpecArb, describeClip, renderClip, type Sizes, type Sources } from "../arbitraries.ts";
import type { ParityCodec } from "../codec_handle.ts";
import { runFcProperty, type RunOptions } from "../fc_runner.ts";
import { relL2 } from "../metrics.ts";
import type { PropertyResult } from "../result.ts";
import { TOLERANCES } from "../tolerances.ts";
import { compareEncoded } from "./batch_encode.ts";
import { codecFacts } from "../codec_handle.ts";
import { minClipSamples } from "../../convert/mod.ts";

export const DEVICE = "5 device=device";

export function deviceProperty(
  gpu: ParityCodec,
  cpu: ParityCodec,
  opts: RunOptions & { sources: Sources; sizes?: Sizes },
): Promise<PropertyResult> {
  const facts = codecFacts(cpu);
  const sizes = { ...(opts.sizes ?? CI_SIZES), minClipSamples: minClipSamples(facts) };
  const arb = fc.array(clipSpecArb(sizes, opts.sources), { minLength: 1, maxLength: Math.min(4, sizes.maxBatch) });
  return runFcProperty(
    `${DEVICE} (${gpu.device} vs ${cpu.device})`,
    "audio rel L2",
    arb,
    async (specs, tally) => {
      const clips = specs.map((s) => renderClip(s, opts.sources));
      const [g, c] = [await gpu.encodeBatch(clips), await cpu.encodeBatch(clips)];
      for (let i = 0; i < clips.length; i++) {
        // codes only: this property's maxError is the audio figure, not the FSQ |Δ|
        const why = compareEncoded(
          { codes: g.codes[i], fsqInput: g.fsqInput[i] },
          { codes: c.codes[i], fsqInput: c.fsqInput[i] },
          clips[i].length,
          cpu.config.quantization_levels,
          tally,
          false,
          facts,
        );
        if (why) return { ok: false, why: `clip ${i}: ${gpu.device} vs ${cpu.device}: ${why}` };
      }
      const [ga, ca] = [await gpu.decodeBatch(c.codes), await cpu.decodeBatch(c.codes)];
      for (let i = 0; i < clips.length; i++) {
        const e = relL2(ga[i], ca[i]);
        tally.error(e);
        tally.offerWorst({
          title: `clip ${i}: ${describeClip(specs[i], opts.sources)}`,
          a: ga[i],
          b: ca[i],
          aLabel: gpu.device,
          bLabel: cpu.device,
          error: e,
        });
        if (!(e <= TOLERANCES.deviceAudioRelL2)) {
          return {
            ok: false,
            why: `clip ${i}: audio rel L2 ${e.toExponential(2)} > ${TOLERANCES.deviceAudioRelL2}`,
          };
        }
      }
      return { ok: true };
    },
    (specs) => specs.map((s) => describeClip(s, opts.sources)).join("; "),
    opts,
  );
}
