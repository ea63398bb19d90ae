/**
 * The many-machine engine: publish one JetStream message per unfinished shard, then read the workers' results (done or
 * failed) until every shard has one. Results are acked only after the ledger has them, through a durable consumer of
 * this job's own, so a coordinator that is stopped and started again, or a server restart, loses nothing; the
 * coordinator's own Ctrl-C leaves the published shards to the workers, and the same command picks up their results.
 */
import { AckPolicy, DeliverPolicy, jetstream, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Engine, EngineEvents } from "./engine.ts";
import type { JobSpec, ShardSpec } from "./job.ts";
import { sha256Hex } from "./job.ts";
import type { Ledger } from "./ledger.ts";
import {
  connectNats,
  delay,
  ensureQueue,
  isNotFound,
  jetstreamManager,
  jobSubject,
  type NatsJob,
  type NatsProgress,
  type NatsResult,
  progressSubject,
  RESULTS_STREAM,
  resultsConsumer,
  resultsFilter,
} from "./nats_config.ts";

export interface NatsEngineOptions {
  url: string;
  maxTries: number;
  ackWaitSeconds: number;
  /** for each shard's round (how often it failed before) */
  ledger: Ledger;
}

/** The message id: the shard's manifest, the model, the options (all in the job id) and the round. */
export function jobMessageId(job: JobSpec, shard: ShardSpec, round: number): string {
  return sha256Hex(`${job.id}\0${shard.index}\0${shard.manifestSha256}\0${round}`);
}

export class NatsEngine implements Engine {
  private nc?: NatsConnection;
  private stopped = false;

  constructor(private readonly opts: NatsEngineOptions) {}

  async run(job: JobSpec, pending: ShardSpec[], events: EngineEvents): Promise<void> {
    if (!pending.length) return;
    const nc = this.nc = await connectNats(this.opts.url, `xcodec2 encode-dataset ${job.id.slice(0, 16)}`);
    let lost = false;
    (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect" && !lost && !this.stopped) {
          lost = true;
          events.log(`lost the NATS server at ${this.opts.url}; reconnecting (workers keep their shards)`);
        } else if (s.type === "reconnect" && lost) {
          lost = false;
          events.log(`reconnected to ${this.opts.url}`);
        }
      }
    })().catch(() => {});
    try {
      const jsm = await jetstreamManager(nc);
      await ensureQueue(jsm, this.opts);
      const durable = resultsConsumer(job.id);
      try {
        await jsm.consumers.info(RESULTS_STREAM, durable);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        await jsm.consumers.add(RESULTS_STREAM, {
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          filter_subject: resultsFilter(job.id),
          ack_wait: 30e9,
        });
      }
      const js = jetstream(nc);
      const rounds = new Map(pending.map((s) => [s.index, this.opts.ledger.failedBefore(s.index)]));
      for (const s of pending) {
        const msg: NatsJob = {
          v: 1,
          out: job.out,
          jobId: job.id,
          shard: s.index,
          manifestSha256: s.manifestSha256,
          model: job.model,
          modelSha256: job.modelSha256,
          options: job.options,
          maxTries: this.opts.maxTries,
          round: rounds.get(s.index)!,
        };
        await retry(() =>
          js.publish(jobSubject(job.id), JSON.stringify(msg), {
            msgID: jobMessageId(job, s, msg.round),
            timeout: 10_000,
          })
        );
      }
      events.log(`published ${pending.length} shards to ${this.opts.url}; waiting for \`xcodec2 worker\`s`);

      const progressSub = nc.subscribe(progressSubject(job.id), {
        callback: (err, m) => {
          if (err) return;
          const p = m.json<NatsProgress>();
          if (rounds.has(p.shard)) events.progress(p.shard, p.items, p.seconds);
        },
      });
      const consumer = await js.consumers.get(RESULTS_STREAM, durable);
      while (rounds.size && !this.stopped) {
        let m: JsMsg | null;
        try {
          m = await consumer.next({ expires: 5000 });
        } catch {
          await delay(500); // disconnected: the client reconnects by itself
          continue;
        }
        if (!m) continue;
        const r = m.json<NatsResult>();
        const round = rounds.get(r.shard);
        if (r.jobId === job.id && round !== undefined) {
          if (r.state === "done") {
            await events.done(r.shard, r.outcome);
            rounds.delete(r.shard);
          } else if (r.round === round) {
            await events.failed(r.shard, r.reason, r.tries);
            rounds.delete(r.shard);
          }
        }
        await m.ackAck().catch(() => {}); // an ack lost to a restart: the result comes again and is a duplicate
      }
      progressSub.unsubscribe();
      if (!this.stopped) await jsm.consumers.delete(RESULTS_STREAM, durable).catch(() => {});
    } finally {
      this.stopped = true;
      await nc.close().catch(() => {});
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.nc?.close().catch(() => {});
  }
}

/** Retry an operation that fails while the server is away (a restart), until it succeeds. */
export async function retry<T>(op: () => Promise<T>, stopped = () => false): Promise<T> {
  for (let wait = 250;; wait = Math.min(wait * 2, 5000)) {
    try {
      return await op();
    } catch (e) {
      // the server answered and refused (a JetStream API error), or we closed the connection: retrying cannot help
      const name = (e as Error)?.name ?? "";
      if (stopped() || name === "JetStreamApiError" || name === "ClosedConnectionError") throw e;
      await delay(wait);
    }
  }
}
