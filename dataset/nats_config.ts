/**
 * The JetStream layout shared by `encode-dataset --engine` and `xcodec2 worker`, in one place:
 *   - XCODEC2_JOBS, a work-queue stream (a message is removed once a worker acks it): one message per shard, with a
 *     message id that deduplicates a shard published twice (two coordinators, or one restarted);
 *   - the durable pull consumer `xcodec2-workers` that every worker shares: explicit acks, an ack wait that a
 *     worker's `working()` heartbeats extend while it encodes, and `max_deliver` one above the job's tries, so the
 *     delivery after the last try only reports the shard failed (a shard that kills its worker is never tried forever);
 *   - XCODEC2_RESULTS, where workers report each shard done or failed, read by the coordinator through a durable
 *     consumer of its own and acked only once its ledger holds the result: no result is lost when the coordinator,
 *     a worker or the server restarts.
 * Both streams are file-backed, so they survive a server restart.
 */
import { connect, nanos, type NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { DatasetError } from "./errors.ts";
import type { JobOptions } from "./job.ts";
import type { ShardOutcome } from "./shard_encoder.ts";

export const JOBS_STREAM = "XCODEC2_JOBS";
export const RESULTS_STREAM = "XCODEC2_RESULTS";
export const WORKERS_CONSUMER = "xcodec2-workers";
/** Duplicate publishes within this window are dropped by the server (the ledger catches later ones). */
const DEDUP_WINDOW_MS = 60 * 60 * 1000;
/** Results are kept this long for a coordinator that comes back late. */
const RESULTS_MAX_AGE_MS = 30 * 24 * 3600 * 1000;

const short = (jobId: string) => jobId.slice(0, 16);
export const jobSubject = (jobId: string) => `xcodec2.jobs.${short(jobId)}`;
export const resultSubject = (jobId: string, shard: number) => `xcodec2.results.${short(jobId)}.${shard}`;
export const resultsFilter = (jobId: string) => `xcodec2.results.${short(jobId)}.>`;
export const progressSubject = (jobId: string) => `xcodec2.progress.${short(jobId)}`;
export const resultsConsumer = (jobId: string) => `xcodec2-coordinator-${short(jobId)}`;

/** One shard's job. The model, its sha256 and the options travel with it; the items are in the shared folder. */
export interface NatsJob {
  v: 1;
  /** the output folder, at the same path on every worker */
  out: string;
  jobId: string;
  shard: number;
  manifestSha256: string;
  model: string;
  modelSha256: string;
  options: JobOptions;
  maxTries: number;
  /** 0 for a job's first publication; a rerun after the shard failed publishes round 1, … */
  round: number;
}

export type NatsResult =
  & { jobId: string; shard: number; round: number }
  & ({ state: "done"; outcome: ShardOutcome } | { state: "failed"; reason: string; tries: number });

export interface NatsProgress {
  shard: number;
  items: number;
  seconds: number;
}

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  const u = new URL(url);
  if (u.protocol !== "nats:") throw new DatasetError(`${url}: the engine must be a nats://host:port address`);
  try {
    // Reconnect for ever: a server restart must not end a job that takes days.
    return await connect({
      servers: `${u.hostname}:${u.port || 4222}`,
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      ...(u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : {}),
    });
  } catch (e) {
    throw new DatasetError(`cannot connect to ${url}: ${(e as Error).message} (is nats-server -js running there?)`);
  }
}

function isNotFound(e: unknown): boolean {
  const err = e as { code?: unknown; message?: string; api_error?: { err_code?: number } };
  return /not found/i.test(err?.message ?? "") || err?.api_error?.err_code === 10059 ||
    err?.api_error?.err_code === 10014;
}

/** Create or update both streams and the workers' consumer. */
export async function ensureQueue(
  jsm: JetStreamManager,
  opts: { ackWaitSeconds: number; maxTries: number },
): Promise<void> {
  const streams = [
    {
      name: JOBS_STREAM,
      subjects: ["xcodec2.jobs.>"],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(DEDUP_WINDOW_MS),
    },
    {
      name: RESULTS_STREAM,
      subjects: ["xcodec2.results.>"],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: nanos(DEDUP_WINDOW_MS),
      max_age: nanos(RESULTS_MAX_AGE_MS),
    },
  ];
  for (const cfg of streams) {
    try {
      await jsm.streams.info(cfg.name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await jsm.streams.add(cfg);
    }
  }
  const consumer = {
    durable_name: WORKERS_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(opts.ackWaitSeconds * 1000),
    max_deliver: opts.maxTries + 1,
    deliver_policy: DeliverPolicy.All,
    // a shard may wait in a pull request for a while: keep as many outstanding as workers might ask for
    max_ack_pending: 10_000,
  };
  try {
    const info = await jsm.consumers.info(JOBS_STREAM, WORKERS_CONSUMER);
    if (info.config.ack_wait !== consumer.ack_wait || info.config.max_deliver !== consumer.max_deliver) {
      await jsm.consumers.update(JOBS_STREAM, WORKERS_CONSUMER, {
        ack_wait: consumer.ack_wait,
        max_deliver: consumer.max_deliver,
      });
    }
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await jsm.consumers.add(JOBS_STREAM, consumer);
  }
}

export { isNotFound, jetstreamManager };

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
