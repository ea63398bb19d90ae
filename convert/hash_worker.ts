/// <reference lib="webworker" />
/** Worker body for file_hash.ts: streams each requested file through sha256 and posts the digests back. */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

async function digest(path: string): Promise<{ file: string; bytes: number; sha256: string }> {
  const h = await open(path, "r");
  try {
    const size = (await h.stat()).size;
    const buf = new Uint8Array(8 << 20);
    const hash = createHash("sha256");
    for (let pos = 0; pos < size; ) {
      const { bytesRead } = await h.read(buf, 0, Math.min(buf.length, size - pos), pos);
      if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${pos}`);
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return { file: path, bytes: size, sha256: hash.digest("hex") };
  } finally {
    await h.close();
  }
}

self.onmessage = async (e: MessageEvent<string[]>) => {
  try {
    const out = [];
    for (const p of e.data) out.push(await digest(p));
    self.postMessage({ ok: true, digests: out });
  } catch (err) {
    self.postMessage({ ok: false, error: (err as Error).message });
  }
};
