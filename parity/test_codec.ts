/**
 * A pure-TypeScript stand-in for the ONNX codec, used only by the parity suite's own tests: it checks that the
 * properties catch what they claim to catch, in milliseconds and without any model.
 *
 * It has the two behaviours that matter. With `masks: true` every item is computed from its own samples / codes
 * only. With `masks: false` it normalises over the whole padded batch row, like upstream's GroupNorm and unmasked
 * attention do, so an item padded by a longer neighbour gets different numbers. The FSQ step is the real one (double
 * tanh bound, round half to even), so ties behave as in the graphs.
 */
import { codesForSamples, fsqTables, HOP_LENGTH } from "../convert/mod.ts";
import type { EncodeResult } from "../runtime/types.ts";
import type { ParityCodec } from "./codec_handle.ts";
import { doubleBound } from "./fsq_ties.ts";

const LEVELS = [4, 4, 4, 4, 4, 4, 4, 4];

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function makeTestCodec(opts: { masks: boolean; device?: string }): ParityCodec & { calls: number } {
  const t = fsqTables(LEVELS);
  const D = LEVELS.length;
  const segment = HOP_LENGTH / D;
  const codec = {
    config: { quantization_levels: LEVELS },
    device: opts.device ?? "cpu",
    calls: 0,
    async encodeBatch(clips: Float32Array[]): Promise<EncodeResult> {
      codec.calls++;
      const Kmax = Math.max(...clips.map((c) => codesForSamples(c.length)));
      const out: EncodeResult = { codes: [], latents: [], fsqInput: [] };
      for (const clip of clips) {
        const k = codesForSamples(clip.length);
        // RMS over the item's own samples (masks) or over the whole padded row (leaky: the zeros count)
        let energy = 0;
        for (const s of clip) energy += s * s;
        const rms = Math.sqrt(energy / (opts.masks ? clip.length : Kmax * HOP_LENGTH)) + 1e-3;
        const fsq = new Float32Array(k * D), codes = new Int32Array(k), latents = new Float32Array(D * k);
        for (let f = 0; f < k; f++) {
          let code = 0;
          for (let d = 0; d < D; d++) {
            let acc = 0;
            for (let i = 0; i < segment; i++) acc += clip[f * HOP_LENGTH + d * segment + i] ?? 0;
            const z = Math.fround((3 * acc) / segment / rms);
            fsq[f * D + d] = z;
            const idx = roundHalfEven(doubleBound(z, d, t)) + t.halfWidth[d];
            code += idx * t.basis[d];
            latents[d * k + f] = (idx - t.halfWidth[d]) / t.halfWidth[d];
          }
          codes[f] = code;
        }
        out.codes.push(codes);
        out.fsqInput.push(fsq);
        out.latents.push(latents);
      }
      return out;
    },
    async decodeBatch(codes: Int32Array[]): Promise<Float32Array[]> {
      codec.calls++;
      const K = Math.max(...codes.map((c) => c.length));
      return codes.map((c) => {
        let sum = 0;
        for (const v of c) sum += v / 65536;
        const mean = sum / (opts.masks ? c.length : K); // padded ids are 0 in the leaky batch
        const audio = new Float32Array(c.length * HOP_LENGTH);
        for (let f = 0; f < c.length; f++) {
          const freq = 0.01 + (c[f] % 997) / 4000;
          for (let i = 0; i < HOP_LENGTH; i++) {
            audio[f * HOP_LENGTH + i] = Math.fround(0.5 * Math.sin(freq * (f * HOP_LENGTH + i)) * (1 + mean));
          }
        }
        return audio;
      });
    },
  };
  return codec;
}
