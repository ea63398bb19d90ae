/** What the coordinator asks of an engine (the one-machine pool or NATS JetStream), and what it is told back. */
import type { JobSpec, ShardSpec } from "./job.ts";
import type { ShardOutcome } from "./shard_encoder.ts";

export interface EngineEvents {
  /** a worker took the shard (the one-machine pool; a NATS worker says so in its own log) */
  started(index: number, tries: number, worker: string): void;
  /** a shard's items and decoded seconds so far */
  progress(index: number, items: number, seconds: number): void;
  /** the shard's file is in place; resolves once the ledger holds it */
  done(index: number, outcome: ShardOutcome): Promise<void>;
  /** the shard gave up after `tries` tries */
  failed(index: number, reason: string, tries: number): Promise<void>;
  log(message: string): void;
}

export interface Engine {
  /** Run `pending` shards of `job` until each is done or failed. */
  run(job: JobSpec, pending: ShardSpec[], events: EngineEvents): Promise<void>;
  /** Stop at once (Ctrl-C): workers are ended, unfinished shards stay unfinished for the next run. */
  stop(): Promise<void>;
}
