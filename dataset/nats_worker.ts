/**
 * `xcodec2 worker nats://host:4222`: take shards from the JetStream work queue, one at a time, and encode them into
 * the job's output folder (the same path on every machine). While a shard runs, `working()` heartbeats keep it ours;
 * if this process dies, the server hands the shard to another worker after the ack wait. The order is: write the
 * shard under a temporary name, rename it into place, publish the result (and wait for the server to store it), then
 * ack. Dying between any two steps costs a redo of the shard, which gives the same bytes; nothing is lost.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import type { JsMsg } from "@nats-io/jetstream";
import { jetstream } from "@nats-io/jetstream";
import type { DeviceRequest, Xcodec2 } from "../runtime/mod.ts";
import { removeDeadTemporaries } from "./atomic.ts";
import { DatasetError } from "./errors.ts";
import { readJob, toolkitVersion } from "./job.ts";
import { retry } from "./nats_engine.ts";
import {
  connectNats,
  delay,
  isNotFound,
  jetstreamManager,
  JOBS_STREAM,
  type NatsJob,
  type NatsProgress,
  type NatsResult,
  progressSubject,
  resultSubject,
  WORKERS_CONSUMER,
} from "./nats_config.ts";
import { encodeShard, ShardCancelled } from "./shard_encoder.ts";
import { loadJobCodec } from "./worker_codec.ts";

export interface WorkerOptions {
  url: string;
  device: DeviceRequest;
  threads?: number;
  cacheDir?: string;
  /** exit (status 0) after this many seconds without a shard; default: run until stopped */
  idleExitSeconds?: number;
  log?: (m: string) => void;
}

export async function runWorker(o: WorkerOptions): Promise<number> {
  const log = o.log ?? ((m: string) => console.error(m));
  const me = `${hostname()}:${process.pid}`;
  const nc = await connectNats(o.url, `xcodec2 worker ${me}`);
  let stopping = false;
  let current: JsMsg | undefined;
  const onSignal = () => {
    if (stopping) process.exit(130); // a second Ctrl-C: now
    stopping = true;
    log(current ? "stopping after handing the current shard back" : "stopping");
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") log(`lost the NATS server at ${o.url}; reconnecting`);
      else if (s.type === "reconnect") log(`reconnected to ${o.url}`);
    }
  })().catch(() => {});

  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const toolkit = await toolkitVersion();
  let lastWork = performance.now();
  const idle = () => o.idleExitSeconds !== undefined && performance.now() - lastWork > o.idleExitSeconds * 1000;

  // The coordinator creates the queue; a worker started first waits for it.
  let ackWaitMs = 0;
  for (let said = false; !stopping;) {
    try {
      ackWaitMs = ((await jsm.consumers.info(JOBS_STREAM, WORKERS_CONSUMER)).config.ack_wait ?? 30e9) / 1e6;
      break;
    } catch (e) {
      if (!isNotFound(e) && !/timeout|connection/i.test((e as Error).message)) throw e;
      if (!said) log(`waiting for a job on ${o.url} (start \`xcodec2 encode-dataset … --engine ${o.url}\`)`);
      said = true;
      if (idle()) return await close(nc, 0);
      await delay(1000);
    }
  }
  const consumer = await js.consumers.get(JOBS_STREAM, WORKERS_CONSUMER);
  let codec: Xcodec2 | undefined;
  let codecKey = "";
  /** jobs whose dead temporaries this worker has cleared (once per job: an npy tree can hold millions of files) */
  const cleaned = new Set<string>();
  log(`worker ${me} ready on ${o.url} (${o.device})`);

  while (!stopping) {
    let m: JsMsg | null;
    try {
      m = await consumer.next({ expires: 2000 });
    } catch {
      if (stopping) break;
      await delay(500); // the server is away; the client reconnects by itself
      continue;
    }
    if (!m) {
      if (idle()) break;
      continue;
    }
    current = m;
    lastWork = performance.now();
    let job: NatsJob;
    try {
      job = m.json<NatsJob>();
    } catch {
      m.term("not an xcodec2 job");
      continue;
    }
    const tries = m.info.deliveryCount;
    const report = (r: NatsResult) =>
      retry(() =>
        js.publish(resultSubject(job.jobId, job.shard), JSON.stringify(r), {
          msgID: `${job.jobId}-${job.shard}-${job.round}-${r.state}`,
          timeout: 10_000,
        })
      );
    if (tries > job.maxTries) {
      // max_deliver is one above the tries: this delivery only says that every try ended without an answer
      await report({
        jobId: job.jobId,
        shard: job.shard,
        round: job.round,
        state: "failed",
        reason: `no worker finished it in ${job.maxTries} tries (each worker died, was stopped or lost the server)`,
        tries: job.maxTries,
      });
      m.term("out of tries");
      current = undefined;
      continue;
    }
    const heartbeat = setInterval(() => m.working(), Math.max(200, ackWaitMs / 4));
    const t0 = performance.now();
    try {
      const spec = await readJob(job.out);
      if (!spec) {
        throw new DatasetError(
          `${
            join(job.out, ".xcodec2/job.json")
          } is not visible here; the output folder must be at the same path on every worker`,
        );
      }
      if (spec.id !== job.jobId) {
        // the folder now holds another job (started over with --force): this message is stale
        m.term("the output folder holds another job now");
        continue;
      }
      const shard = spec.shards[job.shard];
      if (!shard || shard.manifestSha256 !== job.manifestSha256) throw new DatasetError(`shard ${job.shard} differs`);
      const key = `${job.model}\0${job.modelSha256}\0${job.options.precision}`;
      if (!codec || codecKey !== key) {
        await codec?.dispose();
        codec = undefined;
        codec = await loadJobCodec(spec, { device: o.device, threads: o.threads, cacheDir: o.cacheDir, log }, {
          verify: true,
        });
        codecKey = key;
      }
      if (!cleaned.has(job.jobId)) {
        await removeDeadTemporaries(join(job.out, spec.options.format === "parquet" ? "data" : "vq_codes"));
        cleaned.add(job.jobId);
      }
      log(`${shard.name}: started (try ${tries} of ${job.maxTries})`);
      const outcome = await encodeShard(codec, spec, shard, toolkit, {
        cancelled: () => stopping,
        onProgress: (items, seconds) => {
          const p: NatsProgress = { shard: job.shard, items, seconds };
          nc.publish(progressSubject(job.jobId), JSON.stringify(p));
        },
      });
      await report({ jobId: job.jobId, shard: job.shard, round: job.round, state: "done", outcome });
      const acked = await m.ackAck({ timeout: 10_000 }).catch(() => false);
      log(
        `${shard.name}: done, ${outcome.rows} items in ${((performance.now() - t0) / 1000).toFixed(1)} s` +
          (acked ? "" : " (the ack was lost; another worker may redo it, with the same bytes)"),
      );
    } catch (e) {
      if (e instanceof ShardCancelled) {
        m.nak(); // back to the queue at once, for another worker
        break;
      }
      const reason = (e as Error).message;
      if (tries >= job.maxTries) {
        await report({ jobId: job.jobId, shard: job.shard, round: job.round, state: "failed", reason, tries });
        m.term(reason);
        log(`shard ${job.shard}: failed for good after ${tries} tries: ${reason}`);
      } else {
        m.nak(1000); // another try, after a pause, on whichever worker asks first
        log(`shard ${job.shard}: try ${tries} failed: ${reason}`);
      }
    } finally {
      clearInterval(heartbeat);
      current = undefined;
      lastWork = performance.now();
    }
  }
  await codec?.dispose();
  return await close(nc, stopping ? 130 : 0);
}

async function close(nc: { drain(): Promise<void>; close(): Promise<void> }, code: number): Promise<number> {
  // drain: the acks and naks just sent reach the server before the connection ends
  await nc.drain().catch(() => nc.close().catch(() => {}));
  return code;
}
