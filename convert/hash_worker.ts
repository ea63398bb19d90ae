/**
 * sha256 on a second thread. The conversion reads the source once, front to back (`schedule.ts`); a hash of 3.3 GB
 * takes about as long as copying it (SHA-NI: ~2 GB/s on one core), so the bytes the converter has just read are
 * handed, without a copy, to a worker thread that hashes them on the other core while the main thread writes them
 * out. Buffers are SharedArrayBuffer-backed; `update` resolves once the worker has consumed the bytes, after which
 * the caller may overwrite them. A source the converter does not read in file order (pickles) is hashed whole by the
 * worker reading the file itself (`hashFile`), still beside the conversion.
 *
 * This replaces an external `openssl dgst` child that read every byte a second time. Measured on the 2-core machine
 * (full-size synthetic checkpoint, 3.29 GB, output to tmpfs so that CPU and not the disk bounds it, 4 alternated
 * runs, loaded machine): cp 5.3–6.0 s; conversion 11.5–13.0 s with the worker, 13.1–15.0 s with the child; CPU time
 * 6.2–7.2 s vs 7.0–7.5 s (sys 3.4–3.8 s vs 4.1–4.5 s: the second read is gone). sha256 itself runs at 1.35 GiB per
 * CPU-second here in Bun, Deno and openssl alike (SHA-NI), 2.3 s for this checkpoint: on two idle cores it hides
 * behind the conversion, on a loaded machine it is the floor.
 *
 * The worker is plain JavaScript given as a string (`eval`), so it runs unchanged under Bun, Deno and Node, from
 * sources or from a bundle.
 */
import process from "node:process";

const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const hashes = new Map();
parentPort.on("message", (m) => {
  try {
    if (m.op === "update") {
      let h = hashes.get(m.stream);
      if (!h) hashes.set(m.stream, (h = createHash("sha256")));
      h.update(new Uint8Array(m.buffer, m.offset, m.length));
      parentPort.postMessage({ id: m.id });
    } else if (m.op === "digest") {
      const h = hashes.get(m.stream) || createHash("sha256");
      hashes.delete(m.stream);
      parentPort.postMessage({ id: m.id, hex: h.digest("hex") });
    } else if (m.op === "file") {
      const h = createHash("sha256");
      const fd = fs.openSync(m.path, "r");
      const buf = Buffer.allocUnsafe(8 << 20);
      let pos = 0, n;
      try {
        while ((n = fs.readSync(fd, buf, 0, buf.length, pos)) > 0) { h.update(buf.subarray(0, n)); pos += n; }
      } finally { fs.closeSync(fd); }
      parentPort.postMessage({ id: m.id, hex: h.digest("hex"), bytes: pos });
    }
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String((e && e.message) || e) });
  }
});
`;

interface Reply {
  id: number;
  hex?: string;
  bytes?: number;
  error?: string;
}

type WorkerLike = {
  postMessage(m: unknown): void;
  on(ev: "message", f: (m: Reply) => void): void;
  on(ev: "error", f: (e: Error) => void): void;
  terminate(): Promise<number> | void;
  unref?(): void;
};

/** A bytes buffer the worker can read in place. */
export function sharedBytes(n: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(Math.max(1, n)), 0, n);
}

export class HashWorker {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private failed: Error | undefined;

  private constructor(private readonly worker: WorkerLike) {
    worker.on("message", (m) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error !== undefined) w.reject(new Error(`sha256 worker: ${m.error}`));
      else w.resolve(m);
    });
    worker.on("error", (e) => {
      this.failed = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    });
  }

  /** A running worker, or undefined where threads are unavailable (or `XCODEC2_NO_HASH_WORKER` is set). */
  static async start(): Promise<HashWorker | undefined> {
    if (process.env.XCODEC2_NO_HASH_WORKER) return undefined;
    try {
      const { Worker } = await import("node:worker_threads");
      return new HashWorker(new Worker(WORKER_SOURCE, { eval: true }) as unknown as WorkerLike);
    } catch {
      return undefined;
    }
  }

  private call(m: Record<string, unknown>): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...m, id });
    });
  }

  /**
   * Feeds `bytes` to stream `stream`'s hash, in call order. Shared buffers are read in place; others are copied
   * into the message. Resolves once the worker is done with them.
   */
  async update(stream: number, bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength === 0) return;
    if (bytes.buffer instanceof SharedArrayBuffer) {
      await this.call({
        op: "update",
        stream,
        buffer: bytes.buffer,
        offset: bytes.byteOffset,
        length: bytes.byteLength,
      });
    } else {
      const copy = sharedBytes(bytes.byteLength);
      copy.set(bytes);
      await this.call({ op: "update", stream, buffer: copy.buffer, offset: 0, length: copy.byteLength });
    }
  }

  /** The hex digest of everything fed to `stream` (which then starts afresh). */
  async digest(stream: number): Promise<string> {
    return (await this.call({ op: "digest", stream })).hex!;
  }

  /** sha256 of a whole file, read by the worker itself. */
  async hashFile(path: string): Promise<{ hex: string; bytes: number }> {
    const r = await this.call({ op: "file", path });
    return { hex: r.hex!, bytes: r.bytes! };
  }

  async terminate(): Promise<void> {
    for (const w of this.waiting.values()) w.reject(new Error("sha256 worker stopped"));
    this.waiting.clear();
    await this.worker.terminate();
  }
}
