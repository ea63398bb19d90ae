/**
 * `encode-dataset`, the coordinating side: plan the job into the output folder (or find it there and resume), run the
 * unfinished shards on an engine (the one-machine pool, or NATS JetStream workers), record each finished shard in the
 * ledger, and finish with `errors.jsonl`, the dataset card and the summary. The same command run again after Ctrl-C,
 * `kill -9` or a failed shard redoes only what is not done, and the bytes come out the same.
 */
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { type DeviceRequest, Xcodec2 } from "../runtime/mod.ts";
import { removeDeadTemporaries, writeFileAtomic } from "./atomic.ts";
import { datasetCard } from "./card.ts";
import type { Engine } from "./engine.ts";
import { DatasetError } from "./errors.ts";
import { readInputs } from "./inputs.ts";
import type { ItemError } from "./item.ts";
import {
  buildJob,
  type JobOptions,
  type JobSpec,
  readJob,
  sha256Hex,
  shardFile,
  STATE_DIR,
  statePath,
  toolkitVersion,
  writeJob,
} from "./job.ts";
import { Ledger } from "./ledger.ts";
import { modelIdentity } from "./model_identity.ts";
import { provenanceOf } from "./shard_encoder.ts";
import { planShards, type ShardSize } from "./plan.ts";
import { LocalPool } from "./pool.ts";
import { count, formatDuration, Progress, summaryText } from "./progress.ts";

export interface EncodeDatasetOptions {
  model: string;
  inputs: string[];
  out: string;
  size: ShardSize;
  job: JobOptions;
  /** `nats://host:port`: publish the shards to JetStream for `xcodec2 worker`s; absent: the one-machine pool */
  engine?: string;
  /** one-machine pool: worker processes (default 1) and threads each (default: the cores shared out) */
  workers?: number;
  threads?: number;
  device?: DeviceRequest;
  cacheDir?: string;
  /** tries per shard before it is reported failed (default 3) */
  maxTries?: number;
  /** NATS: seconds without a heartbeat after which a worker's shard goes to another worker (default 60) */
  ackWaitSeconds?: number;
  /** start over when the output folder holds another job */
  force?: boolean;
  /** progress and notes (stderr) */
  log?: (m: string) => void;
  /** the summary (stdout) */
  print?: (m: string) => void;
  /** called with the engine once it runs (the CLI's Ctrl-C handler stops it) */
  onEngine?: (e: Engine) => void;
}

const OUR_NAMES = ["data", "vq_codes", STATE_DIR, "errors.jsonl", "README.md"];

/** Keys become file paths in the npy format: they must stay inside the output folder. */
function checkNpyKey(key: string, source: string): void {
  const parts = key.split("/");
  if (!key || key.startsWith("/") || parts.some((p) => p === "" || p === "." || p === "..") || key.includes("\\")) {
    throw new DatasetError(`${source}: key "${key}" cannot be a path below vq_codes/ (give it an "id" without "..")`);
  }
}

function absoluteModel(model: string): string {
  return model.includes("://") ? model : resolve(model);
}

export async function encodeDataset(o: EncodeDatasetOptions): Promise<number> {
  const log = o.log ?? ((m: string) => console.error(m));
  const print = o.print ?? ((m: string) => console.log(m));
  const out = resolve(o.out);
  const model = absoluteModel(o.model);

  // The model: resolved (converted and exported into the cache when needed) and identified, once, here.
  // (sessions open on first use, so this loads no graph)
  const probe = await Xcodec2.load(model, { device: "cpu", cacheDir: o.cacheDir, log });
  const identity = await modelIdentity(probe.model.dir);
  // a plain copy: the probe is disposed, its rates are kept for the provenance
  const rates = {
    codebookSize: probe.codebookSize,
    inputSampleRate: probe.inputSampleRate,
    codesPerSecond: probe.codesPerSecond,
  };
  const toolkit = await toolkitVersion();
  await probe.dispose();

  const inputs = await readInputs(o.inputs);
  if (o.job.format === "npy") { for (const it of inputs.items) checkNpyKey(it.key, it.source); }
  const planned = await planShards(inputs.items, o.size);
  const planErrors: ItemError[] = [...inputs.errors, ...planned.errors];
  const errorsFile = join(out, "errors.jsonl");
  if (!planned.shards.length) {
    await writeFileAtomic(errorsFile, jsonl(planErrors));
    throw new DatasetError(`none of the ${planErrors.length} inputs can be read; see ${errorsFile}`);
  }
  const { job, manifests } = buildJob({
    model,
    modelSha256: identity.sha256,
    modelShaOf: identity.of,
    toolkit,
    options: o.job,
    out,
  }, planned.shards);

  const existing = await readJob(out);
  if (existing && existing.id !== job.id) {
    if (!o.force) {
      throw new DatasetError(
        `${out} holds another job (its inputs, model or options differ); choose another --out, or pass --force to ` +
          `start this one over there`,
      );
    }
    for (const n of OUR_NAMES) await rm(join(out, n), { recursive: true, force: true });
  } else if (!existing && await nonEmptyForeign(out)) {
    throw new DatasetError(`${out} exists and is not an encode-dataset output folder; choose a new or empty folder`);
  }
  if (!existing || existing.id !== job.id) {
    await writeJob(job, manifests).catch((e: NodeJS.ErrnoException) => {
      // the first write into --out: a folder the user cannot write to is their error, not a bug
      if (!e.code) throw e;
      throw new DatasetError(`${out}: cannot write the job there (${e.code}: ${e.message})`);
    });
  } else log(`resuming the job in ${out}`);

  const ledger = await Ledger.open(statePath(out, "ledger.jsonl"));
  await verifyDone(job, ledger, log);
  const dataDir = join(out, o.job.format === "parquet" ? "data" : "vq_codes");
  await removeDeadTemporaries(dataDir);

  const pending = job.shards.filter((s) => !ledger.isDone(s.index));
  const progress = new Progress(
    job,
    new Set(job.shards.filter((s) => ledger.isDone(s.index)).map((s) => s.index)),
    log,
  );
  const maxTries = o.maxTries ?? 3;
  let engine: Engine;
  if (o.engine) {
    const { NatsEngine } = await import("./nats_engine.ts");
    engine = new NatsEngine({ url: o.engine, maxTries, ackWaitSeconds: o.ackWaitSeconds ?? 60, ledger });
  } else {
    const workers = Math.max(1, o.workers ?? 1);
    engine = new LocalPool({
      workers,
      threads: o.threads ?? Math.max(1, Math.floor(cpus().length / workers)),
      device: o.device ?? "cpu",
      cacheDir: o.cacheDir,
      maxTries,
    });
  }
  o.onEngine?.(engine);
  try {
    await engine.run(job, pending, {
      started: (index, tries, worker) => progress.shardStarted(index, `in ${worker} (try ${tries} of ${maxTries})`),
      progress: (index, _items, seconds) => progress.shardProgress(index, seconds),
      done: async (index, outcome) => {
        if (ledger.isDone(index)) return; // a duplicate result (a redelivered shard finished twice)
        await ledger.append({ shard: index, state: "done", ...outcome });
        progress.shardFinished(index, outcome.seconds, count(outcome.rows, "item"));
      },
      failed: async (index, reason, tries) => {
        if (ledger.isDone(index)) return;
        await ledger.append({ shard: index, state: "failed", reason, tries });
        progress.shardFinished(index, 0, `failed after ${tries} tries: ${reason}`);
      },
      log,
    });
  } finally {
    const run = progress.stop();
    if (run.seconds > 0) {
      log(
        `encoded ${(run.seconds / 3600).toFixed(4)} h of audio in ${formatDuration(run.wall)} ` +
          `(${(run.seconds / run.wall).toFixed(2)} s of audio per second)`,
      );
    }
  }

  // The end of the job: no worker writes for it any more, so every temporary left is a dead process's.
  await removeDeadTemporaries(dataDir, { everyHost: true });
  const shardErrors: ItemError[] = [];
  const failures: ItemError[] = [];
  let rows = 0, seconds = 0, failed = 0;
  for (const s of job.shards) {
    const r = ledger.records.get(s.index);
    if (r?.state === "done") {
      shardErrors.push(...r.errors);
      rows += r.rows;
      seconds += r.seconds;
    } else if (r?.state === "failed") {
      failed++;
      failures.push({
        path: o.job.format === "parquet" ? shardFile(out, s) : `${statePath(out, "shards")}/${s.index}`,
        reason: `shard failed after ${r.tries} tries: ${r.reason}`,
      });
    }
  }
  const allErrors = [...planErrors, ...shardErrors, ...failures];
  await writeFileAtomic(errorsFile, jsonl(allErrors));
  if (!failed && o.job.format === "parquet") {
    const provenance = provenanceOf(job, rates, toolkit);
    const card = datasetCard({ job, provenance, rows, seconds, skipped: planErrors.length + shardErrors.length });
    await writeFileAtomic(join(out, "README.md"), new TextEncoder().encode(card));
  }
  print(summaryText({ job, records: ledger.records, planErrors: planErrors.length, errorsFile }));
  return failed ? 1 : 0;
}

function jsonl(rows: ItemError[]): Uint8Array {
  return new TextEncoder().encode(rows.map((r) => JSON.stringify(r) + "\n").join(""));
}

async function nonEmptyForeign(out: string): Promise<boolean> {
  try {
    if (!(await stat(out)).isDirectory()) return true;
  } catch {
    return false;
  }
  return (await readdir(out)).some((n) => !OUR_NAMES.includes(n));
}

/** A shard the ledger calls done must still be on disk with its recorded bytes; otherwise it is redone. */
async function verifyDone(job: JobSpec, ledger: Ledger, log: (m: string) => void): Promise<void> {
  if (job.options.format !== "parquet") return;
  for (const s of job.shards) {
    const r = ledger.records.get(s.index);
    if (r?.state !== "done") continue;
    let sha: string | undefined;
    try {
      sha = sha256Hex(new Uint8Array(await readFile(shardFile(job.out, s))));
    } catch { /* missing */ }
    if (sha !== r.sha256) {
      log(`${shardFile(job.out, s)} is ${sha ? "altered" : "missing"}; it will be encoded again`);
      ledger.forget(s.index);
    }
  }
}
