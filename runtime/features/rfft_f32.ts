/**
 * Real FFT of a power-of-two length in emulated IEEE float32 arithmetic, following the operation order of
 * pocketfft's `rfftp` (the FFTPACK radix-4/radix-2 real transform that torch's CPU `torch.fft.rfft` runs for float32
 * input when it is built without MKL, as the reference's Debian torch is).
 *
 * Why emulate float32 at all: the Kaldi fbank's lowest mel bins hold about 1e-3 of a frame's power after
 * pre-emphasis, so float32 rounding inside the FFT, relative to the frame's total power, shows up in those bins at the
 * 1e-4 level after per-bin normalisation (noise clips especially). Computing in float64 is "more exact" but further
 * from the reference; doing the same float32 operations in the same order lands within a few 1e-6.
 *
 * Every arithmetic result goes through Math.fround (float64 evaluation then rounding to float32 equals float32
 * evaluation for a single +, −, ×, since 53 ≥ 2·24 + 2). Twiddles are computed in float64 and rounded, as pocketfft's
 * `sincos_2pibyn` does for float.
 */
const f = Math.fround;

/**
 * pocketfft's MULPM: (c − i·d)·(e + i·g), i.e. conj(twiddle)·x, each product and sum rounded to float32 (no fused
 * multiply-add: contracting these to FMAs measurably moved us away from the reference).
 */
function MUL(c: number, d: number, e: number, g: number): [number, number] {
  return [f(f(c * e) + f(d * g)), f(f(c * g) - f(d * e))];
}

interface Factor {
  ip: number;
  tw: Float32Array;
}

/** pocketfft's sincos_2pibyn(n)[idx], computed in double, then rounded to float. */
function twiddleTable(n: number): (idx: number) => [number, number] {
  const ang = (0.25 * Math.PI) / n;
  const calc = (xIn: number): [number, number] => {
    let x = xIn * 8;
    if (x < 4 * n) {
      if (x < 2 * n) {
        if (x < n) return [Math.cos(x * ang), Math.sin(x * ang)];
        return [Math.sin((2 * n - x) * ang), Math.cos((2 * n - x) * ang)];
      }
      x -= 2 * n;
      if (x < n) return [-Math.sin(x * ang), Math.cos(x * ang)];
      return [-Math.cos((2 * n - x) * ang), Math.sin((2 * n - x) * ang)];
    }
    x = 8 * n - x;
    if (x < 2 * n) {
      if (x < n) return [Math.cos(x * ang), -Math.sin(x * ang)];
      return [Math.sin((2 * n - x) * ang), -Math.cos((2 * n - x) * ang)];
    }
    x -= 2 * n;
    if (x < n) return [-Math.sin(x * ang), -Math.cos(x * ang)];
    return [-Math.cos((2 * n - x) * ang), -Math.sin((2 * n - x) * ang)];
  };
  const nval = Math.floor((n + 2) / 2);
  let shift = 1;
  while ((1 << shift) * (1 << shift) < nval) shift++;
  const mask = (1 << shift) - 1;
  const v1: [number, number][] = [[1, 0]];
  for (let i = 1; i <= mask; i++) v1.push(calc(i));
  const v2: [number, number][] = [[1, 0]];
  const n2 = Math.floor((nval + mask) / (mask + 1));
  for (let i = 1; i < n2; i++) v2.push(calc(i * (mask + 1)));
  return (idxIn: number) => {
    const conj = 2 * idxIn > n;
    const idx = conj ? n - idxIn : idxIn;
    const x1 = v1[idx & mask];
    const x2 = v2[idx >> shift];
    const re = f(x1[0] * x2[0] - x1[1] * x2[1]);
    const im = f(x1[0] * x2[1] + x1[1] * x2[0]);
    return [re, conj ? -im : im];
  };
}

export class RealFftF32 {
  private readonly factors: Factor[] = [];
  private readonly a: Float32Array;
  private readonly b: Float32Array;

  constructor(readonly n: number) {
    if (!(n >= 2 && (n & (n - 1)) === 0)) throw new RangeError(`RealFftF32: length ${n} is not a power of two >= 2`);
    // pocketfft's factorize(): all 4s, then one 2 (if any) swapped to the front.
    const ips: number[] = [];
    let len = n;
    while (len % 4 === 0) {
      ips.push(4);
      len /= 4;
    }
    if (len % 2 === 0) {
      len /= 2;
      ips.push(2);
      const last = ips.length - 1;
      [ips[0], ips[last]] = [ips[last], ips[0]];
    }
    const twid = twiddleTable(n);
    let l1 = 1;
    ips.forEach((ip, k) => {
      const ido = n / (l1 * ip);
      const tw = new Float32Array(Math.max(0, (ip - 1) * (ido - 1)));
      if (k < ips.length - 1) {
        for (let j = 1; j < ip; j++) {
          for (let i = 1; i <= (ido - 1) >> 1; i++) {
            const [re, im] = twid(j * l1 * i);
            tw[(j - 1) * (ido - 1) + 2 * i - 2] = re;
            tw[(j - 1) * (ido - 1) + 2 * i - 1] = im;
          }
        }
      }
      this.factors.push({ ip, tw });
      l1 *= ip;
    });
    this.a = new Float32Array(n);
    this.b = new Float32Array(n);
  }

  /**
   * Power spectrum |X[k]|², k = 0…n/2, of the float32 `input` (length n), as torch's `rfft(x).abs().pow(2)`:
   * the magnitude is rounded to float32, then squared in float32.
   */
  powerSpectrum(input: ArrayLike<number>, out: Float64Array): void {
    const r = this.halfComplex(input);
    const n = this.n;
    out[0] = f(Math.abs(r[0]) * Math.abs(r[0]));
    for (let k = 1; k < n / 2; k++) {
      const m = f(Math.hypot(r[2 * k - 1], r[2 * k]));
      out[k] = f(m * m);
    }
    const ny = Math.abs(r[n - 1]);
    out[n / 2] = f(ny * ny);
  }

  /** FFTPACK half-complex result: r0, r1, i1, r2, i2, …, r_{n/2}. The returned array is reused by the next call. */
  halfComplex(input: ArrayLike<number>): Float32Array {
    let p1 = this.a;
    let p2 = this.b;
    for (let i = 0; i < this.n; i++) p1[i] = input[i];
    let l1 = this.n;
    for (let k = this.factors.length - 1; k >= 0; k--) {
      const { ip, tw } = this.factors[k];
      const ido = this.n / l1;
      l1 /= ip;
      if (ip === 4) radf4(ido, l1, p1, p2, tw);
      else radf2(ido, l1, p1, p2, tw);
      [p1, p2] = [p2, p1];
    }
    return p1;
  }
}

function radf2(ido: number, l1: number, cc: Float32Array, ch: Float32Array, wa: Float32Array): void {
  const CC = (a: number, b: number, c: number) => cc[a + ido * (b + l1 * c)];
  const CH = (a: number, b: number, c: number) => a + ido * (b + 2 * c);
  for (let k = 0; k < l1; k++) {
    const c0 = CC(0, k, 0), c1 = CC(0, k, 1);
    ch[CH(0, 0, k)] = c0 + c1;
    ch[CH(ido - 1, 1, k)] = c0 - c1;
  }
  if ((ido & 1) === 0) {
    for (let k = 0; k < l1; k++) {
      ch[CH(0, 1, k)] = -CC(ido - 1, k, 1);
      ch[CH(ido - 1, 0, k)] = CC(ido - 1, k, 0);
    }
  }
  if (ido <= 2) return;
  for (let k = 0; k < l1; k++) {
    for (let i = 2; i < ido; i += 2) {
      const ic = ido - i;
      const wr = wa[i - 2], wi = wa[i - 1];
      const cr = CC(i - 1, k, 1), ci = CC(i, k, 1);
      // MULPM: (tr2 + i·ti2) = conj(w)·c
      const [tr2, ti2] = MUL(wr, wi, cr, ci);
      const a0 = CC(i - 1, k, 0), b0 = CC(i, k, 0);
      ch[CH(i - 1, 0, k)] = a0 + tr2;
      ch[CH(ic - 1, 1, k)] = a0 - tr2;
      ch[CH(i, 0, k)] = ti2 + b0;
      ch[CH(ic, 1, k)] = ti2 - b0;
    }
  }
}

const HSQT2 = f(0.707106781186547524400844362104849);

function radf4(ido: number, l1: number, cc: Float32Array, ch: Float32Array, wa: Float32Array): void {
  const CC = (a: number, b: number, c: number) => cc[a + ido * (b + l1 * c)];
  const CH = (a: number, b: number, c: number) => a + ido * (b + 4 * c);
  const WA = (x: number, i: number) => wa[i + x * (ido - 1)];
  for (let k = 0; k < l1; k++) {
    const c0 = CC(0, k, 0), c1 = CC(0, k, 1), c2 = CC(0, k, 2), c3 = CC(0, k, 3);
    const tr1 = f(c3 + c1);
    ch[CH(0, 2, k)] = c3 - c1;
    const tr2 = f(c0 + c2);
    ch[CH(ido - 1, 1, k)] = c0 - c2;
    ch[CH(0, 0, k)] = tr2 + tr1;
    ch[CH(ido - 1, 3, k)] = tr2 - tr1;
  }
  if ((ido & 1) === 0) {
    for (let k = 0; k < l1; k++) {
      const c0 = CC(ido - 1, k, 0), c1 = CC(ido - 1, k, 1), c2 = CC(ido - 1, k, 2), c3 = CC(ido - 1, k, 3);
      const ti1 = f(-HSQT2 * f(c1 + c3));
      const tr1 = f(HSQT2 * f(c1 - c3));
      ch[CH(ido - 1, 0, k)] = c0 + tr1;
      ch[CH(ido - 1, 2, k)] = c0 - tr1;
      ch[CH(0, 3, k)] = ti1 + c2;
      ch[CH(0, 1, k)] = ti1 - c2;
    }
  }
  if (ido <= 2) return;
  for (let k = 0; k < l1; k++) {
    for (let i = 2; i < ido; i += 2) {
      const ic = ido - i;
      const mulpm = (x: number, re: number, im: number): [number, number] => MUL(WA(x, i - 2), WA(x, i - 1), re, im);
      const [cr2, ci2] = mulpm(0, CC(i - 1, k, 1), CC(i, k, 1));
      const [cr3, ci3] = mulpm(1, CC(i - 1, k, 2), CC(i, k, 2));
      const [cr4, ci4] = mulpm(2, CC(i - 1, k, 3), CC(i, k, 3));
      const tr1 = f(cr4 + cr2), tr4 = f(cr4 - cr2);
      const ti1 = f(ci2 + ci4), ti4 = f(ci2 - ci4);
      const a0 = CC(i - 1, k, 0), b0 = CC(i, k, 0);
      const tr2 = f(a0 + cr3), tr3 = f(a0 - cr3);
      const ti2 = f(b0 + ci3), ti3 = f(b0 - ci3);
      ch[CH(i - 1, 0, k)] = tr2 + tr1;
      ch[CH(ic - 1, 3, k)] = tr2 - tr1;
      ch[CH(i, 0, k)] = ti1 + ti2;
      ch[CH(ic, 3, k)] = ti1 - ti2;
      ch[CH(i - 1, 2, k)] = tr3 + ti4;
      ch[CH(ic - 1, 1, k)] = tr3 - ti4;
      ch[CH(i, 2, k)] = tr4 + ti3;
      ch[CH(ic, 1, k)] = tr4 - ti3;
    }
  }
}
