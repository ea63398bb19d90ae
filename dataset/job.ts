/**
 * A job on disk, in the output folder every worker sees:
 *
 *   <out>/data/train-00000-of-00042.parquet …   the dataset (or <out>/vq_codes/… with --format npy)
 *   <out>/README.md, <out>/errors.jsonl         written when the job ends
 *   <out>/.xcodec2/job.json                     what to do: model, its sha256, options, one entry per shard
 *   <out>/.xcodec2/shards/00003.jsonl           each shard's items (what a worker reads; its sha256 is in job.json)
 *   <out>/.xcodec2/ledger.jsonl                 what is done (see ledger.ts)
 *
 * The job id hashes everything that decides the output's bytes (model sha256, options, the output folder and every
 * shard manifest); a second run of the same command finds the same id and resumes, a changed one is refused.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic.ts";
import { DatasetError } from "./errors.ts";
import type { InputItem } from "./item.ts";

export const STATE_DIR = ".xcodec2";
export const JOB_FORMAT = 1;

export type OutputFormat = "parquet" | "npy";

/** Options that travel with the job (device and threads are each worker's own). */
export interface JobOptions {
  format: OutputFormat;
  resample: boolean;
  batchSize: number;
  /** graph precision: the encoder's decides the codes (`auto` keeps it fp32), so it is the job's, not a worker's */
  precision: "auto" | "fp32" | "fp16";
}

export interface ShardSpec {
  index: number;
  /** `train-00003-of-00042` */
  name: string;
  manifestSha256: string;
  items: number;
  /** planned audio seconds (header lengths) */
  seconds: number;
}

export interface JobSpec {
  format: typeof JOB_FORMAT;
  id: string;
  /** the model as the user named it (local paths made absolute) */
  model: string;
  modelSha256: string;
  modelShaOf: string;
  toolkit: string;
  options: JobOptions;
  /** absolute output folder */
  out: string;
  shards: ShardSpec[];
}

export const statePath = (out: string, ...rest: string[]) => join(out, STATE_DIR, ...rest);
export const manifestPath = (out: string, index: number) =>
  statePath(out, "shards", `${String(index).padStart(5, "0")}.jsonl`);
export const shardName = (index: number, count: number) =>
  `train-${String(index).padStart(5, "0")}-of-${String(count).padStart(5, "0")}`;
/** The parquet file of a shard (the HF datasets layout); the npy format writes one file per item instead. */
export const shardFile = (out: string, s: ShardSpec): string => join(out, "data", `${s.name}.parquet`);
/** The npy format's file for one item: X-Codec-2.0's `vq_codes/<relative path>.npy`. */
export const npyFile = (out: string, key: string) => join(out, "vq_codes", `${key}.npy`);

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

let version: Promise<string> | undefined;
/** `xcodec2-kit <version>`: in every shard's metadata and the card (a new release may make other codes). */
export function toolkitVersion(): Promise<string> {
  version ??= readFile(new URL("../package.json", import.meta.url), "utf8")
    .then((t) => `xcodec2-kit ${JSON.parse(t).version}`, () => "xcodec2-kit");
  return version;
}

/** The manifest bytes of one shard: one canonical JSON line per item. */
export function manifestText(items: InputItem[]): string {
  return items.map((it) =>
    JSON.stringify({ key: it.key, source: it.source, audio: it.audio, text: it.text, seconds: it.seconds ?? null })
  ).join("\n") + "\n";
}

export function buildJob(
  base: Omit<JobSpec, "id" | "shards" | "format">,
  shards: InputItem[][],
): { job: JobSpec; manifests: string[] } {
  const manifests = shards.map(manifestText);
  const specs: ShardSpec[] = shards.map((items, index) => ({
    index,
    name: shardName(index, shards.length),
    manifestSha256: sha256Hex(manifests[index]),
    items: items.length,
    seconds: items.reduce((s, it) => s + (it.seconds ?? 0), 0),
  }));
  const id = sha256Hex(JSON.stringify({ format: JOB_FORMAT, ...base, shards: specs.map((s) => s.manifestSha256) }));
  return { job: { format: JOB_FORMAT, id, ...base, shards: specs }, manifests };
}

/** The job already in `out`, if any. */
export async function readJob(out: string): Promise<JobSpec | undefined> {
  let text: string;
  try {
    text = await readFile(statePath(out, "job.json"), "utf8");
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as JobSpec;
  } catch {
    throw new DatasetError(`${statePath(out, "job.json")}: not JSON; remove ${statePath(out)} to start over`);
  }
}

/** Write the manifests, then job.json (last: a job.json on disk means its manifests are complete). */
export async function writeJob(job: JobSpec, manifests: string[]): Promise<void> {
  await mkdir(statePath(job.out, "shards"), { recursive: true });
  const enc = new TextEncoder();
  for (let i = 0; i < manifests.length; i++) await writeFileAtomic(manifestPath(job.out, i), enc.encode(manifests[i]));
  await writeFileAtomic(statePath(job.out, "job.json"), enc.encode(JSON.stringify(job, null, 1) + "\n"));
}

/** A shard's items as a worker reads them, checked against the sha256 the job recorded. */
export async function readShardItems(out: string, shard: ShardSpec): Promise<InputItem[]> {
  const path = manifestPath(out, shard.index);
  const text = await readFile(path, "utf8");
  if (sha256Hex(text) !== shard.manifestSha256) {
    throw new DatasetError(`${path}: the manifest changed since the job was planned (sha256 differs)`);
  }
  return text.split("\n").filter((l) => l).map((l) => {
    const r = JSON.parse(l);
    return { key: r.key, source: r.source, audio: r.audio, text: r.text, seconds: r.seconds ?? undefined };
  });
}
