/**
 * A strict, random-access reader for the zip container `torch.save` writes (PyTorch >= 1.6): it reads the central
 * directory from the end of the file and then only the entries asked for, so a multi-gigabyte checkpoint is never
 * read whole. Every declared size and offset is checked against the file size before anything is allocated.
 *
 * torch writes entries STORED (uncompressed), 64-byte aligned via a padding extra field, with data descriptors (the
 * local headers carry zero sizes), and ZIP64 records once the archive passes 4 GiB; so sizes are taken from the
 * central directory, never from local headers. DEFLATE is accepted too (a checkpoint re-zipped by hand).
 */

import { type FileHandle, open } from "node:fs/promises";
import { inflateRawSync } from "node:zlib";
import { crc32 } from "../../common/checksums.ts";
import { ZipFormatError } from "./errors.ts";

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;
/** A central directory larger than this is not a checkpoint (torch's is ~100 bytes per tensor). */
const MAX_CENTRAL_DIRECTORY = 512 * 1024 * 1024;
/** Largest single entry we will inflate or read into memory. */
export const MAX_ENTRY_BYTES = 2 ** 31 - 1;
/** torch never compresses; a hand-re-zipped checkpoint's deflated entries are inflated in memory, so cap them. */
const MAX_DEFLATED_BYTES = 512 * 1024 * 1024;

export class ZipReader {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** entry names in central-directory order */
  readonly names: readonly string[];

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly fileSize: number,
    entries: ZipEntry[],
  ) {
    const map = new Map<string, ZipEntry>();
    for (const e of entries) {
      if (map.has(e.name)) throw new ZipFormatError(`${path}: duplicate zip entry "${e.name}"`);
      map.set(e.name, e);
    }
    this.entries = map;
    this.names = entries.map((e) => e.name);
  }

  static async open(path: string): Promise<ZipReader> {
    const handle = await open(path, "r");
    try {
      const fileSize = (await handle.stat()).size;
      const entries = await readCentralDirectory(path, handle, fileSize);
      return new ZipReader(path, handle, fileSize, entries);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** The whole (uncompressed) entry, CRC-checked. */
  async read(entry: ZipEntry): Promise<Uint8Array> {
    const where = `${this.path}: zip entry "${entry.name}"`;
    const start = await this.dataStart(entry);
    const raw = await readExactly(this.handle, start, entry.compressedSize, this.path);
    let data: Uint8Array;
    if (entry.method === 0) {
      data = raw;
    } else {
      try {
        data = new Uint8Array(inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) }));
      } catch (err) {
        throw new ZipFormatError(
          `${where}: deflate data is corrupt or larger than declared (${(err as Error).message})`,
        );
      }
      if (data.length !== entry.size) {
        throw new ZipFormatError(
          `${where}: inflated to ${data.length} bytes, central directory declares ${entry.size}`,
        );
      }
    }
    const actual = crc32(data);
    if (actual !== entry.crc32) {
      throw new ZipFormatError(
        `${where}: CRC-32 mismatch (stored ${hex(entry.crc32)}, computed ${hex(actual)}); the file is corrupt`,
      );
    }
    return data;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private async dataStart(entry: ZipEntry): Promise<number> {
    const where = `${this.path}: zip entry "${entry.name}"`;
    if (entry.localHeaderOffset + LOCAL_SIZE > this.fileSize) {
      throw new ZipFormatError(`${where}: local header offset ${entry.localHeaderOffset} is past the end of the file`);
    }
    const h = await readExactly(this.handle, entry.localHeaderOffset, LOCAL_SIZE, this.path);
    const v = view(h);
    if (v.getUint32(0, true) !== SIG_LOCAL) throw new ZipFormatError(`${where}: bad local header signature`);
    const start = entry.localHeaderOffset + LOCAL_SIZE + v.getUint16(26, true) + v.getUint16(28, true);
    if (start + entry.compressedSize > this.fileSize) {
      throw new ZipFormatError(
        `${where}: data (${entry.compressedSize} bytes at ${start}) runs past the end of the file (${this.fileSize} bytes)`,
      );
    }
    return start;
  }
}

function hex(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

async function readExactly(handle: FileHandle, position: number, length: number, path: string): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new ZipFormatError(`${path}: unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
  return buf;
}

function u64(v: DataView, at: number, what: string, path: string): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError(`${path}: ZIP64 ${what} ${n} is out of range`);
  return Number(n);
}

async function readCentralDirectory(path: string, handle: FileHandle, fileSize: number): Promise<ZipEntry[]> {
  if (fileSize < EOCD_SIZE) {
    throw new ZipFormatError(`${path}: ${fileSize} bytes is too short to be a zip archive (PyTorch checkpoint)`);
  }
  const tailLength = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT);
  const tailStart = fileSize - tailLength;
  const tail = await readExactly(handle, tailStart, tailLength, path);
  const tv = view(tail);
  let eocd = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + tv.getUint16(i + 20, true) <= tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    const head = tail.subarray(0, 2);
    const legacy = tailStart === 0 && head[0] === 0x80 && head[1] <= 5;
    throw new ZipFormatError(
      legacy
        ? `${path}: this is a legacy (pre-1.6, non-zip) torch.save file; re-save it with a current PyTorch`
        : `${path}: not a zip archive (no end-of-central-directory record); a PyTorch checkpoint is a zip file`,
    );
  }
  if (tv.getUint16(eocd + 4, true) !== 0 || tv.getUint16(eocd + 6, true) !== 0) {
    throw new ZipFormatError(`${path}: multi-disk zip archives are not supported`);
  }
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  const eocdAbs = tailStart + eocd;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // ZIP64: the locator sits right before the classic record and points at the ZIP64 end record.
    if (eocdAbs < 20) throw new ZipFormatError(`${path}: ZIP64 locator missing`);
    const loc = view(await readExactly(handle, eocdAbs - 20, 20, path));
    if (loc.getUint32(0, true) !== SIG_ZIP64_LOCATOR) throw new ZipFormatError(`${path}: ZIP64 locator missing`);
    const recOffset = u64(loc, 8, "end record offset", path);
    if (recOffset + 56 > fileSize) throw new ZipFormatError(`${path}: ZIP64 end record offset past end of file`);
    const rec = view(await readExactly(handle, recOffset, 56, path));
    if (rec.getUint32(0, true) !== SIG_ZIP64_EOCD) throw new ZipFormatError(`${path}: bad ZIP64 end record signature`);
    count = u64(rec, 32, "entry count", path);
    cdSize = u64(rec, 40, "central directory size", path);
    cdOffset = u64(rec, 48, "central directory offset", path);
  }
  if (cdOffset + cdSize > fileSize || cdSize > MAX_CENTRAL_DIRECTORY) {
    throw new ZipFormatError(
      `${path}: central directory (${cdSize} bytes at ${cdOffset}) does not fit in the file (${fileSize} bytes)`,
    );
  }
  if (count * CENTRAL_SIZE > cdSize) {
    throw new ZipFormatError(`${path}: ${count} entries cannot fit in a ${cdSize}-byte central directory`);
  }
  const cd = await readExactly(handle, cdOffset, cdSize, path);
  const v = view(cd);
  const decoder = new TextDecoder("utf-8");
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > cd.length || v.getUint32(p, true) !== SIG_CENTRAL) {
      throw new ZipFormatError(`${path}: central directory entry ${i} is malformed`);
    }
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    let compressedSize = v.getUint32(p + 20, true);
    let size = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let localHeaderOffset = v.getUint32(p + 42, true);
    const end = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (end > cd.length) throw new ZipFormatError(`${path}: central directory entry ${i} runs past its end`);
    const name = decoder.decode(cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen));
    // ZIP64 extended information: only the fields whose classic value is saturated are present, in this order.
    let x = p + CENTRAL_SIZE + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = v.getUint16(x, true);
      const len = v.getUint16(x + 2, true);
      if (x + 4 + len > xEnd) throw new ZipFormatError(`${path}: zip entry "${name}": extra field runs past its end`);
      if (id === 0x0001) {
        let q = x + 4;
        const take = (what: string): number => {
          if (q + 8 > x + 4 + len) {
            throw new ZipFormatError(`${path}: zip entry "${name}": ZIP64 field ${what} missing`);
          }
          const n = u64(v, q, what, path);
          q += 8;
          return n;
        };
        if (size === 0xffffffff) size = take("size");
        if (compressedSize === 0xffffffff) compressedSize = take("compressed size");
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take("offset");
      }
      x += 4 + len;
    }
    const where = `${path}: zip entry "${name}"`;
    if (flags & 0x1) throw new ZipFormatError(`${where} is encrypted`);
    if (method !== 0 && method !== 8) throw new ZipFormatError(`${where}: unsupported compression method ${method}`);
    if (method === 0 && compressedSize !== size) {
      throw new ZipFormatError(`${where}: stored entry with compressed size ${compressedSize} != size ${size}`);
    }
    if (localHeaderOffset + compressedSize > cdOffset || compressedSize > fileSize) {
      throw new ZipFormatError(`${where}: declared size ${compressedSize} at ${localHeaderOffset} exceeds the archive`);
    }
    if (size > MAX_ENTRY_BYTES) throw new ZipFormatError(`${where}: declared size ${size} is too large`);
    // deflate cannot expand more than ~1032:1; a larger claim is a lie (or a bomb) we refuse before inflating
    if (method === 8 && (size > MAX_DEFLATED_BYTES || size > compressedSize * 1032 + 1024)) {
      throw new ZipFormatError(
        `${where}: compressed entry declares ${size} bytes from ${compressedSize}; refusing to inflate`,
      );
    }
    entries.push({ name, method, flags, crc32: crc, compressedSize, size, localHeaderOffset });
    p = end;
  }
  return entries;
}
