/**
 * Property 4, runtime = upstream: on every single-clip reference case of the checkpoint's variant, our features,
 * FSQ inputs, codes, latents and audio match upstream's tensors:
 *   features within 1e-4 absolute (3e-4 for noise); FSQ input and latents within 1e-5 relative L2;
 *   codes exact except upstream's `fsq_fragile_frames_1e-4` (and our own tie frames, counted);
 *   audio decoded from UPSTREAM's codes within 1e-5 absolute (so a tie flip does not spill into the audio check).
 * `maxError` is the worst error divided by its gate (≤ 1 passes), so one column covers the different units.
 */
import { extractFeatures } from "../../runtime/features/mod.ts";
import type { ParityCodec } from "../codec_handle.ts";
import { tieFrames } from "../fsq_ties.ts";
import { maxAbsDiff, relL2 } from "../metrics.ts";
import { readCaseTensors, readReferenceClip, type ReferenceIndex } from "../reference.ts";
import { fromTally, notRun, type PropertyResult, Tally } from "../result.ts";
import { featureTolerance, TOLERANCES } from "../tolerances.ts";

export const RUNTIME_UPSTREAM = "4 runtime=upstream";
const METRIC = "worst error ÷ gate";

export interface RuntimeUpstreamOptions {
  seed: number;
  index: ReferenceIndex;
  variant: string;
}

export async function runtimeUpstreamProperty(
  codec: ParityCodec,
  opts: RuntimeUpstreamOptions,
): Promise<PropertyResult> {
  const t0 = performance.now();
  const keys = Object.keys(opts.index.cases).filter((k) =>
    opts.index.cases[k].kind === "single" && opts.index.cases[k].variant === opts.variant
  );
  if (!keys.length) {
    return notRun(RUNTIME_UPSTREAM, `no reference cases for variant ${opts.variant}`, opts.seed, METRIC);
  }
  const tally = new Tally();
  const perClip: Record<string, Record<string, number | number[]>>[] = [];
  const problems: string[] = [];
  const levels = codec.config.quantization_levels;
  for (const key of keys) {
    const c = opts.index.cases[key];
    const clipName = c.clips[0];
    const kind = opts.index.clips[clipName]?.kind ?? "speech";
    const audio = await readReferenceClip(opts.index, clipName);
    const ref = await readCaseTensors(opts.index, key);
    const get = (n: string) => ref.tensor(n).data;
    const fails: string[] = [];
    const gate = (what: string, err: number, tol: number) => {
      tally.error(err / tol);
      if (!(err <= tol)) fails.push(`${what} ${err.toExponential(2)} > ${tol}`);
      return err;
    };
    const figures: Record<string, number | number[]> = {};
    figures.featuresMaxAbs = gate(
      "features max abs",
      maxAbsDiff(extractFeatures(audio).features, get("fe.input_features")),
      featureTolerance(kind),
    );
    const enc = await codec.encodeBatch([audio]);
    if (enc.fsqInput[0].length) {
      figures.fsqInputRelL2 = gate(
        "FSQ input rel L2",
        relL2(enc.fsqInput[0], get("enc.fsq_input")),
        TOLERANCES.latentsRelL2,
      );
    }
    figures.latentsRelL2 = gate("latents rel L2", relL2(enc.latents[0], get("enc.latents")), TOLERANCES.latentsRelL2);
    const refCodes = get("enc.audio_codes") as Int32Array;
    const fragile = new Set([
      ...(c["fsq_fragile_frames_1e-4"] ?? []),
      ...tieFrames(enc.fsqInput[0], levels, TOLERANCES.fsqTieMargin),
    ]);
    tally.ties += fragile.size;
    let equal = 0;
    const flipped: number[] = [], wrong: number[] = [];
    if (enc.codes[0].length !== refCodes.length) {
      fails.push(`${enc.codes[0].length} codes, upstream has ${refCodes.length}`);
    }
    for (let t = 0; t < Math.min(refCodes.length, enc.codes[0].length); t++) {
      if (enc.codes[0][t] === refCodes[t]) equal++;
      else (fragile.has(t) ? flipped : wrong).push(t);
    }
    tally.codes(refCodes.length, equal);
    if (wrong.length) fails.push(`codes differ at non-fragile frame(s) ${wrong.slice(0, 5).join(", ")}`);
    figures.tieFlips = flipped;
    const [decoded] = await codec.decodeBatch([refCodes]);
    const refAudio = get("dec.audio_values") as Float32Array;
    figures.audioMaxAbs = gate("audio max abs", maxAbsDiff(decoded, refAudio), TOLERANCES.audioAbs);
    tally.offerWorst({
      title: `${clipName}: audio from upstream's codes`,
      a: decoded,
      b: refAudio,
      aLabel: "ours",
      bLabel: "upstream",
      error: figures.audioMaxAbs as number,
      metric: "audio max |Δ|",
    });
    tally.cases++;
    if (fails.length) {
      tally.failures++;
      problems.push(`${clipName}: ${fails.join("; ")}`);
    }
    perClip.push({ [clipName]: figures });
  }
  return fromTally(RUNTIME_UPSTREAM, tally, opts.seed, METRIC, {
    seconds: (performance.now() - t0) / 1000,
    reason: problems.length ? problems.join(" | ") : undefined,
    counterexample: problems[0],
    details: { perClip },
  });
}
