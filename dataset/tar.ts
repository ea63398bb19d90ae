/**
 * Index of an uncompressed tar file (POSIX ustar, pax and GNU long names), read header by header with positional
 * reads: a WebDataset shard of a few GB is listed without reading its members, and a worker later reads one member's
 * byte range. Emilia and other WebDataset corpora are published as plain `.tar`; compressed tars cannot be read at an
 * offset and are refused.
 */
import { open } from "node:fs/promises";
import { ManifestError } from "./errors.ts";

export interface TarMember {
  name: string;
  /** byte offset of the member's data in the tar */
  offset: number;
  size: number;
}

const BLOCK = 512;

function field(h: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && h[end] !== 0) end++;
  return new TextDecoder().decode(h.subarray(start, end));
}

/** Numeric header field: octal text, or GNU base-256 (high bit set) for sizes of 8 GiB and more. */
function numeric(h: Uint8Array, start: number, len: number): number {
  if (h[start] & 0x80) {
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + h[i];
    return v;
  }
  const t = field(h, start, len).trim();
  return t ? parseInt(t, 8) : 0;
}

function checksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum === numeric(h, 148, 8);
}

/** pax extended header records: "<len> <key>=<value>\n" */
function paxRecords(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const text = new TextDecoder().decode(data);
  let i = 0;
  while (i < text.length) {
    const sp = text.indexOf(" ", i);
    const len = parseInt(text.slice(i, sp), 10);
    if (!(len > 0) || sp < 0) break;
    const rec = text.slice(sp + 1, i + len - 1);
    const eq = rec.indexOf("=");
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

/** Regular-file members in archive order. Errors name the tar and the byte offset of the bad header. */
export async function indexTar(path: string): Promise<TarMember[]> {
  if (/\.(t?gz|tgz|bz2|xz|zst)$/i.test(path)) {
    throw new ManifestError(path, "0", "compressed tar files cannot be read member by member; decompress it first");
  }
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    const members: TarMember[] = [];
    const header = new Uint8Array(BLOCK);
    let pos = 0;
    let longName: string | undefined;
    let pax: Map<string, string> | undefined;
    const readAt = async (buf: Uint8Array, at: number) => {
      const { bytesRead } = await fh.read(buf, 0, buf.length, at);
      if (bytesRead !== buf.length) throw new ManifestError(path, String(at), "truncated tar file");
    };
    while (pos + BLOCK <= size) {
      await readAt(header, pos);
      if (header.every((b) => b === 0)) break; // end-of-archive marker
      if (!checksumOk(header)) throw new ManifestError(path, String(pos), "not a tar header (bad checksum)");
      const type = String.fromCharCode(header[156] || 0x30);
      const isFile = type === "0" || type === "7";
      // a pax "size" record overrides the header's (which cannot hold sizes of 8 GiB and more in octal)
      const bodySize = isFile && pax?.has("size") ? Number(pax.get("size")) : numeric(header, 124, 12);
      const body = pos + BLOCK;
      if (body + bodySize > size) {
        throw new ManifestError(path, String(pos), `member declares ${bodySize} bytes but the file ends first`);
      }
      if (type === "L" || type === "x") {
        const data = new Uint8Array(bodySize);
        await readAt(data, body);
        if (type === "L") longName = field(data, 0, data.length);
        else pax = paxRecords(data);
      } else if (isFile) {
        const prefix = header[257] === 0x75 /* "ustar" */ ? field(header, 345, 155) : "";
        const short = field(header, 0, 100);
        const name = pax?.get("path") ?? longName ?? (prefix ? `${prefix}/${short}` : short);
        members.push({ name, offset: body, size: bodySize });
        longName = undefined;
        pax = undefined;
      } else {
        longName = undefined; // directories, links, global pax headers: nothing to encode
        pax = undefined;
      }
      pos = body + Math.ceil(bodySize / BLOCK) * BLOCK;
    }
    return members;
  } finally {
    await fh.close();
  }
}

/** One member's bytes. */
export async function readTarMember(tar: string, offset: number, size: number): Promise<Uint8Array> {
  const fh = await open(tar, "r");
  try {
    const buf = new Uint8Array(size);
    const { bytesRead } = await fh.read(buf, 0, size, offset);
    if (bytesRead !== size) throw new ManifestError(tar, String(offset), "member is truncated");
    return buf;
  } finally {
    await fh.close();
  }
}
