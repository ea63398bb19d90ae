/** Input checks for the runtime: each error names the offending item, so a bad clip in a batch of 1,000 is findable. */

import { Xcodec2Error } from "../common/errors.ts";

/** A clip, a code sequence or an option the caller passed is unusable; the message names the item. */
export class InputError extends Xcodec2Error {}

export function validateClips(clips: unknown): asserts clips is Float32Array[] {
  if (!Array.isArray(clips)) throw new InputError("encode: expected an array of Float32Array clips");
  if (clips.length === 0) throw new InputError("encode: no clips given");
  clips.forEach((c, i) => {
    if (!(c instanceof Float32Array)) {
      const got = c === null ? "null" : typeof c === "object" ? (c as object).constructor?.name : typeof c;
      throw new InputError(`clip ${i}: expected a Float32Array of 16 kHz mono samples, got ${got}`);
    }
    if (c.length === 0) throw new InputError(`clip ${i}: empty (0 samples)`);
    for (let t = 0; t < c.length; t++) {
      if (!Number.isFinite(c[t])) throw new InputError(`clip ${i}: sample ${t} is ${c[t]} (NaN/Inf are not audio)`);
    }
  });
}

export function validateCodes(codes: unknown, codebook: number): asserts codes is Int32Array[] {
  if (!Array.isArray(codes)) throw new InputError("decode: expected an array of Int32Array code sequences");
  if (codes.length === 0) throw new InputError("decode: no code sequences given");
  codes.forEach((c, i) => {
    if (!(c instanceof Int32Array)) {
      const got = c === null ? "null" : typeof c === "object" ? (c as object).constructor?.name : typeof c;
      throw new InputError(`codes ${i}: expected an Int32Array, got ${got}`);
    }
    if (c.length === 0) throw new InputError(`codes ${i}: empty (0 codes)`);
    for (let t = 0; t < c.length; t++) {
      if (c[t] < 0 || c[t] >= codebook) {
        throw new InputError(`codes ${i}: code ${c[t]} at position ${t} is outside [0, ${codebook - 1}]`);
      }
    }
  });
}
