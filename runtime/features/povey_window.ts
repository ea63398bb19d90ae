/**
 * Kaldi's "povey" window: a symmetric (non-periodic) Hann window raised to the power 0.85, i.e.
 * (0.5 − 0.5·cos(2πn/(N−1)))^0.85. torchaudio builds it in float32 from `hann_window(N, periodic=False)`
 * (n · float32(2π/(N−1)), cos, ·(−0.5), +0.5) and `.pow(0.85)`; the same roundings are applied here.
 */
const f = Math.fround;

export function poveyWindow(length: number): Float64Array {
  const w = new Float64Array(length);
  const step = f((2 * Math.PI) / (length - 1));
  for (let n = 0; n < length; n++) {
    const hann = f(f(-0.5 * f(Math.cos(f(n * step)))) + 0.5);
    w[n] = f(Math.pow(hann, f(0.85)));
  }
  return w;
}
