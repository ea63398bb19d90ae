/**
 * `xcodec2 encode-dataset` and `xcodec2 worker`: argument parsing (node:util parseArgs, as runtime/cli.ts does, until
 * the shared parser of issue 10 takes over) and Ctrl-C.
 */
import { parseArgs } from "node:util";
import { DEVICE_CHOICES, type DeviceRequest } from "../runtime/mod.ts";
import type { Engine } from "./engine.ts";
import { DatasetUsageError } from "./errors.ts";
import type { OutputFormat } from "./job.ts";
import { DEFAULT_SHARD_ITEMS, type ShardSize } from "./plan.ts";

const ENCODE_USAGE = `usage: xcodec2 encode-dataset <model> <input>... --out <dir> [options]

inputs: folders of audio, .jsonl manifests (NeMo: audio_filepath, text, duration), .tsv lists (X-Codec-2.0's
get_tsv.py), WebDataset .tar shards (audio + .json/.txt per key), audio files

  --out DIR              output folder: data/train-*.parquet, README.md, errors.jsonl (required)
  --shard-items N        items per shard (default ${DEFAULT_SHARD_ITEMS})
  --shard-hours H        hours of audio per shard (instead of --shard-items)
  --format F             parquet (default) or npy (X-Codec-2.0's vq_codes/<path>.npy tree)
  --engine nats://H:P    share the work out to \`xcodec2 worker\`s through NATS JetStream (default: this machine)
  --workers N            worker processes on this machine (default 1)
  --threads N            threads per worker (default: the cores shared out)
  --device D             cpu, cuda, webgpu or auto (default auto)
  --precision P          auto (fp32 encoder), fp32 or fp16
  --batch-size N         clips per encoder call (default 8)
  --resample             resample audio that is not 16 kHz (otherwise it is skipped into errors.jsonl)
  --max-tries N          tries per shard before it counts as failed (default 3)
  --ack-wait S           NATS: seconds without a heartbeat before a shard goes to another worker (default 60)
  --force                start over in an output folder that holds another job
  --cache DIR            model cache folder

Run the same command again after an interruption: only unfinished shards are encoded, and the files come out the same.`;

const WORKER_USAGE = `usage: xcodec2 worker nats://host:4222 [--device auto] [--threads N] [--cache DIR] [--idle-exit S]

Takes shards from \`xcodec2 encode-dataset … --engine nats://host:4222\` until stopped (Ctrl-C hands the current shard
back). The output folder and the inputs must be at the same paths on this machine as on the one that planned the job.
  --idle-exit S          exit after S seconds without work (e.g. for batch schedulers)`;

function positiveInt(name: string, v: string | undefined, fallback: number, max = 1e9): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new DatasetUsageError(`--${name} must be an integer in [1, ${max}], got ${v}`);
  }
  return n;
}

function positiveNumber(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new DatasetUsageError(`--${name} must be a number > 0, got ${v}`);
  return n;
}

function device(v: string): DeviceRequest {
  if (!(DEVICE_CHOICES as readonly string[]).includes(v)) {
    throw new DatasetUsageError(`--device must be one of ${DEVICE_CHOICES.join(", ")}, got ${v}`);
  }
  return v as DeviceRequest;
}

function natsUrl(v: string): string {
  if (!/^nats:\/\/[^/]+$/.test(v)) throw new DatasetUsageError(`expected a nats://host:port address, got ${v}`);
  return v;
}

/** Ctrl-C: stop the engine, say how to resume, exit 130. */
function onInterrupt(getEngine: () => Engine | undefined, message: string): () => void {
  const handler = () => {
    console.error(`\ninterrupted; ${message}`);
    const e = getEngine();
    (e ? e.stop() : Promise.resolve()).finally(() => process.exit(130));
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

export async function runEncodeDatasetCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h", default: false },
      out: { type: "string", short: "o" },
      "shard-items": { type: "string" },
      "shard-hours": { type: "string" },
      format: { type: "string", default: "parquet" },
      engine: { type: "string" },
      workers: { type: "string" },
      threads: { type: "string" },
      device: { type: "string", default: "auto" },
      precision: { type: "string", default: "auto" },
      "batch-size": { type: "string" },
      resample: { type: "boolean", default: false },
      "max-tries": { type: "string" },
      "ack-wait": { type: "string" },
      force: { type: "boolean", default: false },
      cache: { type: "string" },
    },
  });
  if (v.help) {
    console.log(ENCODE_USAGE);
    return 0;
  }
  const [model, ...inputs] = positionals;
  if (!model || !inputs.length || !v.out) throw new DatasetUsageError(ENCODE_USAGE.split("\n")[0]);
  if (v["shard-items"] && v["shard-hours"]) {
    throw new DatasetUsageError("give --shard-items or --shard-hours, not both");
  }
  const size: ShardSize = v["shard-hours"]
    ? { hours: positiveNumber("shard-hours", v["shard-hours"]) }
    : { items: positiveInt("shard-items", v["shard-items"], DEFAULT_SHARD_ITEMS) };
  if (v.format !== "parquet" && v.format !== "npy") {
    throw new DatasetUsageError(`--format must be parquet or npy, got ${v.format}`);
  }
  if (!["auto", "fp32", "fp16"].includes(v.precision!)) {
    throw new DatasetUsageError(`--precision must be auto, fp32 or fp16, got ${v.precision}`);
  }
  if (v.engine && (v.workers || v.threads)) {
    throw new DatasetUsageError(
      "--workers and --threads are for this machine's pool; give them to each `xcodec2 worker`",
    );
  }
  const engine = v.engine ? natsUrl(v.engine) : undefined;
  let running: Engine | undefined;
  const release = onInterrupt(
    () => running,
    engine
      ? "the published shards stay queued for the workers; run the same command again to collect their results"
      : "run the same command again to finish the unfinished shards",
  );
  try {
    const { encodeDataset } = await import("./encode_dataset.ts");
    return await encodeDataset({
      model,
      inputs,
      out: v.out,
      size,
      job: {
        format: v.format as OutputFormat,
        resample: v.resample!,
        batchSize: positiveInt("batch-size", v["batch-size"], 8, 1024),
        precision: v.precision as "auto" | "fp32" | "fp16",
      },
      engine,
      workers: positiveInt("workers", v.workers, 1, 256),
      threads: v.threads ? positiveInt("threads", v.threads, 1, 1024) : undefined,
      device: device(v.device!),
      cacheDir: v.cache,
      maxTries: positiveInt("max-tries", v["max-tries"], 3, 100),
      ackWaitSeconds: v["ack-wait"] ? positiveNumber("ack-wait", v["ack-wait"]) : 60,
      force: v.force,
      onEngine: (e) => (running = e),
    });
  } finally {
    release();
  }
}

export async function runWorkerCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h", default: false },
      device: { type: "string", default: "auto" },
      threads: { type: "string" },
      cache: { type: "string" },
      "idle-exit": { type: "string" },
    },
  });
  if (v.help) {
    console.log(WORKER_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new DatasetUsageError(WORKER_USAGE.split("\n")[0]);
  const { runWorker } = await import("./nats_worker.ts");
  return await runWorker({
    url: natsUrl(positionals[0]),
    device: device(v.device!),
    threads: v.threads ? positiveInt("threads", v.threads, 1, 1024) : undefined,
    cacheDir: v.cache,
    idleExitSeconds: v["idle-exit"] ? positiveNumber("idle-exit", v["idle-exit"]) : undefined,
  });
}
