/**
 * The anti-aliasing filter of XCodec2's `Activation1d` (BigVGAN's alias-free torch): a Kaiser-windowed sinc,
 * normalised to unit sum. Converted checkpoints do not store it (it is a non-persistent buffer rebuilt at load), so
 * the export rebuilds it with the same formula:
 *
 *   half = K // 2, A = 2.285·(half − 1)·π·(4·half_width) + 7.95,
 *   β = 0.1102·(A − 8.7) if A > 50, 0.5842·(A − 21)^0.4 + 0.07886·(A − 21) if A ≥ 21, else 0,
 *   w = kaiser_window(K, β, periodic = false),
 *   t = arange(−half, half) + 0.5 (K even) or arange(K) − half (K odd),
 *   h = 2·cutoff·w·sinc(2·cutoff·t), h /= Σh.
 *
 * WHY float32 step by step: torch builds this filter in float32, and the acoustic encoder amplifies tap differences
 * strongly (the random tiny-a weights grow activations into the hundreds before sin(): a 1e-7 relative change of the
 * taps moves the encoder output by ~3e-6 relative). An exact float64 filter rounded once to float32 differs from
 * torch's by up to 9e-7 on the outer taps and leaves the encoder 1.2e-5 off the reference; rounding every operation
 * to float32 as torch does (Cephes i0 via Chebyshev series, float sin, a lane-wise vectorised sum for the
 * normalisation) brings it to ≤ 7e-6. The float64 version is kept for tests as the mathematical ground truth.
 */
import { GraphError } from "../errors.ts";

const f = Math.fround;

/** Cephes' Chebyshev coefficients for exp(−x)·I0(x) on [0, 8] (what torch's calc_i0 uses), as float32. */
const I0E_A = [
  -4.41534164647933937950e-18,
  3.33079451882223809783e-17,
  -2.43127984654795469359e-16,
  1.71539128555513303061e-15,
  -1.16853328779934516808e-14,
  7.67618549860493561688e-14,
  -4.85644678311192946090e-13,
  2.95505266312963983461e-12,
  -1.72682629144155570723e-11,
  9.67580903537323691224e-11,
  -5.18979560163526290666e-10,
  2.65982372468238665035e-9,
  -1.30002500998624804212e-8,
  6.04699502254191894932e-8,
  -2.67079385394061173391e-7,
  1.11738753912010371815e-6,
  -4.41673835845875056359e-6,
  1.64484480707288970893e-5,
  -5.75419501008210370398e-5,
  1.88502885095841655729e-4,
  -5.76375574538582365885e-4,
  1.63947561694133579842e-3,
  -4.32430999505057594430e-3,
  1.05464603945949983183e-2,
  -2.37374148058994688156e-2,
  4.93052842396707084878e-2,
  -9.49010970480476444210e-2,
  1.71620901522208775349e-1,
  -3.04682672343198398683e-1,
  6.76795274409476084995e-1,
].map(f);

/** I0(x) for 0 ≤ x ≤ 8 in float32 arithmetic (Chebyshev series, Clenshaw recurrence). */
function besselI0F32(x: number): number {
  if (x > 8) throw new GraphError(`kaiser sinc filter: β·w = ${x} > 8 is outside the float32 path`);
  const y = f(f(x / 2) - 2);
  let b0 = I0E_A[0], b1 = 0, b2 = 0;
  for (let i = 1; i < I0E_A.length; i++) {
    b2 = b1;
    b1 = b0;
    b0 = f(f(f(y * b1) - b2) + I0E_A[i]);
  }
  return f(f(Math.exp(x)) * f(0.5 * f(b0 - b2)));
}

/** Modified Bessel function of the first kind, order 0 (power series, float64). */
function besselI0(x: number): number {
  let sum = 1, term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function kaiserBeta(halfWidth: number, half: number): number {
  const attenuation = 2.285 * (half - 1) * Math.PI * (4 * halfWidth) + 7.95;
  return attenuation > 50
    ? 0.1102 * (attenuation - 8.7)
    : attenuation >= 21
    ? 0.5842 * (attenuation - 21) ** 0.4 + 0.07886 * (attenuation - 21)
    : 0;
}

function check(cutoff: number, kernelSize: number): void {
  if (!(cutoff >= 0 && cutoff <= 0.5)) throw new GraphError(`kaiser sinc filter: cutoff ${cutoff} outside [0, 0.5]`);
  if (!Number.isInteger(kernelSize) || kernelSize < 2) {
    throw new GraphError(`kaiser sinc filter: kernel size ${kernelSize}`);
  }
}

/** The filter as torch computes it in float32 (what the graphs use). */
export function kaiserSincFilter(cutoff: number, halfWidth: number, kernelSize: number): Float32Array {
  check(cutoff, kernelSize);
  if (cutoff === 0) return new Float32Array(kernelSize);
  const even = kernelSize % 2 === 0, half = Math.floor(kernelSize / 2);
  const alpha = f((kernelSize - 1) / 2), beta = f(kaiserBeta(halfWidth, half));
  const i0b = besselI0F32(beta);
  const twoCutoff = f(2 * cutoff), pi = f(Math.PI);
  const h = new Float32Array(kernelSize);
  for (let n = 0; n < kernelSize; n++) {
    const r = f(f(n - alpha) / alpha);
    const win = f(besselI0F32(f(beta * f(Math.sqrt(Math.abs(f(1 - f(r * r))))))) / i0b);
    const t = f(even ? n - half + 0.5 : n - half);
    const x = f(twoCutoff * t);
    const p = f(pi * x);
    const sinc = x === 0 ? 1 : f(f(Math.sin(p)) / p);
    h[n] = f(f(twoCutoff * win) * sinc);
  }
  // torch's vectorised sum: lane-wise partial sums, then the lanes combined
  const lanes = [0, 0, 0, 0];
  h.forEach((v, i) => {
    lanes[i % 4] = f(lanes[i % 4] + v);
  });
  const sum = f(f(lanes[0] + lanes[1]) + f(lanes[2] + lanes[3]));
  return h.map((v) => f(v / sum));
}

/** The same filter in exact float64 arithmetic (ground truth for tests). */
export function kaiserSincFilterF64(cutoff: number, halfWidth: number, kernelSize: number): Float64Array {
  check(cutoff, kernelSize);
  const h = new Float64Array(kernelSize);
  if (cutoff === 0) return h;
  const even = kernelSize % 2 === 0, half = Math.floor(kernelSize / 2);
  const beta = kaiserBeta(halfWidth, half);
  const a = (kernelSize - 1) / 2;
  const i0b = besselI0(beta);
  let sum = 0;
  for (let n = 0; n < kernelSize; n++) {
    const r = (n - a) / a;
    const win = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b;
    const t = even ? n - half + 0.5 : n - half;
    const x = 2 * cutoff * t;
    h[n] = 2 * cutoff * win * (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));
    sum += h[n];
  }
  return h.map((v) => v / sum);
}
