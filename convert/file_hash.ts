/**
 * sha256 of the source files for conversion.json, computed on a second core while the conversion runs: a worker
 * streams the files through the hash from the page cache, so hashing costs (almost) no wall time. Where workers are
 * unavailable the files are hashed in-process instead.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

export interface FileDigest {
  file: string;
  bytes: number;
  sha256: string;
}

export async function hashFilesInProcess(paths: readonly string[]): Promise<FileDigest[]> {
  const out: FileDigest[] = [];
  for (const path of paths) {
    const h = await open(path, "r");
    try {
      const size = (await h.stat()).size;
      const buf = new Uint8Array(8 << 20);
      const hash = createHash("sha256");
      for (let pos = 0; pos < size; ) {
        const { bytesRead } = await h.read(buf, 0, Math.min(buf.length, size - pos), pos);
        if (bytesRead === 0) throw new Error(`${path}: unexpected end of file at byte ${pos}`);
        hash.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
      out.push({ file: path, bytes: size, sha256: hash.digest("hex") });
    } finally {
      await h.close();
    }
  }
  return out;
}

/** Starts hashing now; the promise settles when the digests are ready. Never rejects unhandled: await it. */
export function hashFilesInBackground(paths: readonly string[]): Promise<FileDigest[]> {
  const W = (globalThis as { Worker?: typeof Worker }).Worker;
  if (paths.length === 0) return Promise.resolve([]);
  if (typeof W !== "function") return hashFilesInProcess(paths);
  let worker: Worker;
  try {
    worker = new W(new URL("./hash_worker.ts", import.meta.url).href, { type: "module" });
  } catch {
    return hashFilesInProcess(paths);
  }
  const p = new Promise<FileDigest[]>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ ok: boolean; digests?: FileDigest[]; error?: string }>) => {
      worker.terminate();
      if (e.data.ok) resolve(e.data.digests!);
      else reject(new Error(e.data.error));
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault?.();
      worker.terminate();
      // a worker that cannot start (e.g. a runtime without TypeScript workers) falls back to hashing here
      hashFilesInProcess(paths).then(resolve, reject);
    };
  });
  worker.postMessage([...paths]);
  p.catch(() => {}); // avoid an unhandled rejection if the caller fails first; the caller still awaits p
  return p;
}
