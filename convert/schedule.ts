/**
 * The converter's one I/O schedule, for every kind of source: one pass over the source, front to back, in which
 *  - tensors a transform needs (weight-norm g/v, fused q/k/v, casts, and every tensor of a source without byte
 *    ranges) are loaded whole, the job runs when its last input is in, and its outputs are written;
 *  - for safetensors sources (byte ranges known), runs of pass-through tensors (renamed only, same dtype) that lie back
 *    to back in the source AND follow each other in the output are copied as one span, in big chunks, written straight
 *    from a reused read buffer (no per-tensor allocation, one write per chunk instead of one per tensor);
 *  - dropped tensors are skipped, unless the file is being hashed, in which case every byte is read once and fed to
 *    the hash in file order (the same bytes the conversion uses, never a second pass); the hash runs on a worker
 *    thread (`StreamHash`), overlapped with the next read and the current write, in buffers it reads in place.
 * Pickle checkpoints have no byte ranges: every job's inputs are loaded through `TensorSource.read`, tensor by tensor.
 * Reading the next chunk of a span overlaps with writing the current one (two buffers).
 */
import { ConversionError } from "./errors.ts";
import type { StreamHash } from "./file_hash.ts";
import { sharedBytes } from "./hash_worker.ts";
import type { Job } from "./plan.ts";
import type { SafetensorsFile } from "./safetensors/reader.ts";
import type { CheckpointWriter } from "./safetensors/sharded.ts";
import type { TensorSource } from "./tensor_source.ts";
import type { JobOutput } from "./transforms.ts";

/** Chunk of a span copy: big enough that syscalls are few, small enough to be noise next to the RSS budget. */
export const STREAM_CHUNK_BYTES = 8 << 20;

export type ReadOp =
  | { kind: "span"; file: number; start: number; length: number; first: string; tensors: number }
  /** a whole tensor: by byte range where the source has them, else through `TensorSource.read` */
  | { kind: "load"; name: string; length: number; range?: { file: number; start: number } }
  | { kind: "job"; job: Job };

/**
 * Turns the plan's jobs (in completion order) into ops in file order. `files` are the source's byte-addressable files
 * (`byteRangeFiles`), or undefined to read tensor by tensor. `passThrough(job)` says whether a job's single output is
 * its input's bytes unchanged.
 */
export function scheduleReads(
  source: TensorSource,
  files: readonly SafetensorsFile[] | undefined,
  jobs: readonly Job[],
  passThrough: (job: Job) => boolean,
): ReadOp[] {
  const where = new Map<string, { file: number; start: number; end: number }>();
  const order = source.list();
  files?.forEach((f, fi) => {
    for (const t of f.list()) where.set(t.name, { file: fi, ...f.byteRange(t.name)! });
  });
  const span = (j: Job) => {
    const w = where.get(j.inputs.src!);
    return w !== undefined && w.end > w.start && passThrough(j) ? w : undefined;
  };
  const needed = new Set<string>();
  for (const j of jobs) {
    if (!span(j)) { for (const v of Object.values(j.inputs)) if (v !== undefined) needed.add(v); }
  }
  const ops: ReadOp[] = [];
  let next = 0;
  order.forEach((t, i) => {
    if (needed.has(t.name)) {
      const w = where.get(t.name);
      ops.push({
        kind: "load",
        name: t.name,
        length: t.byteLength,
        ...(w ? { range: { file: w.file, start: w.start } } : {}),
      });
    }
    while (next < jobs.length && jobs[next]!.readyAt === i) {
      const job = jobs[next++]!;
      const src = span(job);
      if (!src) {
        ops.push({ kind: "job", job });
        continue;
      }
      const last = ops[ops.length - 1];
      if (last?.kind === "span" && last.file === src.file && last.start + last.length === src.start) {
        last.length += src.end - src.start;
        last.tensors++;
      } else {
        ops.push({
          kind: "span",
          file: src.file,
          start: src.start,
          length: src.end - src.start,
          first: job.outputs[0]!.name,
          tensors: 1,
        });
      }
    }
  });
  return ops;
}

export interface ReadRun {
  source: TensorSource;
  /** the byte-addressable files the ops' ranges refer to */
  files?: readonly SafetensorsFile[];
  ops: readonly ReadOp[];
  writer: CheckpointWriter;
  /** one per file when hashing; every byte of the file is then read once, in order */
  hashes?: readonly StreamHash[];
  /** runs a transform job on its loaded inputs (`owned`: they are scratch it may overwrite); returns its outputs */
  runJob: (job: Job, inputs: ReadonlyMap<string, Uint8Array>, owned: boolean) => JobOutput[];
  chunkBytes?: number;
}

/** Executes the ops; returns the number of tensor bytes written. */
export async function runReads(r: ReadRun): Promise<number> {
  const chunk = r.chunkBytes ?? STREAM_CHUNK_BYTES;
  const spanBytes = Math.min(chunk, Math.max(0, ...r.ops.map((o) => (o.kind === "span" ? o.length : 0))));
  const hashing = r.hashes !== undefined;
  // shared buffers when hashing: the hash worker reads them in place
  const alloc = hashing ? sharedBytes : (n: number) => new Uint8Array(n);
  // two buffers: one being written (or hashed) while the other is filled
  let bufA = alloc(hashing ? chunk : spanBytes);
  let bufB = alloc(bufA.length);
  const pending = new Map<string, Uint8Array>();
  const borrowed = new Set<string>(); // loaded by the source, not into our scratch: not ours to overwrite
  const scratch = new Scratch(scratchBytes(r.ops), alloc);
  /** hashes of loaded inputs still being computed: a job may overwrite its inputs, so it waits for them */
  let loadHashes: Promise<void>[] = [];
  let written = 0;
  const file = (fi: number) => r.files![fi]!;

  /** Hashes [hash.upTo, to) of a file: the bytes no op reads (header, dropped tensors); reads overlap the hash. */
  const hashGap = async (fi: number, to: number): Promise<void> => {
    const h = r.hashes?.[fi];
    if (!h) return;
    let hashed: Promise<void> | undefined;
    while (h.upTo < to) {
      const view = bufA.subarray(0, Math.min(bufA.length, to - h.upTo));
      await file(fi).readAt(view, h.upTo);
      await hashed; // the other buffer's hash, before it is refilled
      hashed = h.update(view);
      [bufA, bufB] = [bufB, bufA];
    }
    await hashed;
  };

  for (const op of r.ops) {
    if (op.kind === "load") {
      if (op.range) {
        await hashGap(op.range.file, op.range.start);
        const data = scratch.take(op.length);
        await file(op.range.file).readAt(data, op.range.start, op.name);
        const h = r.hashes?.[op.range.file];
        if (h) loadHashes.push(h.update(data));
        pending.set(op.name, data);
      } else {
        const data = await r.source.read(op.name);
        if (data.byteLength !== op.length) {
          throw new ConversionError(`read ${data.byteLength} bytes, expected ${op.length}`, {
            file: r.source.path,
            tensor: op.name,
          });
        }
        pending.set(op.name, data);
        borrowed.add(op.name);
      }
    } else if (op.kind === "job") {
      const inputs = Object.values(op.job.inputs).filter((v): v is string => v !== undefined);
      await Promise.all(loadHashes);
      loadHashes = [];
      const outs = r.runJob(op.job, pending, inputs.every((v) => !borrowed.has(v)));
      for (const o of outs) {
        await r.writer.write(o.name, o.data);
        written += o.data.byteLength;
      }
      // outputs may alias their inputs (folded in place): free the inputs' scratch only once they are written
      for (const v of inputs) {
        pending.delete(v);
        borrowed.delete(v);
      }
      if (pending.size === 0) scratch.reset();
    } else {
      await hashGap(op.file, op.start);
      const f = file(op.file);
      const end = op.start + op.length;
      let pos = op.start;
      let n = Math.min(bufA.length, end - pos);
      await f.readAt(bufA.subarray(0, n), pos);
      let first: string | undefined = op.first;
      for (;;) {
        const cur = bufA.subarray(0, n);
        const nextPos = pos + n;
        const nextN = Math.min(bufB.length, end - nextPos);
        // write this chunk, hash it (worker thread) and read the next one, all at the same time
        const w = r.writer.writeSpan(cur, first);
        const rd = nextN > 0 ? f.readAt(bufB.subarray(0, nextN), nextPos) : undefined;
        const hs = r.hashes?.[op.file]?.update(cur);
        await Promise.all([w, rd, hs]);
        written += n;
        first = undefined;
        if (nextN === 0) break;
        [bufA, bufB] = [bufB, bufA];
        pos = nextPos;
        n = nextN;
      }
    }
  }
  for (let fi = 0; fi < (r.hashes?.length ?? 0); fi++) await hashGap(fi, file(fi).fileSize);
  await Promise.all(loadHashes);
  return written;
}

/**
 * Bump allocator for transform inputs: the tensors one job needs live side by side in one reused buffer, which is
 * recycled whenever no input is pending, so the converter allocates one largest-job-sized block (sized from the ops
 * up front), not a fresh buffer per tensor for the garbage collector to catch up with. A request that does not fit
 * gets its own buffer, and the block grows to fit at the next recycle.
 */
class Scratch {
  private block: Uint8Array;
  private used = 0;
  private want = 0;
  constructor(bytes: number, private readonly alloc: (n: number) => Uint8Array) {
    this.block = alloc(bytes);
  }
  take(n: number): Uint8Array {
    const start = Math.ceil(this.used / 8) * 8; // 8-aligned: typed-array views of any element size, no copies
    this.want = Math.max(this.want, start + n);
    if (start + n > this.block.length) return this.alloc(n);
    this.used = start + n;
    return this.block.subarray(start, start + n);
  }
  reset(): void {
    this.used = 0;
    if (this.want > this.block.length) this.block = this.alloc(this.want);
  }
}

/** The scratch block the ops need: the largest sum of (8-aligned) range loads between moments with nothing pending. */
function scratchBytes(ops: readonly ReadOp[]): number {
  const pending = new Set<string>();
  let used = 0;
  let max = 0;
  for (const op of ops) {
    if (op.kind === "load") {
      if (op.range) {
        used = Math.ceil(used / 8) * 8 + op.length;
        max = Math.max(max, used);
      }
      pending.add(op.name);
    } else if (op.kind === "job") {
      for (const v of Object.values(op.job.inputs)) if (v !== undefined) pending.delete(v);
      if (pending.size === 0) used = 0;
    }
  }
  return max;
}
