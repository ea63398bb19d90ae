/**
 * A worker process of the one-machine pool: loads the job's model once, then encodes the shards the pool sends over
 * stdin and answers on stdout (worker_protocol.ts). When the pool goes away (its end of stdin closes: Ctrl-C, a
 * `kill -9`), the worker exits at once; the temporary file of a shard it was writing is removed by the next run.
 *
 *   <runtime> dataset/pool_worker.ts <out> --device cpu [--threads N] [--cache DIR]
 */
import { Command } from "../common/args.ts";
import { PROCESS_OPTIONS } from "./cli.ts";
import { readJob, toolkitVersion } from "./job.ts";
import { encodeShard } from "./shard_encoder.ts";
import { loadJobCodec } from "./worker_codec.ts";
import { type FromWorker, lineReader, type ToWorker } from "./worker_protocol.ts";

/** The pool's own command line for its workers (not a user command: pool.ts builds it). */
const POOL_WORKER = new Command({
  name: "pool_worker",
  program: "dataset/pool_worker.ts",
  summary: "A worker process of encode-dataset's one-machine pool: shards in on stdin, results out on stdout.",
  positionals: [{ name: "out", help: "the job's output folder" }],
  // what the user gave encode-dataset, as the pool forwards it
  options: PROCESS_OPTIONS,
});

function send(m: FromWorker): void {
  process.stdout.write(JSON.stringify(m) + "\n");
}

async function main(): Promise<void> {
  // stdout carries the protocol: anything a library prints goes to stderr
  console.log = console.error;
  const { values: v, positionals: [out] } = POOL_WORKER.parse(process.argv.slice(2));
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  const job = await readJob(out);
  if (!job) {
    send({ t: "fatal", message: `${out}: no job.json` });
    process.exit(1);
  }
  const toolkit = await toolkitVersion();
  let codec;
  try {
    codec = await loadJobCodec(job, {
      device: v.device,
      threads: v.threads,
      cacheDir: v.cache,
      log: (m) => console.error(m),
    }, { verify: false }); // the pool's own process has just identified this model
  } catch (e) {
    send({ t: "fatal", message: (e as Error).message });
    process.exit(1);
  }
  let queue = Promise.resolve();
  process.stdin.on(
    "data",
    lineReader<ToWorker>((m) => {
      queue = queue.then(async () => {
        const shard = job.shards[m.index];
        try {
          const outcome = await encodeShard(codec, job, shard, toolkit, {
            onProgress: (items, seconds) => send({ t: "progress", index: m.index, items, seconds }),
          });
          send({ t: "done", index: m.index, outcome });
        } catch (e) {
          send({ t: "error", index: m.index, reason: (e as Error).message });
        }
      });
    }),
  );
  send({ t: "ready" });
}

if (import.meta.main) await main();
