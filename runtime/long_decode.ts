/**
 * Decode of code sequences of any length (the body of `Xcodec2.decode`).
 *
 * Every sequence becomes one or more jobs: a sequence up to the single-pass limit is one job over all its codes
 * (exactly what `decode` always did), a longer one is one job per window of its grid (windows.ts). Jobs are bucketed
 * by length as items always were, so windows of several sequences, and short sequences, may share one onnxruntime
 * call; the graphs' per-item masks make every job's audio what it gives alone, so every sequence gets what it gets
 * when decoded alone. Windows are joined in order as they come back (a window that returns early waits for its
 * predecessors), straight into the sequence's output.
 *
 * `streaming: true` is the offline twin of `decodeStream`: every sequence on the stream's grid, one window per call,
 * in the stream's order, through the same joiner. A stream runs exactly those calls, so the two agree bit for bit
 * (onnxruntime's CPU kernels round differently with the batch shape, so batching windows here would break that).
 */
import { collectGarbage } from "../common/collect.ts";
import { planBuckets } from "./batching.ts";
import { type Window, type WindowGrid, WindowJoiner, windowsOf } from "./windows.ts";

export interface LongDecodeSettings {
  batchSize: number;
  maxBatchSamples: number;
  singlePassLimit: number;
  grid: WindowGrid;
  /** output samples per code (the codec's `facts.decoderHop`) */
  hop: number;
  /**
   * samples per code the batch budget (`maxBatchSamples`, input-rate samples) counts: the codec's input samples per
   * code, so that a budget means the same audio duration for every member whatever its output rate
   */
  budgetPerCode: number;
  streaming: boolean;
  onProgress?: (doneCodes: number, totalCodes: number) => void;
}

/** Exactly one decoder call over the given sequences (`Xcodec2.decodeBatch`). */
export type DecodeCall = (codes: Int32Array[]) => Promise<Float32Array[]>;

interface Job {
  item: number;
  /** undefined: the whole sequence in one pass */
  window?: Window;
  codes: Int32Array;
}

export async function decodeAnyLength(
  codes: Int32Array[],
  decodeBatch: DecodeCall,
  s: LongDecodeSettings,
): Promise<Float32Array[]> {
  const total = codes.reduce((a, c) => a + c.length, 0);
  let done = 0;
  // windowed sequences are joined into these; a single-pass one takes its call's output as it is
  const out: Float32Array[] = codes.map((c) =>
    new Float32Array(s.streaming || c.length > s.singlePassLimit ? c.length * s.hop : 0)
  );

  if (s.streaming) {
    for (const [item, c] of codes.entries()) {
      const joiner = new WindowJoiner(s.grid, s.hop);
      let at = 0;
      for (const w of windowsOf(c.length, s.grid)) {
        const [audio] = await decodeBatch([c.subarray(w.from, w.to)]);
        const piece = joiner.push(w, audio);
        out[item].set(piece, at);
        at += piece.length;
        collectGarbage(); // each window's garbage, before the next (common/collect.ts)
        s.onProgress?.(done += w.end - w.start, total);
      }
      out[item].set(joiner.finish(), at);
    }
    return out;
  }

  const jobs: Job[] = [];
  // per windowed item: its windows, its joiner, where its next piece goes, and windows back before their predecessors
  const joins = new Map<
    number,
    { windows: Window[]; joiner: WindowJoiner; at: number; next: number; early: Map<number, Float32Array> }
  >();
  for (const [item, c] of codes.entries()) {
    if (c.length <= s.singlePassLimit) {
      jobs.push({ item, codes: c });
      continue;
    }
    const windows = windowsOf(c.length, s.grid);
    joins.set(item, { windows, joiner: new WindowJoiner(s.grid, s.hop), at: 0, next: 0, early: new Map() });
    for (const window of windows) jobs.push({ item, window, codes: c.subarray(window.from, window.to) });
  }
  const buckets = planBuckets(jobs.map((j) => j.codes.length * s.budgetPerCode), s.batchSize, s.maxBatchSamples);
  for (const bucket of buckets) {
    const audio = await decodeBatch(bucket.map((j) => jobs[j].codes));
    bucket.forEach((j, b) => {
      const { item, window } = jobs[j];
      if (!window) {
        out[item] = audio[b];
        done += codes[item].length;
        return;
      }
      done += window.end - window.start;
      const st = joins.get(item)!;
      st.early.set(window.index, audio[b]);
      for (let a; (a = st.early.get(st.next)) !== undefined; st.next++) {
        st.early.delete(st.next);
        const piece = st.joiner.push(st.windows[st.next], a);
        out[item].set(piece, st.at);
        st.at += piece.length;
        if (st.next === st.windows.length - 1) out[item].set(st.joiner.finish(), st.at);
      }
    });
    if (bucket.some((j) => jobs[j].window)) collectGarbage(); // as above
    s.onProgress?.(done, total);
  }
  return out;
}
