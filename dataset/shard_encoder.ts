/**
 * One shard, start to finish, as every worker (one-machine pool or NATS) runs it: read each item's audio (a file or a
 * tar member), hash it, decode it to 16 kHz mono, encode in length-sorted batches, then write the shard in the
 * manifest's row order through a temporary file and a rename. Items whose audio turns out corrupt or empty are left
 * out and reported; the codec's promise (a batch gives each item exactly what it gives alone) is what lets the
 * batching follow lengths while the bytes stay those of the manifest order.
 */
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { decodeAudioBytes, encodeNpyInt32, type Xcodec2 } from "../runtime/mod.ts";
import { writeFileAtomic } from "./atomic.ts";
import { type JobSpec, npyFile, readShardItems, sha256Hex, shardFile, type ShardSpec } from "./job.ts";
import { type InputItem, type ItemError, locationLabel } from "./item.ts";
import { type CodesProvenance, encodeShardParquet, type Row } from "./parquet.ts";
import { readTarMember } from "./tar.ts";

export interface ShardOutcome {
  /** sha256 of the parquet file, or of the shard's .npy files (key and file hash per item, in order) */
  sha256: string;
  rows: number;
  /** decoded audio seconds of the rows */
  seconds: number;
  errors: ItemError[];
}

/** Items decoded and encoded together: bounds memory (5 min of audio is 19 MB of float32) and sets the batching. */
const CHUNK_ITEMS = 64;
const CHUNK_SECONDS = 300;

/**
 * Clips of any length: `Xcodec2.encode` runs clips above its single-pass limit (30 s) in windows, so a clip's time
 * and memory are linear in its length and bounded by the window (runtime/long_encode.ts), and an hour-long
 * recording in a corpus is encoded like any other item (its codes equal `xcodec2 encode` of the file).
 */

async function encodeClips(codec: Xcodec2, clips: Float32Array[], batchSize: number): Promise<Int32Array[]> {
  return await codec.encode(clips, { batchSize });
}

/** What the provenance needs of the loaded codec (any family member): its rates and codebook. */
export type CodecRates = Pick<Xcodec2, "codebookSize" | "inputSampleRate" | "codesPerSecond">;

/** What made the codes: every shard's `xcodec2` metadata and the dataset card. */
export function provenanceOf(job: JobSpec, codec: CodecRates, toolkit: string): CodesProvenance {
  return {
    codec: "xcodec2",
    model_sha256: job.modelSha256,
    model_sha256_of: job.modelShaOf,
    sample_rate: codec.inputSampleRate,
    frame_rate: codec.codesPerSecond,
    codebook_size: codec.codebookSize,
    resampled: job.options.resample,
    toolkit,
  };
}

async function readItemBytes(it: InputItem): Promise<Uint8Array> {
  const a = it.audio;
  return "file" in a ? new Uint8Array(await readFile(a.file)) : await readTarMember(a.tar, a.offset, a.size);
}

/** The item's samples, or the reason it cannot be encoded. */
async function loadItem(
  it: InputItem,
  resample: boolean,
  minSamples: number,
): Promise<{ samples: Float32Array; sha: string } | string> {
  const label = locationLabel(it.audio);
  let bytes: Uint8Array;
  try {
    bytes = await readItemBytes(it);
  } catch (e) {
    return `cannot read: ${(e as Error).message}`;
  }
  const sha = sha256Hex(bytes);
  let samples: Float32Array;
  try {
    samples = (await decodeAudioBytes(bytes, label, { resample })).samples;
  } catch (e) {
    const m = (e as Error).message;
    return m.startsWith(`${label}: `) ? m.slice(label.length + 2) : m;
  }
  for (let t = 0; t < samples.length; t++) {
    if (!Number.isFinite(samples[t])) return `sample ${t} is ${samples[t]} (NaN/Inf are not audio)`;
  }
  if (samples.length < minSamples) return `${samples.length} samples; this model needs at least ${minSamples}`;
  return { samples, sha };
}

export interface EncodeShardOptions {
  /** called after each chunk with the items and decoded seconds done so far */
  onProgress?: (items: number, seconds: number) => void;
  /** checked between chunks; when it returns true, the shard is abandoned (nothing is written) */
  cancelled?: () => boolean;
}

export class ShardCancelled extends Error {
  override readonly name = "ShardCancelled";
}

export async function encodeShard(
  codec: Xcodec2,
  job: JobSpec,
  shard: ShardSpec,
  toolkit: string,
  opts: EncodeShardOptions = {},
): Promise<ShardOutcome> {
  const items = await readShardItems(job.out, shard);
  const order = items.map((_, i) => i).sort((a, b) => (items[a].seconds ?? 0) - (items[b].seconds ?? 0) || a - b);
  const rows: (Row | undefined)[] = new Array(items.length);
  const failed: (ItemError | undefined)[] = new Array(items.length);
  let done = 0, seconds = 0;
  for (let start = 0; start < order.length;) {
    if (opts.cancelled?.()) throw new ShardCancelled(`shard ${shard.name} cancelled`);
    const chunk: number[] = [];
    let chunkSeconds = 0;
    while (start < order.length && chunk.length < CHUNK_ITEMS && (!chunk.length || chunkSeconds < CHUNK_SECONDS)) {
      chunkSeconds += items[order[start]].seconds ?? 0;
      chunk.push(order[start++]);
    }
    const loaded = await Promise.all(chunk.map((i) => loadItem(items[i], job.options.resample, codec.minClipSamples)));
    const good: number[] = [];
    chunk.forEach((i, j) => {
      const r = loaded[j];
      if (typeof r === "string") failed[i] = { key: items[i].key, path: locationLabel(items[i].audio), reason: r };
      else good.push(j);
    });
    if (good.length) {
      const clips = good.map((j) => (loaded[j] as { samples: Float32Array }).samples);
      const codes = await encodeClips(codec, clips, job.options.batchSize);
      good.forEach((j, g) => {
        const it = items[chunk[j]];
        const l = loaded[j] as { samples: Float32Array; sha: string };
        rows[chunk[j]] = {
          key: it.key,
          codes: codes[g],
          seconds: l.samples.length / codec.inputSampleRate,
          text: it.text,
          source: it.source,
          audioSha256: l.sha,
        };
        seconds += l.samples.length / codec.inputSampleRate;
      });
    }
    done += chunk.length;
    opts.onProgress?.(done, seconds);
  }
  if (opts.cancelled?.()) throw new ShardCancelled(`shard ${shard.name} cancelled`);
  const kept = rows.filter((r): r is Row => r !== undefined);
  const errors = failed.filter((e): e is ItemError => e !== undefined);
  let sha256: string;
  if (job.options.format === "parquet") {
    const bytes = encodeShardParquet(kept, provenanceOf(job, codec, toolkit));
    const target = shardFile(job.out, shard);
    await mkdir(dirname(target), { recursive: true });
    await writeFileAtomic(target, bytes);
    sha256 = sha256Hex(bytes);
  } else {
    const lines: string[] = [];
    for (const r of kept) {
      const target = npyFile(job.out, r.key);
      const bytes = encodeNpyInt32(r.codes);
      await mkdir(dirname(target), { recursive: true });
      await writeFileAtomic(target, bytes);
      lines.push(`${r.key}\0${sha256Hex(bytes)}`);
    }
    sha256 = sha256Hex(lines.join("\n"));
  }
  return { sha256, rows: kept.length, seconds, errors };
}
