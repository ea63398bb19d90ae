/** STFT magnitude (Hann window, radix-2 FFT) in dB, and a colour map, for the report's spectrogram pictures. */

/** In-place iterative radix-2 FFT of (re, im); length must be a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k), wi = Math.sin(ang * k);
        const a = i + k, b = a + len / 2;
        const xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

export interface Spectrogram {
  frames: number;
  bins: number; /** [frames][bins] dB */
  db: Float32Array;
}

/** FFT size for a signal: 512 (32 ms), smaller for short signals so a 1-code (320-sample) clip still gets columns. */
export function fftSizeFor(samples: number): number {
  let n = 512;
  while (n > 64 && n * 4 > samples) n >>= 1;
  return n;
}

export function spectrogram(x: Float32Array, nFft = fftSizeFor(x.length), hop = nFft / 4): Spectrogram {
  const bins = nFft / 2 + 1;
  const frames = Math.max(1, Math.floor(Math.max(0, x.length - nFft) / hop) + 1);
  const db = new Float32Array(frames * bins);
  const win = Float64Array.from({ length: nFft }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / nFft));
  const re = new Float64Array(nFft), im = new Float64Array(nFft);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < nFft; i++) {
      re[i] = (x[f * hop + i] ?? 0) * win[i];
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 0; k < bins; k++) db[f * bins + k] = 10 * Math.log10(re[k] * re[k] + im[k] * im[k] + 1e-12);
  }
  return { frames, bins, db };
}

/** A perceptual dark-blue → yellow ramp (viridis-like stops), t in [0, 1]. */
const STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
export function colour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x)), f = x - i;
  return [0, 1, 2].map((c) => Math.round(STOPS[i][c] + f * (STOPS[i + 1][c] - STOPS[i][c]))) as [
    number,
    number,
    number,
  ];
}

/**
 * RGB pixels of a spectrogram, low frequencies at the bottom, scaled to [top − range, top] dB; `top` is shared by
 * the pictures of one case so batched and per-sample images are comparable.
 */
export function spectrogramPixels(
  s: Spectrogram,
  top: number,
  range = 80,
): { width: number; height: number; rgb: Uint8Array } {
  const width = s.frames, height = s.bins;
  const rgb = new Uint8Array(width * height * 3);
  for (let f = 0; f < width; f++) {
    for (let k = 0; k < height; k++) {
      const [r, g, b] = colour((s.db[f * s.bins + k] - (top - range)) / range);
      const o = ((height - 1 - k) * width + f) * 3;
      rgb[o] = r;
      rgb[o + 1] = g;
      rgb[o + 2] = b;
    }
  }
  return { width, height, rgb };
}
