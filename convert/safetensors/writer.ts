/**
 * Streaming safetensors writer. The header is computed up front from the tensor infos (so offsets are known before
 * any data exists), then tensor data is appended one tensor at a time in exactly that order. Everything goes to
 * a temporary beside `<path>` (`claimTempPath`), renamed onto `<path>` by `finish()`; `abort()` (or any failed write)
 * deletes it.
 */
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { DTYPE_BYTES, type TensorInfo } from "../tensor_source.ts";
import { SafetensorsError } from "./errors.ts";
import { claimTempPath } from "../../common/temp_files.ts";
import { buildHeader } from "./header.ts";

export type TensorSpec = Pick<TensorInfo, "name" | "dtype" | "shape">;

export interface WriterOptions {
  metadata?: Record<string, string>;
  /** JSON key order in the header; data is always laid out in the given order */
  keyOrder?: "given" | "sorted";
}

export function byteLengthOf(t: TensorSpec): number {
  return t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
}

export class SafetensorsWriter {
  readonly path: string;
  readonly tmpPath: string;
  private handle: FileHandle | undefined;
  private readonly specs: TensorInfo[];
  private next = 0;
  /** bytes of specs[next] already written by writeSpan */
  private filled = 0;
  private position: number;
  private readonly headerLength: number;
  private readonly totalBytes: number;
  private done = false;

  private constructor(path: string, tmpPath: string, handle: FileHandle, specs: TensorInfo[], headerLength: number) {
    this.path = path;
    this.tmpPath = tmpPath;
    this.handle = handle;
    this.specs = specs;
    this.position = headerLength;
    this.headerLength = headerLength;
    this.totalBytes = specs.reduce((a, t) => a + t.byteLength, 0);
  }

  static async create(
    path: string,
    tensors: readonly TensorSpec[],
    opts: WriterOptions = {},
  ): Promise<SafetensorsWriter> {
    const specs = tensors.map((t) => ({
      name: t.name,
      dtype: t.dtype,
      shape: [...t.shape],
      byteLength: byteLengthOf(t),
    }));
    const header = buildHeader(specs, opts.metadata, opts.keyOrder ?? "sorted");
    const tmp = await claimTempPath(path);
    const handle = await open(tmp, "w");
    const w = new SafetensorsWriter(path, tmp, handle, specs, header.length);
    try {
      await writeFully(handle, header, 0);
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w;
  }

  /** The name the next `write` must carry. */
  get expected(): string | undefined {
    return this.specs[this.next]?.name;
  }

  async write(name: string, data: Uint8Array): Promise<void> {
    const spec = this.specs[this.next];
    if (!this.handle || this.done) throw new SafetensorsError(this.path, "write after finish/abort", name);
    try {
      if (!spec) throw new SafetensorsError(this.path, "more tensors written than declared", name);
      if (spec.name !== name) {
        throw new SafetensorsError(this.path, `written out of order (expected "${spec.name}")`, name);
      }
      if (this.filled !== 0) {
        throw new SafetensorsError(
          this.path,
          `tensor already partly written by writeSpan (${this.filled} bytes)`,
          name,
        );
      }
      if (data.byteLength !== spec.byteLength) {
        throw new SafetensorsError(
          this.path,
          `${data.byteLength} bytes given, ${spec.dtype} ${JSON.stringify(spec.shape)} needs ${spec.byteLength}`,
          name,
        );
      }
      await writeFully(this.handle, data, this.position);
      this.position += data.byteLength;
      this.next++;
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Index of the next tensor to (finish) writing. */
  get expectedIndex(): number {
    return this.next;
  }

  /** Bytes still owed to the declared tensors. */
  get remaining(): number {
    return this.totalBytes - (this.position - this.headerLength);
  }

  /**
   * Appends raw tensor data that may cover several consecutive tensors, or end (and later resume) inside one: one
   * write for a whole run of pass-through tensors, straight from the caller's read buffer. `first`, when given, must be
   * the tensor the bytes start in. Bytes past the last declared tensor are refused.
   */
  async writeSpan(data: Uint8Array, first?: string): Promise<void> {
    const spec = this.specs[this.next];
    if (!this.handle || this.done) throw new SafetensorsError(this.path, "write after finish/abort", first);
    try {
      if (!spec) throw new SafetensorsError(this.path, "more tensors written than declared", first);
      if (first !== undefined && spec.name !== first) {
        throw new SafetensorsError(this.path, `written out of order (expected "${spec.name}")`, first);
      }
      if (data.byteLength > this.remaining) {
        throw new SafetensorsError(
          this.path,
          `${data.byteLength} bytes given, only ${this.remaining} left for the declared tensors`,
          first ?? spec.name,
        );
      }
      await writeFully(this.handle, data, this.position);
      this.position += data.byteLength;
      // advance over every tensor the span completed (an empty tensor only when bytes follow it in this span)
      let left = this.filled + data.byteLength;
      while (
        this.next < this.specs.length &&
        (left > this.specs[this.next]!.byteLength || (left === this.specs[this.next]!.byteLength && left > 0))
      ) {
        left -= this.specs[this.next]!.byteLength;
        this.next++;
      }
      this.filled = left;
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  async finish(): Promise<void> {
    if (!this.handle || this.done) throw new SafetensorsError(this.path, "finish after finish/abort");
    if (this.next !== this.specs.length) {
      const missing = this.specs[this.next]!.name;
      await this.abort();
      throw new SafetensorsError(this.path, `only ${this.next} of ${this.specs.length} tensors were written`, missing);
    }
    try {
      await this.handle.close();
      this.handle = undefined;
      await rename(this.tmpPath, this.path);
      this.done = true;
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    const h = this.handle;
    this.handle = undefined;
    if (h) await h.close().catch(() => {});
    await rm(this.tmpPath, { force: true });
  }
}

async function writeFully(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.byteLength) {
    const n = Math.min(1 << 30, data.byteLength - done);
    const { bytesWritten } = await handle.write(data, done, n, position + done);
    done += bytesWritten;
  }
}

/** Writes a whole set of in-memory tensors (tests, small files). */
export async function writeSafetensors(
  path: string,
  tensors: readonly (TensorSpec & { data: Uint8Array })[],
  opts: WriterOptions = {},
): Promise<void> {
  const w = await SafetensorsWriter.create(path, tensors, opts);
  for (const t of tensors) await w.write(t.name, t.data);
  await w.finish();
}
