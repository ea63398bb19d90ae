/**
 * Named float weights of a converted checkpoint, as the model definitions need them: `f32(name)` gives a
 * Float32Array whatever the stored dtype, `shape(name)` its shape. Once the architecture walk's shapes are declared
 * (`declareShapes`), the file must hold each of them and a read of anything else is refused, so a graph is built only
 * from tensors the walk accounts for, with the shapes it says. Every read is recorded so an export can prove it used
 * every tensor of the checkpoint (a silently unused weight is a wrong graph).
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { isFloatDType, toFloat32 } from "../dtype_cast.ts";
import type { DType } from "../tensor_source.ts";
import { openSafetensors } from "../safetensors/mod.ts";
import { Xcodec2Error } from "../../common/errors.ts";

/** The converted checkpoint lacks a tensor the graphs read, or holds it in another shape or dtype. */
export class WeightError extends Xcodec2Error {}

interface Entry {
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

export class Weights {
  private used = new Set<string>();
  private declared: Map<string, readonly number[]> | undefined;
  /**
   * Reads go through a file descriptor, one tensor at a time and synchronously (model definitions are plain
   * functions), so an export holds the graph's own copies of the weights but never the whole checkpoint file too.
   */
  private constructor(readonly path: string, private entries: Map<string, Entry>, private fd: number) {}

  /** Open `<dir>/model.safetensors` (or a .safetensors file path); the header is checked by our strict parser. */
  static async open(dirOrFile: string): Promise<Weights> {
    const path = dirOrFile.endsWith(".safetensors") ? dirOrFile : join(dirOrFile, "model.safetensors");
    const file = await openSafetensors(path); // validates header, offsets, dtypes and sizes
    const entries = new Map<string, Entry>();
    for (const t of file.list()) {
      const r = file.byteRange(t.name)!;
      entries.set(t.name, { dtype: t.dtype, shape: t.shape, begin: r.start, end: r.end });
    }
    await file.close();
    return new Weights(path, entries, openSync(path, "r"));
  }

  /** Release the file descriptor (weights already handed to a graph stay valid). */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private bytes(e: Entry, name: string): Uint8Array {
    if (this.fd < 0) throw new WeightError(`${this.path}: closed before tensor ${name} was read`);
    const out = new Uint8Array(e.end - e.begin);
    let done = 0;
    while (done < out.length) {
      const n = readSync(this.fd, out, done, out.length - done, e.begin + done);
      if (n <= 0) {
        throw new WeightError(`${this.path}: tensor ${name} is cut short (file size ${fstatSync(this.fd).size})`);
      }
      done += n;
    }
    return out;
  }

  /**
   * The tensors the architecture walk declares for this checkpoint's config (`expectedConvertedTensors(cfg)`): each
   * must be in the file with the declared shape, and from now on only they can be read.
   */
  declareShapes(tensors: readonly { name: string; shape: readonly number[] }[]): void {
    const declared = new Map(tensors.map((t) => [t.name, t.shape]));
    for (const [name, shape] of declared) {
      const e = this.entries.get(name);
      if (!e) throw new WeightError(`${this.path}: tensor ${name} is missing (the config implies [${shape}])`);
      if (!sameShape(e.shape, shape)) {
        throw new WeightError(`${this.path}: tensor ${name} has shape [${e.shape}], the config implies [${shape}]`);
      }
    }
    this.declared = declared;
  }

  /** The entry of a tensor the model may read: present, and declared by the architecture walk once one is. */
  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (!e) throw new WeightError(`${this.path}: tensor ${name} is missing`);
    if (this.declared && !this.declared.has(name)) {
      throw new WeightError(`${this.path}: tensor ${name} is not part of the architecture the config describes`);
    }
    return e;
  }

  has(name: string): boolean {
    return this.entries.has(name) && (this.declared?.has(name) ?? true);
  }
  names(): string[] {
    return [...this.entries.keys()];
  }

  shape(name: string): number[] {
    return this.entry(name).shape;
  }

  /** The tensor as float32 (F32 copied, F16/BF16 widened), shape checked when `expect` is given. */
  f32(name: string, expect?: number[]): Float32Array {
    const e = this.entry(name);
    if (expect && !sameShape(expect, e.shape)) {
      throw new WeightError(`${this.path}: tensor ${name} has shape [${e.shape}], expected [${expect}]`);
    }
    this.used.add(name);
    if (!isFloatDType(e.dtype)) {
      throw new WeightError(`${this.path}: tensor ${name} has dtype ${e.dtype}, a float was expected`);
    }
    return toFloat32(this.bytes(e, name), e.dtype);
  }

  /** Raw tensor (any dtype) for tests and reference data: typed view over a copy of its bytes. */
  raw(name: string): { dtype: string; shape: number[]; bytes: Uint8Array } {
    const e = this.entries.get(name);
    if (!e) throw new WeightError(`${this.path}: tensor ${name} is missing`);
    return { dtype: e.dtype, shape: e.shape, bytes: this.bytes(e, name) };
  }

  /** Names never read, optionally ignoring some (e.g. `masked_spec_embed`, a training-only tensor upstream keeps). */
  unused(ignore: (name: string) => boolean = () => false): string[] {
    return this.names().filter((n) => !this.used.has(n) && !ignore(n));
  }
}
