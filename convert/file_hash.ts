/**
 * sha256 of the source files for conversion.json, computed beside the conversion rather than before or after it: for
 * a source read in file order (safetensors), from the very bytes the converter reads, on a worker thread
 * (`hash_worker.ts`; `StreamHash`); otherwise the worker reads the files itself while the conversion runs. Without
 * worker threads, the same streams are hashed on the main thread (`SequentialHash`).
 */
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { fileDigest } from "../common/checksums.ts";
import type { HashWorker } from "./hash_worker.ts";

export interface FileDigest {
  file: string;
  bytes: number;
  sha256: string;
}

export async function hashFilesInProcess(paths: readonly string[]): Promise<FileDigest[]> {
  const out: FileDigest[] = [];
  for (const file of paths) {
    const { bytes, hex } = await fileDigest(file);
    out.push({ file, bytes, sha256: hex });
  }
  return out;
}

/**
 * Incremental sha256 of one file, fed in file order; `upTo` marks how far it has been fed (it advances when
 * `update` is called). `update` resolves once the bytes have been consumed: until then the caller must not overwrite
 * them.
 */
export interface StreamHash {
  readonly upTo: number;
  update(bytes: Uint8Array): Promise<void>;
  hex(): Promise<string>;
}

/** A stream hashed on the calling thread. */
export class SequentialHash implements StreamHash {
  upTo = 0;
  private readonly hash = createHash("sha256");
  update(bytes: Uint8Array): Promise<void> {
    this.hash.update(bytes);
    this.upTo += bytes.byteLength;
    return Promise.resolve();
  }
  hex(): Promise<string> {
    return Promise.resolve(this.hash.digest("hex"));
  }
}

/** A stream hashed on the worker thread (stream ids are the source's file indices). */
export class WorkerStreamHash implements StreamHash {
  upTo = 0;
  constructor(private readonly worker: HashWorker, private readonly stream: number) {}
  update(bytes: Uint8Array): Promise<void> {
    this.upTo += bytes.byteLength;
    return this.worker.update(this.stream, bytes);
  }
  hex(): Promise<string> {
    return this.worker.digest(this.stream);
  }
}

/** One stream hash per file of a source read in file order: on the worker when there is one. */
export function streamHashes(files: number, worker: HashWorker | undefined): StreamHash[] {
  return Array.from({ length: files }, (_, i) => (worker ? new WorkerStreamHash(worker, i) : new SequentialHash()));
}

/**
 * The source's digests once the conversion has read it: from the streams fed during the pass (one per file), else
 * from whole-file hashes started beside the conversion (`started`, one per file), else from an in-process pass now.
 */
export async function collectDigests(
  paths: readonly string[],
  streams: readonly StreamHash[] | undefined,
  started?: readonly Promise<{ hex: string }>[],
): Promise<FileDigest[]> {
  const settled = started?.map((p) => p.then((r) => r.hex, () => undefined)); // handled before any await
  const sizes = await Promise.all(paths.map((p) => stat(p).then((s) => s.size)));
  if (streams) {
    const hex = await Promise.all(streams.map((h) => h.hex()));
    return paths.map((file, i) => ({ file, bytes: sizes[i]!, sha256: hex[i]! }));
  }
  if (settled) {
    const hex = await Promise.all(settled);
    if (hex.every((h) => h !== undefined)) return paths.map((file, i) => ({ file, bytes: sizes[i]!, sha256: hex[i]! }));
  }
  return hashFilesInProcess(paths);
}

/** One sha256 for a source: its file's, or (sharded) the sha256 of its files' hex digests, one per line. */
export function combinedSha256(digests: readonly FileDigest[]): string {
  return digests.length === 1
    ? digests[0]!.sha256
    : createHash("sha256").update(digests.map((d) => d.sha256).join("\n")).digest("hex");
}
