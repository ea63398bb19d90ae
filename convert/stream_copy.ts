/**
 * The converter's I/O schedule for safetensors sources: one pass over each source file, front to back, in which
 *  - runs of pass-through tensors (renamed only, same dtype) that lie back to back in the source AND follow each other
 *    in the output are copied as one span, in big chunks, written straight from a reused read buffer (no per-tensor
 *    allocation, one write per chunk instead of one per tensor);
 *  - tensors a transform needs (weight-norm g/v, fused q/k/v, casts) are read whole, the job runs when its last input
 *    is in, and its outputs are written;
 *  - dropped tensors are skipped, unless the file is being hashed in-process, in which case every byte is read once
 *    and fed to the hash in file order (the same bytes the conversion uses, never a second pass).
 * Reading the next chunk overlaps with writing the current one (two buffers).
 */
import type { SequentialHash } from "./file_hash.ts";
import type { Job } from "./plan.ts";
import type { SafetensorsFile } from "./safetensors/reader.ts";
import type { CheckpointWriter } from "./safetensors/sharded.ts";

/** Chunk of a span copy: big enough that syscalls are few, small enough to be noise next to the RSS budget. */
export const STREAM_CHUNK_BYTES = 8 << 20;

export type StreamOp =
  | { kind: "span"; file: number; start: number; length: number; first: string; tensors: number }
  | { kind: "load"; file: number; name: string; start: number; length: number }
  | { kind: "job"; job: Job };

/**
 * Turns the plan's jobs (in completion order) into ops in file order. `passThrough(job)` says whether a job's single
 * output is its input's bytes unchanged.
 */
export function scheduleStream(
  files: readonly SafetensorsFile[],
  jobs: readonly Job[],
  passThrough: (job: Job) => boolean,
): StreamOp[] {
  const where = new Map<string, { file: number; start: number; end: number }>();
  const order: string[] = [];
  files.forEach((f, fi) => {
    for (const t of f.list()) {
      where.set(t.name, { file: fi, ...f.byteRange(t.name)! });
      order.push(t.name);
    }
  });
  const isPass = jobs.map((j) => passThrough(j) && where.get(j.inputs.src!)!.end > where.get(j.inputs.src!)!.start);
  const needed = new Set<string>();
  jobs.forEach((j, k) => {
    if (!isPass[k]) { for (const v of Object.values(j.inputs)) if (v !== undefined) needed.add(v); }
  });
  const ops: StreamOp[] = [];
  let next = 0;
  for (let i = 0; i < order.length; i++) {
    const name = order[i]!;
    const w = where.get(name)!;
    if (needed.has(name)) ops.push({ kind: "load", file: w.file, name, start: w.start, length: w.end - w.start });
    while (next < jobs.length && jobs[next]!.readyAt === i) {
      const k = next++;
      const job = jobs[k]!;
      if (!isPass[k]) {
        ops.push({ kind: "job", job });
        continue;
      }
      const src = where.get(job.inputs.src!)!;
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
  }
  return ops;
}

export interface StreamRun {
  files: readonly SafetensorsFile[];
  ops: readonly StreamOp[];
  writer: CheckpointWriter;
  /** one per file when hashing in-process; every byte of the file is then read once, in order */
  hashes?: SequentialHash[];
  /** runs a transform job on its loaded inputs; returns the outputs to write, in order */
  runJob: (job: Job, inputs: ReadonlyMap<string, Uint8Array>) => { name: string; data: Uint8Array }[];
  chunkBytes?: number;
}

/** Executes the ops; returns the number of tensor bytes written. */
export async function runStream(r: StreamRun): Promise<number> {
  const chunk = r.chunkBytes ?? STREAM_CHUNK_BYTES;
  const spanBytes = Math.min(chunk, Math.max(0, ...r.ops.map((o) => (o.kind === "span" ? o.length : 0))));
  const hashing = r.hashes !== undefined;
  // two buffers: one being written (or hashed) while the other is filled
  let bufA = new Uint8Array(hashing ? chunk : spanBytes);
  let bufB = new Uint8Array(bufA.length);
  const pending = new Map<string, Uint8Array>();
  const scratch = new Scratch(scratchBytes(r.ops));
  let written = 0;

  /** Hashes [hash.upTo, to) of a file: the bytes no op reads (header, dropped tensors). */
  const hashGap = async (fi: number, to: number): Promise<void> => {
    const h = r.hashes?.[fi];
    if (!h) return;
    while (h.upTo < to) {
      const view = bufA.subarray(0, Math.min(bufA.length, to - h.upTo));
      await r.files[fi]!.readAt(view, h.upTo);
      h.update(view);
    }
  };

  for (const op of r.ops) {
    if (op.kind === "load") {
      await hashGap(op.file, op.start);
      const data = scratch.take(op.length);
      await r.files[op.file]!.readAt(data, op.start, op.name);
      r.hashes?.[op.file]?.update(data);
      pending.set(op.name, data);
    } else if (op.kind === "job") {
      const outs = r.runJob(op.job, pending);
      for (const o of outs) {
        await r.writer.write(o.name, o.data);
        written += o.data.byteLength;
      }
      // outputs may alias their inputs (folded in place): free the inputs' scratch only once they are written
      for (const v of Object.values(op.job.inputs)) if (v !== undefined) pending.delete(v);
      if (pending.size === 0) scratch.reset();
    } else {
      await hashGap(op.file, op.start);
      const file = r.files[op.file]!;
      const end = op.start + op.length;
      let pos = op.start;
      let n = Math.min(bufA.length, end - pos);
      await file.readAt(bufA.subarray(0, n), pos);
      let first: string | undefined = op.first;
      for (;;) {
        const cur = bufA.subarray(0, n);
        const nextPos = pos + n;
        const nextN = Math.min(bufB.length, end - nextPos);
        // write this chunk and read the next one at the same time (both run off the JS thread); hash meanwhile
        const w = r.writer.writeSpan(cur, first);
        const rd = nextN > 0 ? file.readAt(bufB.subarray(0, nextN), nextPos) : undefined;
        r.hashes?.[op.file]?.update(cur);
        await Promise.all([w, rd]);
        written += n;
        first = undefined;
        if (nextN === 0) break;
        [bufA, bufB] = [bufB, bufA];
        pos = nextPos;
        n = nextN;
      }
    }
  }
  for (let fi = 0; fi < r.files.length; fi++) await hashGap(fi, r.files[fi]!.fileSize);
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
  constructor(bytes: number) {
    this.block = new Uint8Array(bytes);
  }
  take(n: number): Uint8Array {
    const start = Math.ceil(this.used / 8) * 8; // 8-aligned: typed-array views of any element size, no copies
    this.want = Math.max(this.want, start + n);
    if (start + n > this.block.length) return new Uint8Array(n);
    this.used = start + n;
    return this.block.subarray(start, start + n);
  }
  reset(): void {
    this.used = 0;
    if (this.want > this.block.length) this.block = new Uint8Array(this.want);
  }
}

/** The scratch block the ops need: the largest sum of (8-aligned) loads between two moments with nothing pending. */
function scratchBytes(ops: readonly StreamOp[]): number {
  const pending = new Set<string>();
  let used = 0;
  let max = 0;
  for (const op of ops) {
    if (op.kind === "load") {
      used = Math.ceil(used / 8) * 8 + op.length;
      max = Math.max(max, used);
      pending.add(op.name);
    } else if (op.kind === "job") {
      for (const v of Object.values(op.job.inputs)) if (v !== undefined) pending.delete(v);
      if (pending.size === 0) used = 0;
    }
  }
  return max;
}
