/**
 * Checksums every package uses: CRC-32 (zip entries in the pickle reader and the fixture writer, PNG chunks in the
 * parity report) and whole-file digests (sha256 of checkpoints for conversion.json and the parity suite; git's blob
 * sha1 for Hub files outside LFS).
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (table) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC-32 (IEEE 802.3) of `bytes`, continuing from `crc` (pass the previous result to checksum data in pieces). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const t = crcTable();
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export interface FileDigestOptions {
  /** default sha256 */
  algo?: "sha256" | "sha1";
  /** hashed before the file's bytes (git hashes a blob as `blob <size>\0` + content) */
  prefix?: string;
}

/** Hex digest of a whole file and its size, read in 8 MiB pieces. */
export async function fileDigest(path: string, opts: FileDigestOptions = {}): Promise<{ bytes: number; hex: string }> {
  const h = await open(path, "r");
  try {
    const size = (await h.stat()).size;
    const hash = createHash(opts.algo ?? "sha256");
    if (opts.prefix !== undefined) hash.update(opts.prefix);
    const buf = new Uint8Array(Math.min(8 << 20, Math.max(size, 1)));
    for (let pos = 0; pos < size;) {
      const { bytesRead } = await h.read(buf, 0, Math.min(buf.length, size - pos), pos);
      // the file shrank while it was read: a digest of part of it must not pass for the whole
      if (bytesRead === 0) throw new Error(`${path}: unexpected end of file at byte ${pos} of ${size}`);
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return { bytes: size, hex: hash.digest("hex") };
  } finally {
    await h.close();
  }
}
