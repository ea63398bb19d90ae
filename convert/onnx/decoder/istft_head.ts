/**
 * The decoder's ISTFT head (`acoustic_decoder.head`, Vocos "same"-padding ISTFT), x [B, T, H] → audio [B, hop·T]:
 *   [log-magnitude | phase] = linear(x)  (n_fft/2+1 bins each);  S = min(exp(logmag), 100)·e^{i·phase}
 *   frames = irfft(S, n_fft)·window  (periodic Hann, win = n_fft = 4·hop);  audio = overlap-add(frames, hop)
 *   trimmed by (n_fft − hop)/2 on each side, divided by the overlap-added squared window (clamped at 1e-11).
 *
 * The inverse real DFT is a MatMul with a fixed real basis (window and irfft's 1/N and ×2 for the inner bins folded
 * in), not the DFT op: onnxruntime's WebGPU DFT takes a slow path above 512 points and n_fft is 1280. Overlap-add
 * uses hop-sized chunks: n_fft = 4·hop, so output chunk j is the sum of chunk i of frame j − i for i = 0…3.
 *
 * The head runs in fp32 in every precision (after `head.linear`): exp up to 100 and 641-term sums need it, and it is
 * a small part of the decoder's cost.
 *
 * Per-item lengths: frames at or past the item's length are zeroed before the overlap-add, and the window envelope
 * is overlap-added from the item's own frames only, so samples near its end are normalised as in its single run.
 */
import { sinCos } from "../trig.ts";
import type { GraphBuilder } from "../graph.ts";
import type { ModuleCursor } from "../module.ts";
import { lengthMask, linear } from "../layers.ts";

/** Periodic Hann window of length n (torch.hann_window's default). */
export function hannWindow(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
}

/**
 * Real basis [2·(n/2+1), n] mapping [Re X_0 … Re X_{n/2}, Im X_0 … Im X_{n/2}] to window[t]·irfft(X)[t]
 * (norm "backward": 1/n; inner bins count twice by Hermitian symmetry; Im of DC and Nyquist are ignored, as
 * irfft ignores them).
 */
export function inverseRealDftBasis(n: number, window: ArrayLike<number>): Float32Array {
  if (n % 2 !== 0) throw new RangeError(`n_fft ${n} must be even`);
  const bins = n / 2 + 1;
  const basis = new Float32Array(2 * bins * n);
  for (let k = 0; k < bins; k++) {
    const weight = k === 0 || k === n / 2 ? 1 : 2;
    const imagUsed = k !== 0 && k !== n / 2;
    for (let t = 0; t < n; t++) {
      const angle = (2 * Math.PI * ((k * t) % n)) / n; // reduce k·t mod n first: exact angles
      const scale = (weight * window[t]) / n;
      basis[k * n + t] = scale * Math.cos(angle);
      basis[(bins + k) * n + t] = imagUsed ? -scale * Math.sin(angle) : 0;
    }
  }
  return basis;
}

/**
 * Overlap-add frames [B, T, n] with hop = n/ratio → [B, (T + ratio − 1)·hop]. Chunk i of frame t lands in output
 * chunk t + i: pad the T axis by (i, ratio−1−i) and sum over i.
 */
export function overlapAdd(g: GraphBuilder, frames: string, hop: number, ratio: number): string {
  const chunks = g.reshape(frames, [0, 0, ratio, hop]); // [B, T, ratio, hop]
  let sum: string | null = null;
  for (let i = 0; i < ratio; i++) {
    const part = g.squeeze(g.slice(chunks, [i], [i + 1], [2]), [2]); // [B, T, hop]
    const padded = g.op("Pad", [part, g.ints([0, i, 0, 0, ratio - 1 - i, 0]), g.scalarF32(0)], { mode: "constant" });
    sum = sum === null ? padded : g.add(sum, padded);
  }
  return g.reshape(sum!, [0, -1]);
}

/**
 * `m` = the head: x [B, T, H] (after the final LayerNorm) → audio [B, hop·T] float32. `lengths` (int64 [B], or
 * null) limits each item's frames. Samples in [hop·length, hop·length + (n_fft − hop)/2) still hold the last
 * frames' tails, as the trimmed single run would if it were longer: the caller zeroes samples past hop·length.
 */
export function istftHead(m: ModuleCursor, x: string, lengths: string | null, nFft: number, hop: number): string {
  const g = m.g;
  return m.scope(() => {
    if (nFft % hop !== 0 || (nFft - hop) % 2 !== 0) {
      throw new RangeError(`n_fft ${nFft} must be a multiple of hop ${hop} with even overlap`);
    }
    const ratio = nFft / hop;
    const bins = nFft / 2 + 1;
    const proj = m.pp("linear");
    const [out] = proj.shape("weight");
    if (out !== 2 * bins) {
      throw new RangeError(`${proj.tensor("weight")}: ${out} rows, expected n_fft + 2 = ${2 * bins}`);
    }
    const pred = g.dtype === "float32" ? linear(proj, x) : g.cast(linear(proj, x), "float32");
    const magnitude = g.op("Min", [g.exp(g.slice(pred, [0], [bins], [2])), g.scalarF32(1e2)]);
    const phase = g.slice(pred, [bins], [2 * bins], [2]);
    // placement-independent sin/cos: onnxruntime's vectorised kernels round per SIMD lane (see trig.ts)
    const { sin, cos } = sinCos(g, phase);
    const spectrum = g.concat([g.mul(magnitude, cos), g.mul(magnitude, sin)], 2); // [B, T, 2·bins]
    const window = hannWindow(nFft);
    let frames = g.matmul(
      spectrum,
      g.weightF32(m.tensor("inverse_dft_basis"), inverseRealDftBasis(nFft, window), [2 * bins, nFft]),
    );

    const windowSq = g.constant(Float32Array.from(window, (v) => Math.fround(v) ** 2), [1, 1, nFft], "float32");
    let envelopeFrames: string;
    if (lengths === null) {
      envelopeFrames = g.op("Expand", [windowSq, g.shape(frames)]);
    } else {
      const valid = g.unsqueeze(lengthMask(g, lengths, pred, 1), [2]); // [B, T, 1]
      frames = g.where(valid, frames, g.scalarF32(0));
      envelopeFrames = g.where(valid, windowSq, g.scalarF32(0));
    }
    const trim = (nFft - hop) / 2;
    const cut = (t: string) => g.slice(t, [trim], [-trim], [1]); // [B, hop·T]
    const audio = cut(overlapAdd(g, frames, hop, ratio));
    const envelope = g.op("Max", [cut(overlapAdd(g, envelopeFrames, hop, ratio)), g.scalarF32(1e-11)]);
    return g.div(audio, envelope);
  });
}
