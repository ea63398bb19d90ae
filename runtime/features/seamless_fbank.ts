/**
 * The log mel fbank as transformers' `SeamlessM4TFeatureExtractor` computes it (the extractor facebook/w2v-bert-2.0
 * ships, which the family's ORIGINAL models call: X-Codec-2.0, NeuCodec, WideCodec, the 25TPS model), in numpy:
 *
 *   waveform·2^15 (float32) promoted to float64; per 400-sample frame (hop 160, no centring): subtract the frame's
 *   mean, pre-emphasis 0.97 (x[j] −= 0.97·x[j−1] from the un-emphasised x, x[0] ·= 0.03), povey window
 *   (np.hanning(400)^0.85), rfft of 512 points in float64 STORED AS complex64 (the spectrogram buffer's dtype), power
 *   |X|² in float64, mel filters (kaldi scale, triangles in mel space, float64), max(1.192092955078125e-7, ·), log,
 *   cast to float32 (transformers audio_utils.spectrogram, mel_filter_bank).
 *
 * The same fbank as torchaudio's Kaldi fbank (kaldi_fbank.ts), but in other arithmetic: float64 where torchaudio works
 * in float32. The two differ by up to ~4e-5 on speech and ~2e-4 on noise after normalisation (fixtures/reference
 * README), which moves FSQ inputs by ~1e-4 relative: a family member is matched with the arithmetic its reference
 * used (members.ts `fbank`).
 */
import { kaldiMel, type MelBank, sparseBank } from "./kaldi_mel_banks.ts";

const f = Math.fround;
export const SEAMLESS_MEL_FLOOR = 1.192092955078125e-7;

export interface SeamlessFbankOptions {
  sampleRate: number;
  frameLength: number;
  frameShift: number;
  fftLength: number;
  numMelBins: number;
  lowFreq: number;
  preemphasis: number;
}

export class SeamlessFbank {
  private readonly window: Float64Array;
  private readonly banks: MelBank[];
  private readonly fft: ComplexFft64;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly power: Float64Array;

  constructor(readonly opts: SeamlessFbankOptions) {
    const n = opts.frameLength;
    // np.hanning(n) ** 0.85 (float64)
    this.window = Float64Array.from(
      { length: n },
      (_, i) => (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1))) ** 0.85,
    );
    this.banks = melBanks(opts);
    this.fft = new ComplexFft64(opts.fftLength);
    this.re = new Float64Array(opts.fftLength);
    this.im = new Float64Array(opts.fftLength);
    this.power = new Float64Array(opts.fftLength / 2 + 1);
  }

  /** `waveform` already scaled by 2^15 (float32 values). Returns row-major [frames, numMelBins], float32 values. */
  compute(waveform: ArrayLike<number>): { frames: number; data: Float64Array } {
    const { frameLength: len, frameShift, numMelBins, preemphasis } = this.opts;
    const frames = waveform.length < len ? 0 : 1 + Math.floor((waveform.length - len) / frameShift);
    const out = new Float64Array(frames * numMelBins);
    const re = this.re, im = this.im;
    for (let fr = 0; fr < frames; fr++) {
      const offset = fr * frameShift;
      re.fill(0);
      im.fill(0);
      let sum = 0;
      for (let j = 0; j < len; j++) {
        re[j] = waveform[offset + j];
        sum += re[j];
      }
      const mean = sum / len;
      for (let j = 0; j < len; j++) re[j] -= mean;
      for (let j = len - 1; j > 0; j--) re[j] -= preemphasis * re[j - 1];
      re[0] *= 1 - preemphasis;
      for (let j = 0; j < len; j++) re[j] *= this.window[j];
      this.fft.transform(re, im);
      for (let k = 0; k < this.power.length; k++) {
        const a = f(re[k]), b = f(im[k]); // the complex64 spectrogram buffer
        this.power[k] = a * a + b * b;
      }
      const row = fr * numMelBins;
      for (let m = 0; m < numMelBins; m++) {
        const { start, weights } = this.banks[m];
        let e = 0;
        for (let k = 0; k < weights.length; k++) e += weights[k] * this.power[start + k];
        out[row + m] = f(Math.log(Math.max(SEAMLESS_MEL_FLOOR, e)));
      }
    }
    return { frames, data: out };
  }
}

/**
 * transformers' `mel_filter_bank(num_frequency_bins = fft/2 + 1, …, norm=None, mel_scale="kaldi",
 * triangularize_in_mel_space=True)` in float64: centres `np.linspace(mel(low), mel(nyquist), bins + 2)`, each FFT
 * bin's frequency in mel, weight max(0, min(down-slope, up-slope)).
 */
function melBanks(o: SeamlessFbankOptions): MelBank[] {
  const bins = o.fftLength / 2 + 1;
  const melMin = kaldiMel(o.lowFreq), melMax = kaldiMel(o.sampleRate / 2);
  const count = o.numMelBins + 2;
  const step = (melMax - melMin) / (count - 1);
  const centres = Float64Array.from({ length: count }, (_, i) => (i === count - 1 ? melMax : i * step + melMin));
  const width = o.sampleRate / ((bins - 1) * 2);
  const fftMel = Float64Array.from({ length: bins }, (_, k) => kaldiMel(width * k));
  const banks: MelBank[] = [];
  for (let m = 0; m < o.numMelBins; m++) {
    banks.push(sparseBank(bins, (k) => {
      const down = -(centres[m] - fftMel[k]) / (centres[m + 1] - centres[m]);
      const up = (centres[m + 2] - fftMel[k]) / (centres[m + 2] - centres[m + 1]);
      return Math.max(0, Math.min(down, up));
    }));
  }
  return banks;
}

/** In-place iterative radix-2 complex FFT in float64 (any correct float64 FFT rounds to the same complex64 values). */
class ComplexFft64 {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly rev: Uint32Array;

  constructor(readonly n: number) {
    if (n < 2 || (n & (n - 1)) !== 0) throw new RangeError(`FFT length ${n} is not a power of two`);
    this.cos = Float64Array.from({ length: n / 2 }, (_, k) => Math.cos((2 * Math.PI * k) / n));
    this.sin = Float64Array.from({ length: n / 2 }, (_, k) => -Math.sin((2 * Math.PI * k) / n));
    const bits = Math.log2(n);
    this.rev = Uint32Array.from({ length: n }, (_, i) => {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      return r;
    });
  }

  transform(re: Float64Array, im: Float64Array): void {
    const n = this.n;
    for (let i = 0; i < n; i++) {
      const j = this.rev[i];
      if (j > i) {
        [re[i], re[j]] = [re[j], re[i]];
        [im[i], im[j]] = [im[j], im[i]];
      }
    }
    for (let size = 2; size <= n; size *= 2) {
      const half = size / 2, stride = n / size;
      for (let start = 0; start < n; start += size) {
        for (let k = 0; k < half; k++) {
          const c = this.cos[k * stride], s = this.sin[k * stride];
          const a = start + k, b = a + half;
          const tr = re[b] * c - im[b] * s, ti = re[b] * s + im[b] * c;
          re[b] = re[a] - tr;
          im[b] = im[a] - ti;
          re[a] += tr;
          im[a] += ti;
        }
      }
    }
  }
}
