/**
 * Encode of clips of any length (the body of `Xcodec2.encodeDetailed`).
 *
 * A clip up to the single-pass limit is one job, its features extracted as they always were, so it gets exactly
 * today's codes. A longer clip is cut on the encode grid (windows.ts): each window runs on the clip's samples over
 * its input frames [from, to) and keeps the codes, latents and FSQ inputs of its centre [start, end). Code t covers
 * samples [320·t, 320·(t+1)) in both the acoustic encoder (total stride 320) and the semantic features (two 10 ms
 * fbank frames per encoder frame, centred by the HOP/2 edge padding in XCodec2's flavour, starting at sample 0 in
 * NeuCodec's; the 25TPS model pools two encoder frames per code, from frame 0), so a window starting at code `from`
 * gives codes aligned with the clip's. Its features are the whole clip's rows over its frames, normalised with the whole clip's statistics
 * (features/windowed.ts says why and what the alternative measured).
 *
 * Jobs are bucketed by length like clips always were, so windows of several clips and short clips may share one
 * onnxruntime call; the graphs' per-item masks make that invisible to each of them. Memory: a window's activations,
 * plus the fbank rows of a long clip (half the size of its float32 samples) while its windows run.
 */
import { collectGarbage } from "../common/collect.ts";
import { codesForClip, type ModelFacts } from "../convert/mod.ts";
import { planBuckets } from "./batching.ts";
import { type BatchFeatures, type ClipFeatures, extractFeatures } from "./features/mod.ts";
import { padFeatures } from "./features/extractor.ts";
import { ClipFeatureSource, type WindowNormalisation } from "./features/windowed.ts";
import type { EncodeResult } from "./types.ts";
import { type Window, type WindowGrid, windowsOf } from "./windows.ts";

export interface LongEncodeSettings {
  batchSize: number;
  maxBatchSamples: number;
  singlePassLimit: number;
  grid: WindowGrid;
  normalisation: WindowNormalisation;
  onProgress?: (doneCodes: number, totalCodes: number) => void;
}

/** Exactly one encoder call over prepared inputs (`Xcodec2.encodeFeatures`). */
export type EncodeCall = (features: BatchFeatures) => Promise<EncodeResult>;

interface Job {
  item: number;
  /** undefined: the whole clip in one pass */
  window?: Window;
  frames: number;
}

export async function encodeAnyLength(
  clips: Float32Array[],
  encodeFeatures: EncodeCall,
  facts: ModelFacts,
  s: LongEncodeSettings,
): Promise<EncodeResult> {
  const result: EncodeResult = {
    codes: new Array(clips.length),
    latents: new Array(clips.length),
    fsqInput: new Array(clips.length),
  };
  const jobs: Job[] = [];
  const sources = new Map<number, { source?: ClipFeatureSource; windowsLeft: number }>();
  let total = 0, done = 0;
  for (const [item, clip] of clips.entries()) {
    const frames = codesForClip(facts, clip.length);
    total += frames;
    if (frames <= s.singlePassLimit) {
      jobs.push({ item, frames });
      continue;
    }
    const windows = windowsOf(frames, s.grid);
    sources.set(item, { windowsLeft: windows.length });
    for (const window of windows) jobs.push({ item, window, frames: window.to - window.from });
  }

  /** a job's inputs, and the samples they hold */
  const features = ({ item, window }: Job): [ClipFeatures, number] => {
    const clip = clips[item];
    if (!window) return [extractFeatures(clip, item, facts), clip.length];
    const st = sources.get(item)!;
    st.source ??= new ClipFeatureSource(clip, item, facts); // the fbank pass, on the clip's first window
    return [st.source.window(window.from, window.to, s.normalisation), st.source.heldSamples(window.from, window.to)];
  };

  const perCode = facts.encoderHop * facts.codePooling;
  const buckets = planBuckets(jobs.map((j) => j.frames * perCode), s.batchSize, s.maxBatchSamples);
  for (const bucket of buckets) {
    const per = bucket.map((j) => features(jobs[j]));
    const r = await encodeFeatures(padFeatures(per.map((p) => p[0]), per.map((p) => p[1])));
    bucket.forEach((j, b) => {
      const { item, window } = jobs[j];
      if (!window) {
        result.codes[item] = r.codes[b];
        result.latents[item] = r.latents[b];
        result.fsqInput[item] = r.fsqInput[b];
        done += r.codes[b].length;
        return;
      }
      keepCentre(result, item, window, r, b, codesForClip(facts, clips[item].length));
      done += window.end - window.start;
      const st = sources.get(item)!;
      if (--st.windowsLeft === 0) sources.delete(item); // its fbank rows are no longer needed
    });
    // bounded memory needs the windows' garbage gone before the next one (common/collect.ts says why)
    if (bucket.some((j) => jobs[j].window)) collectGarbage();
    s.onProgress?.(done, total);
  }
  return result;
}

/** Copy window `w`'s centre from call result `r` (item b) into the clip's result, allocated on first use. */
function keepCentre(result: EncodeResult, item: number, w: Window, r: EncodeResult, b: number, T: number): void {
  const k = w.to - w.from, off = w.start - w.from, n = w.end - w.start;
  const Q = r.latents[b].length / k, D = r.fsqInput[b].length / k;
  result.codes[item] ??= new Int32Array(T);
  result.latents[item] ??= new Float32Array(Q * T);
  result.fsqInput[item] ??= new Float32Array(D * T);
  result.codes[item].set(r.codes[b].subarray(off, off + n), w.start);
  // latents are [Q, K] row-major: one row slice per latent channel
  for (let q = 0; q < Q; q++) {
    result.latents[item].set(r.latents[b].subarray(q * k + off, q * k + off + n), q * T + w.start);
  }
  result.fsqInput[item].set(r.fsqInput[b].subarray(off * D, (off + n) * D), w.start * D);
}
