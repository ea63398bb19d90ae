/**
 * Planning: every item gets a length (given by the input, or read from its header), unreadable ones are set aside
 * for `errors.jsonl`, and the rest are cut, in input order, into shards of `--shard-items N` items or
 * `--shard-hours H` hours of audio. The plan is a pure function of the inputs and the options, so every run of the
 * same command (one worker or fifty, interrupted or not) makes the same shards, which is what makes their bytes equal.
 */
import type { InputItem, ItemError } from "./item.ts";
import { locationLabel } from "./item.ts";
import { probeSeconds } from "./probe.ts";

export type ShardSize = { items: number } | { hours: number };

/** 1,000 clips of ~10 s are ~3 h of audio: about an hour of one CPU worker on the full-size model, minutes on a GPU. */
export const DEFAULT_SHARD_ITEMS = 1000;
/** Header reads in flight while planning (they are small; a network file system rewards some concurrency). */
const PROBE_CONCURRENCY = 16;

export interface Planned {
  /** items of each shard, in input order */
  shards: InputItem[][];
  /** items that cannot be read (missing, empty, not audio), in input order */
  errors: ItemError[];
}

/** Lengths for items that lack one; failures become errors. Input order is kept. */
export async function withLengths(items: InputItem[]): Promise<{ items: InputItem[]; errors: ItemError[] }> {
  const results: (InputItem | ItemError)[] = new Array(items.length);
  let next = 0;
  const work = async () => {
    while (next < items.length) {
      const i = next++;
      const it = items[i];
      if (it.seconds !== undefined) {
        results[i] = it;
        continue;
      }
      try {
        results[i] = { ...it, seconds: await probeSeconds(it.audio) };
      } catch (e) {
        results[i] = { key: it.key, path: locationLabel(it.audio), reason: (e as Error).message };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PROBE_CONCURRENCY, items.length) }, work));
  const ok: InputItem[] = [], errors: ItemError[] = [];
  for (const r of results) ("reason" in r ? errors : ok).push(r as never);
  return { items: ok, errors };
}

/** Cut items (which all have lengths) into shards, in order. */
export function cutShards(items: InputItem[], size: ShardSize): InputItem[][] {
  const shards: InputItem[][] = [];
  let cur: InputItem[] = [];
  let seconds = 0;
  for (const it of items) {
    cur.push(it);
    seconds += it.seconds ?? 0;
    const full = "items" in size ? cur.length >= size.items : seconds >= size.hours * 3600;
    if (full) {
      shards.push(cur);
      cur = [];
      seconds = 0;
    }
  }
  if (cur.length) shards.push(cur);
  return shards;
}

export async function planShards(items: InputItem[], size: ShardSize): Promise<Planned> {
  const { items: ok, errors } = await withLengths(items);
  return { shards: cutShards(ok, size), errors };
}
