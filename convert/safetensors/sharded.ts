/**
 * Sharded checkpoints: `model.safetensors.index.json` ({metadata: {total_size}, weight_map: {tensor: shard file}})
 * read as one TensorSource, and a writer that splits a tensor stream into `model-0000i-of-0000n.safetensors` shards no
 * larger than a byte limit (a single tensor above the limit gets a shard of its own, as transformers does).
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { TensorInfo, TensorSource } from "../tensor_source.ts";
import { SafetensorsError } from "./errors.ts";
import { claimTempPath } from "../../common/temp_files.ts";
import { type FileDigest, SafetensorsFile } from "./reader.ts";
import { byteLengthOf, SafetensorsWriter, type TensorSpec } from "./writer.ts";

export const INDEX_NAME = "model.safetensors.index.json";

export class ShardedSafetensors implements TensorSource {
  readonly path: string;
  readonly shards: SafetensorsFile[];
  private readonly owner = new Map<string, SafetensorsFile>();

  private constructor(path: string, shards: SafetensorsFile[], owner: Map<string, SafetensorsFile>) {
    this.path = path;
    this.shards = shards;
    this.owner = owner;
  }

  static async open(indexPath: string): Promise<ShardedSafetensors> {
    let index: unknown;
    try {
      index = JSON.parse(await readFile(indexPath, "utf8"));
    } catch (e) {
      throw new SafetensorsError(indexPath, `cannot read shard index (${(e as Error).message})`);
    }
    const map = (index as { weight_map?: unknown })?.weight_map;
    if (!map || typeof map !== "object" || Array.isArray(map)) {
      throw new SafetensorsError(indexPath, "no weight_map object");
    }
    const files: string[] = [];
    for (const [name, f] of Object.entries(map as Record<string, unknown>)) {
      if (typeof f !== "string" || f.includes("/") || f.includes("\\") || f === "" || f.startsWith(".")) {
        throw new SafetensorsError(indexPath, `shard file ${JSON.stringify(f)} is not a plain file name`, name);
      }
      if (!files.includes(f)) files.push(f);
    }
    files.sort();
    const shards: SafetensorsFile[] = [];
    try {
      for (const f of files) shards.push(await SafetensorsFile.open(join(dirname(indexPath), f)));
      const owner = new Map<string, SafetensorsFile>();
      for (const s of shards) {
        for (const t of s.list()) {
          const listed = (map as Record<string, string>)[t.name];
          if (listed === undefined) {
            throw new SafetensorsError(s.path, "tensor is not listed in the shard index", t.name);
          }
          if (listed !== basename(s.path)) {
            throw new SafetensorsError(s.path, `shard index places it in ${listed}`, t.name);
          }
          if (owner.has(t.name)) throw new SafetensorsError(s.path, "tensor appears in two shards", t.name);
          owner.set(t.name, s);
        }
      }
      for (const name of Object.keys(map as object)) {
        if (!owner.has(name)) {
          throw new SafetensorsError(indexPath, "listed in the index but absent from its shard", name);
        }
      }
      return new ShardedSafetensors(indexPath, shards, owner);
    } catch (e) {
      await Promise.all(shards.map((s) => s.close()));
      throw e;
    }
  }

  list(): TensorInfo[] {
    return this.shards.flatMap((s) => s.list());
  }
  info(name: string): TensorInfo | undefined {
    return this.owner.get(name)?.info(name);
  }
  read(name: string): Promise<Uint8Array> {
    const s = this.owner.get(name);
    if (!s) return Promise.reject(new SafetensorsError(this.path, "no such tensor", name));
    return s.read(name);
  }
  async digests(): Promise<FileDigest[]> {
    const out: FileDigest[] = [];
    for (const s of this.shards) out.push(await s.digest());
    return out;
  }
  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
  }
}

export function openShardedSafetensors(indexPath: string): Promise<ShardedSafetensors> {
  return ShardedSafetensors.open(indexPath);
}

/** Splits tensors (in write order) into consecutive groups of at most `maxBytes` each. */
export function planShards<T extends TensorSpec>(tensors: readonly T[], maxBytes: number): T[][] {
  if (!(maxBytes > 0)) throw new Error(`max shard size must be positive, got ${maxBytes}`);
  const shards: T[][] = [];
  let cur: T[] = [];
  let size = 0;
  for (const t of tensors) {
    const b = byteLengthOf(t);
    if (cur.length > 0 && size + b > maxBytes) {
      shards.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(t);
    size += b;
  }
  if (cur.length > 0 || shards.length === 0) shards.push(cur);
  return shards;
}

export function shardFileName(i: number, n: number): string {
  const pad = (x: number) => String(x).padStart(5, "0");
  return `model-${pad(i + 1)}-of-${pad(n)}.safetensors`;
}

/**
 * Writes tensors (declared up front, then streamed in that order) to one `model.safetensors`, or, with
 * `maxShardSize`, to shards plus the index. Same write/finish/abort contract as SafetensorsWriter.
 */
export class CheckpointWriter {
  readonly dir: string;
  readonly files: string[] = [];
  private readonly groups: TensorSpec[][];
  private readonly metadata: Record<string, string> | undefined;
  private shard = -1;
  private inShard = 0;
  private current: SafetensorsWriter | undefined;
  private readonly written: string[] = [];
  private totalSize = 0;

  private constructor(dir: string, groups: TensorSpec[][], metadata: Record<string, string> | undefined) {
    this.dir = dir;
    this.groups = groups;
    this.metadata = metadata;
  }

  static create(
    dir: string,
    tensors: readonly TensorSpec[],
    opts: { maxShardSize?: number; metadata?: Record<string, string> } = {},
  ): CheckpointWriter {
    const groups = opts.maxShardSize === undefined ? [[...tensors]] : planShards(tensors, opts.maxShardSize);
    return new CheckpointWriter(dir, groups, opts.metadata);
  }

  get sharded(): boolean {
    return this.groups.length > 1;
  }

  private fileName(i: number): string {
    return this.sharded ? shardFileName(i, this.groups.length) : "model.safetensors";
  }

  private async advance(): Promise<void> {
    while (!this.current || this.inShard >= this.groups[this.shard]!.length) {
      if (this.current) {
        await this.current.finish();
        this.written.push(this.current.path);
        this.current = undefined;
      }
      this.shard++;
      if (this.shard >= this.groups.length) return;
      this.inShard = 0;
      const path = join(this.dir, this.fileName(this.shard));
      this.files.push(path);
      this.current = await SafetensorsWriter.create(path, this.groups[this.shard]!, { metadata: this.metadata });
    }
  }

  async write(name: string, data: Uint8Array): Promise<void> {
    try {
      await this.advance();
      if (!this.current) throw new SafetensorsError(this.dir, "more tensors written than declared", name);
      await this.current.write(name, data);
      this.inShard++;
      this.totalSize += data.byteLength;
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /**
   * Raw data for consecutive tensors (see SafetensorsWriter.writeSpan), split at shard boundaries. `first`, when given,
   * is the tensor the bytes start in.
   */
  async writeSpan(data: Uint8Array, first?: string): Promise<void> {
    try {
      let off = 0;
      let name = first;
      while (off < data.byteLength) {
        if (this.current && this.current.remaining === 0) this.inShard = this.groups[this.shard]!.length;
        await this.advance();
        if (!this.current) throw new SafetensorsError(this.dir, "more tensors written than declared", name);
        const n = Math.min(this.current.remaining, data.byteLength - off);
        const before = this.current.expectedIndex;
        await this.current.writeSpan(data.subarray(off, off + n), name);
        this.inShard += this.current.expectedIndex - before;
        this.totalSize += n;
        off += n;
        name = undefined;
      }
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  async finish(): Promise<string[]> {
    try {
      await this.advance();
      if (this.shard < this.groups.length) {
        throw new SafetensorsError(this.dir, "not every declared tensor was written");
      }
      if (this.sharded) {
        const weightMap: Record<string, string> = {};
        this.groups.forEach((g, i) => g.forEach((t) => (weightMap[t.name] = shardFileName(i, this.groups.length))));
        const sortedMap = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
        const index = { metadata: { total_size: this.totalSize }, weight_map: sortedMap };
        const path = join(this.dir, INDEX_NAME);
        const tmp = await claimTempPath(path);
        await writeFile(tmp, JSON.stringify(index, null, 2) + "\n");
        await rename(tmp, path);
        this.files.push(path);
      }
      return [...this.files];
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  async abort(): Promise<void> {
    if (this.current) await this.current.abort();
    this.current = undefined;
    await Promise.all(this.written.map((p) => rm(p, { force: true })));
  }
}
