/**
 * Named float weights of a converted checkpoint, as the model definitions need them: `f32(name)` gives a
 * Float32Array whatever the stored dtype, `shape(name)` its shape. Every read is recorded so an export can prove it
 * used every tensor of the checkpoint (a silently unused weight is a wrong graph).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { float16BitsToFloat32 } from "./float16.ts";

export class WeightError extends Error {
  constructor(message: string) { super(message); this.name = "WeightError"; }
}

interface Entry { dtype: string; shape: number[]; begin: number; end: number }

export class Weights {
  private used = new Set<string>();
  private constructor(readonly path: string, private entries: Map<string, Entry>, private data: Uint8Array) {}

  /** Open `<dir>/model.safetensors` (or a .safetensors file path). */
  static async open(dirOrFile: string): Promise<Weights> {
    const path = dirOrFile.endsWith(".safetensors") ? dirOrFile : join(dirOrFile, "model.safetensors");
    const buf = new Uint8Array(await readFile(path));
    if (buf.byteLength < 8) throw new WeightError(`${path}: too short for a safetensors file`);
    const n = Number(new DataView(buf.buffer, buf.byteOffset).getBigUint64(0, true));
    if (n > buf.byteLength - 8) throw new WeightError(`${path}: header length ${n} past the end of the file`);
    const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n))) as Record<string, unknown>;
    const entries = new Map<string, Entry>();
    for (const [k, v] of Object.entries(header)) {
      if (k === "__metadata__") continue;
      const e = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
      entries.set(k, { dtype: e.dtype, shape: e.shape, begin: 8 + n + e.data_offsets[0], end: 8 + n + e.data_offsets[1] });
    }
    return new Weights(path, entries, buf);
  }

  has(name: string): boolean { return this.entries.has(name); }
  names(): string[] { return [...this.entries.keys()]; }

  shape(name: string): number[] {
    const e = this.entries.get(name);
    if (!e) throw new WeightError(`${this.path}: tensor ${name} is missing`);
    return e.shape;
  }

  /** The tensor as float32 (F32 copied, F16/BF16 widened), shape checked when `expect` is given. */
  f32(name: string, expect?: number[]): Float32Array {
    const e = this.entries.get(name);
    if (!e) throw new WeightError(`${this.path}: tensor ${name} is missing`);
    if (expect && (expect.length !== e.shape.length || expect.some((d, i) => d !== e.shape[i]))) {
      throw new WeightError(`${this.path}: tensor ${name} has shape [${e.shape}], expected [${expect}]`);
    }
    this.used.add(name);
    const bytes = this.data.slice(e.begin, e.end);
    switch (e.dtype) {
      case "F32": return new Float32Array(bytes.buffer);
      case "F16": return Float32Array.from(new Uint16Array(bytes.buffer), float16BitsToFloat32);
      case "BF16": {
        const h = new Uint16Array(bytes.buffer);
        const out = new Uint32Array(h.length);
        for (let i = 0; i < h.length; i++) out[i] = h[i] << 16;
        return new Float32Array(out.buffer);
      }
      case "F64": return Float32Array.from(new Float64Array(bytes.buffer));
      default: throw new WeightError(`${this.path}: tensor ${name} has dtype ${e.dtype}, a float was expected`);
    }
  }

  /** Raw tensor (any dtype) for tests and reference data: typed view over a copy of its bytes. */
  raw(name: string): { dtype: string; shape: number[]; bytes: Uint8Array } {
    const e = this.entries.get(name);
    if (!e) throw new WeightError(`${this.path}: tensor ${name} is missing`);
    return { dtype: e.dtype, shape: e.shape, bytes: this.data.slice(e.begin, e.end) };
  }

  /** Names never read, optionally ignoring some (e.g. `masked_spec_embed`, a training-only tensor upstream keeps). */
  unused(ignore: (name: string) => boolean = () => false): string[] {
    return this.names().filter((n) => !this.used.has(n) && !ignore(n));
  }
}
