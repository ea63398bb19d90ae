/**
 * Streaming safetensors reader: parses and validates the header once, then reads one tensor at a time with positional
 * reads on an open file handle. Offsets are JS numbers (exact to 2^53), so files beyond 4 GiB work.
 */
import { createHash, type Hash } from "node:crypto";
import { type FileHandle, open } from "node:fs/promises";
import type { TensorInfo, TensorSource } from "../tensor_source.ts";
import { SafetensorsError } from "./errors.ts";
import { checkHeaderLength, type HeaderEntry, parseHeader } from "./header.ts";

/** Largest single read; bigger tensors are read in pieces (some platforms cap one read at 2 GiB). */
const MAX_READ = 1 << 30;

export interface FileDigest {
  file: string;
  bytes: number;
  sha256: string;
}

export class SafetensorsFile implements TensorSource {
  readonly path: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly fileSize: number;
  private readonly handle: FileHandle;
  private readonly entries: HeaderEntry[];
  private readonly byName: Map<string, HeaderEntry>;
  private readonly dataStart: number;
  /** hash of the bytes [0, hashedUpTo): fed by reads that happen in file order, finished by digest() */
  private hash: Hash;
  private hashedUpTo = 0;
  private closed = false;

  private constructor(
    path: string,
    handle: FileHandle,
    fileSize: number,
    header: ReturnType<typeof parseHeader>,
    headerBytes: Uint8Array,
    prefix: Uint8Array,
  ) {
    this.path = path;
    this.handle = handle;
    this.fileSize = fileSize;
    this.entries = header.entries;
    this.metadata = header.metadata;
    this.dataStart = header.dataStart;
    this.byName = new Map(header.entries.map((e) => [e.name, e]));
    this.hash = createHash("sha256");
    this.hash.update(prefix);
    this.hash.update(headerBytes);
    this.hashedUpTo = this.dataStart;
  }

  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (e) {
      throw new SafetensorsError(path, `cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      const size = (await handle.stat()).size;
      const prefix = new Uint8Array(8);
      if (size >= 8) await readFully(handle, prefix, 0, path);
      const n = checkHeaderLength(path, prefix, size);
      const headerBytes = new Uint8Array(n);
      await readFully(handle, headerBytes, 8, path);
      const header = parseHeader(path, headerBytes, size);
      return new SafetensorsFile(path, handle, size, header, headerBytes, prefix);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  list(): TensorInfo[] {
    return this.entries.map(({ name, dtype, shape, byteLength }) => ({ name, dtype, shape: [...shape], byteLength }));
  }

  info(name: string): TensorInfo | undefined {
    const e = this.byName.get(name);
    return e && { name: e.name, dtype: e.dtype, shape: [...e.shape], byteLength: e.byteLength };
  }

  /** Absolute byte range [start, end) of a tensor's data in the file (for streaming whole spans of tensors). */
  byteRange(name: string): { start: number; end: number } | undefined {
    const e = this.byName.get(name);
    return e && { start: this.dataStart + e.begin, end: this.dataStart + e.begin + e.byteLength };
  }

  /** Fills `buf` with the file's bytes from `position` on (positional read, no hashing, no allocation). */
  async readAt(buf: Uint8Array, position: number, tensor?: string): Promise<void> {
    if (this.closed) throw new SafetensorsError(this.path, "read after close", tensor);
    if (position < 0 || position + buf.length > this.fileSize) {
      throw new SafetensorsError(
        this.path,
        `read of ${buf.length} bytes at ${position} runs past the end of the ${this.fileSize}-byte file`,
        tensor,
      );
    }
    await readFully(this.handle, buf, position, this.path, tensor);
  }

  async read(name: string): Promise<Uint8Array> {
    if (this.closed) throw new SafetensorsError(this.path, "read after close", name);
    const e = this.byName.get(name);
    if (!e) throw new SafetensorsError(this.path, "no such tensor", name);
    const buf = new Uint8Array(e.byteLength);
    const pos = this.dataStart + e.begin;
    await readFully(this.handle, buf, pos, this.path, name);
    if (pos === this.hashedUpTo) {
      this.hash.update(buf);
      this.hashedUpTo += buf.length;
    }
    return buf;
  }

  /**
   * sha256 of the whole file. Reads made in file order were hashed as they went, so after a full in-order pass this
   * costs nothing; otherwise the rest of the file is streamed from where the in-order reads stopped.
   */
  async digest(): Promise<FileDigest> {
    const chunk = new Uint8Array(Math.min(16 << 20, Math.max(1, this.fileSize)));
    while (this.hashedUpTo < this.fileSize) {
      const n = Math.min(chunk.length, this.fileSize - this.hashedUpTo);
      const view = chunk.subarray(0, n);
      await readFully(this.handle, view, this.hashedUpTo, this.path);
      this.hash.update(view);
      this.hashedUpTo += n;
    }
    const sha256 = this.hash.digest("hex");
    this.hash = createHash("sha256"); // a second digest() re-hashes from scratch
    this.hashedUpTo = 0;
    return { file: this.path, bytes: this.fileSize, sha256 };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

async function readFully(
  handle: FileHandle,
  buf: Uint8Array,
  position: number,
  file: string,
  tensor?: string,
): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const want = Math.min(MAX_READ, buf.length - done);
    const { bytesRead } = await handle.read(buf, done, want, position + done);
    if (bytesRead === 0) throw new SafetensorsError(file, `unexpected end of file at byte ${position + done}`, tensor);
    done += bytesRead;
  }
}

export function openSafetensors(path: string): Promise<SafetensorsFile> {
  return SafetensorsFile.open(path);
}
