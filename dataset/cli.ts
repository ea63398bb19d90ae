/**
 * `xcodec2 encode-dataset` and `xcodec2 worker`: their arguments (common/args.ts: typed options, generated usage and
 * help, a one-line UsageError with exit 2) and Ctrl-C.
 */
import { Command } from "../common/args.ts";
import { UsageError } from "../common/errors.ts";
import { DEVICE_CHOICES, PRECISION_PARTS, PRECISIONS } from "../runtime/mod.ts";
import type { Engine } from "./engine.ts";
import { DEFAULT_SHARD_ITEMS, type ShardSize } from "./plan.ts";

function natsUrl(text: string, where: string): string {
  if (!/^nats:\/\/[^/]+$/.test(text)) throw new UsageError(`${where} must be a nats://host:port address, got ${text}`);
  return text;
}

/** Options both commands take: where each process runs its sessions (the pool hands them on to its workers). */
export const PROCESS_OPTIONS = {
  device: {
    type: "choice",
    choices: DEVICE_CHOICES,
    default: "auto",
    help: "where each worker runs; auto = cuda, then a hardware WebGPU adapter, then cpu",
  },
  threads: { type: "integer", min: 1, max: 1024, help: "threads per worker (default: the cores shared out)" },
  cache: {
    type: "string",
    value: "DIR",
    help: "cache for converted and exported models (default $XCODEC2_CACHE or ~/.cache/xcodec2-kit)",
  },
} as const;

const ENCODE_DATASET = new Command({
  name: "encode-dataset",
  summary: "Tokenise a corpus into a Hugging Face dataset of Parquet shards (data/train-*.parquet, README.md, " +
    "errors.jsonl), on this machine's worker pool or on `xcodec2 worker`s through NATS JetStream.",
  positionals: [
    { name: "model", help: "converted folder, original checkpoint, or hf://owner/repo[@revision]" },
    {
      name: "input",
      variadic: true,
      help: "folders of audio, .jsonl manifests (NeMo: audio_filepath, text, duration), .tsv lists (X-Codec-2.0's " +
        "get_tsv.py), WebDataset .tar shards (audio + .json/.txt per key), audio files",
    },
  ],
  options: {
    out: { type: "string", short: "o", value: "DIR", required: true, help: "the dataset folder to write" },
    "shard-items": {
      type: "integer",
      min: 1,
      max: 1e9,
      help: `items per shard (default ${DEFAULT_SHARD_ITEMS} unless --shard-hours)`,
    },
    "shard-hours": {
      type: "number",
      min: 0,
      minExclusive: true,
      max: 1e6,
      value: "H",
      help: "hours of audio per shard",
    },
    format: {
      type: "choice",
      choices: ["parquet", "npy"],
      default: "parquet",
      help: "npy: X-Codec-2.0's vq_codes/<path>.npy tree instead of Parquet shards",
    },
    engine: {
      type: "string",
      value: "nats://HOST:PORT",
      parse: natsUrl,
      help: "share the shards out to `xcodec2 worker`s through NATS JetStream (default: this machine)",
    },
    workers: { type: "integer", min: 1, max: 256, help: "worker processes on this machine (default 1)" },
    ...PROCESS_OPTIONS,
    precision: {
      type: "choice",
      // the encoder's precisions only (int8 is a decoder variant: an int8 model encodes with the fp32 encoder)
      choices: [...PRECISIONS.filter((p) => PRECISION_PARTS[p].includes("encoder")) as ("fp32" | "fp16")[], "auto"],
      default: "auto",
      help: "encoder graph precision (auto = fp32; it decides the codes, so it is the job's, not a worker's)",
    },
    "batch-size": { type: "integer", min: 1, max: 1024, default: 8, help: "clips per encoder call" },
    resample: { type: "boolean", help: "resample audio that is not 16 kHz (otherwise it goes to errors.jsonl)" },
    "max-tries": { type: "integer", min: 1, max: 100, default: 3, help: "tries per shard before it counts as failed" },
    "ack-wait": {
      type: "number",
      min: 0,
      minExclusive: true,
      max: 86_400,
      default: 60,
      value: "S",
      help: "with --engine: seconds without a heartbeat before a shard goes to another worker",
    },
    force: { type: "boolean", help: "start over in an output folder that holds another job" },
  },
  notes: "Run the same command again after an interruption or a failed shard: only unfinished shards are encoded, " +
    "and the files come out the same.",
});

const WORKER = new Command({
  name: "worker",
  summary: "Take shards of `xcodec2 encode-dataset … --engine nats://host:4222` from NATS JetStream until stopped " +
    "(Ctrl-C hands the current shard back). The output folder, the inputs and the model must be at the same paths " +
    "here as on the machine that planned the job.",
  positionals: [{ name: "url", help: "the NATS server, nats://host:4222" }],
  options: {
    ...PROCESS_OPTIONS,
    threads: { ...PROCESS_OPTIONS.threads, help: "intra-op threads (default: onnxruntime's, all cores)" },
    "idle-exit": {
      type: "number",
      min: 0,
      minExclusive: true,
      max: 1e7,
      value: "S",
      help: "exit after S seconds without work (e.g. for batch schedulers)",
    },
  },
});

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

export function runEncodeDatasetCommand(argv: string[]): Promise<number> {
  return ENCODE_DATASET.run(argv, async ({ positionals: [model, ...inputs], values: v }) => {
    if (v["shard-items"] !== undefined && v["shard-hours"] !== undefined) {
      throw new UsageError("give --shard-items or --shard-hours, not both");
    }
    const size: ShardSize = v["shard-hours"] !== undefined
      ? { hours: v["shard-hours"] }
      : { items: v["shard-items"] ?? DEFAULT_SHARD_ITEMS };
    if (v.engine && (v.workers !== undefined || v.threads !== undefined)) {
      throw new UsageError("--workers and --threads are for this machine's pool; give them to each `xcodec2 worker`");
    }
    let running: Engine | undefined;
    const release = onInterrupt(
      () => running,
      v.engine
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
        job: { format: v.format, resample: v.resample, batchSize: v["batch-size"], precision: v.precision },
        engine: v.engine,
        workers: v.workers ?? 1,
        threads: v.threads,
        device: v.device,
        cacheDir: v.cache,
        maxTries: v["max-tries"],
        ackWaitSeconds: v["ack-wait"],
        force: v.force,
        onEngine: (e) => (running = e),
      });
    } finally {
      release();
    }
  });
}

export function runWorkerCommand(argv: string[]): Promise<number> {
  return WORKER.run(argv, async ({ positionals: [url], values: v }) => {
    const { runWorker } = await import("./nats_worker.ts");
    return await runWorker({
      url: natsUrl(url, "<url>"),
      device: v.device,
      threads: v.threads,
      cacheDir: v.cache,
      idleExitSeconds: v["idle-exit"],
    });
  });
}
