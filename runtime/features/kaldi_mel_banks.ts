/**
 * Kaldi's triangular mel filter bank, as `torchaudio.compliance.kaldi.get_mel_banks` builds it (no VTLN):
 * mel(f) = 1127·ln(1 + f/700); `numBins` triangles equally spaced in mel between lowFreq and highFreq; each FFT bin k
 * (k < nFft/2, frequency k·sr/nFft) gets weight max(0, min(up-slope, down-slope)) measured in mel; the Nyquist bin
 * always gets weight 0 (torchaudio pads that column with a zero).
 *
 * torchaudio evaluates the per-bin tensors in float32 (the scalar edges in float64); we round the same way so the
 * weights are the reference's to the last bit or close to it. Stored sparsely: each filter's nonzero weights over one
 * contiguous run of FFT bins.
 */
const f = Math.fround;

export interface MelBank {
  /** first FFT bin with nonzero weight */
  start: number;
  weights: Float64Array;
}

/** A triangle's weights over `bins` FFT bins, kept as its one contiguous run of nonzero weights. */
export function sparseBank(bins: number, weight: (k: number) => number): MelBank {
  const w = Float64Array.from({ length: bins }, (_, k) => weight(k));
  const first = w.findIndex((v) => v > 0);
  if (first < 0) return { start: 0, weights: new Float64Array(0) };
  let last = bins - 1;
  while (w[last] <= 0) last--;
  return { start: first, weights: w.slice(first, last + 1) };
}

/** Kaldi's mel scale in float64 (torchaudio's `mel_scale_scalar`, used for the band edges). */
export function kaldiMel(freq: number): number {
  return 1127 * Math.log(1 + freq / 700);
}

/** torchaudio's tensor `mel_scale`, evaluated in float32. */
function kaldiMelF32(freq: number): number {
  return f(f(1127) * f(Math.log(f(1 + f(freq / f(700))))));
}

export function kaldiMelBanks(
  numBins: number,
  nFft: number,
  sampleRate: number,
  lowFreq: number,
  highFreq: number,
): MelBank[] {
  const nyquist = sampleRate / 2;
  // Kaldi's convention: high_freq <= 0 means an offset from Nyquist.
  const high = highFreq <= 0 ? highFreq + nyquist : highFreq;
  if (!(lowFreq >= 0 && lowFreq < high && high <= nyquist)) {
    throw new RangeError(`mel bank: bad frequency range [${lowFreq}, ${high}] for sample rate ${sampleRate}`);
  }
  const numFftBins = nFft / 2;
  const binWidth = sampleRate / nFft;
  const melLow = kaldiMel(lowFreq);
  const melDelta = (kaldiMel(high) - melLow) / (numBins + 1);
  const melLowF = f(melLow);
  const melDeltaF = f(melDelta);
  const banks: MelBank[] = [];
  for (let m = 0; m < numBins; m++) {
    const left = f(melLowF + f(m * melDeltaF));
    const center = f(melLowF + f((m + 1) * melDeltaF));
    const right = f(melLowF + f((m + 2) * melDeltaF));
    banks.push(sparseBank(numFftBins, (k) => {
      const mel = kaldiMelF32(f(binWidth * k));
      const up = f(f(mel - left) / f(center - left));
      const down = f(f(right - mel) / f(right - center));
      return Math.max(0, Math.min(up, down));
    }));
  }
  return banks;
}
