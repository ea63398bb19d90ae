/**
 * The one-machine engine: N worker processes (onnxruntime-node runs one session call at a time per process, so
 * processes, not promises, are what use more cores), each fed one shard at a time. A worker that dies mid-shard
 * (crash, out of memory, killed) is replaced and its shard retried, up to `maxTries` tries per shard.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Engine, EngineEvents } from "./engine.ts";
import { DatasetError } from "./errors.ts";
import type { JobSpec, ShardSpec } from "./job.ts";
import { runtimeCommand } from "./spawn_self.ts";
import { type FromWorker, lineReader, type ToWorker } from "./worker_protocol.ts";

const WORKER = fileURLToPath(new URL("./pool_worker.ts", import.meta.url));

export interface PoolOptions {
  workers: number;
  /** intra-op threads per worker */
  threads: number;
  device: string;
  cacheDir?: string;
  maxTries: number;
}

interface Slot {
  child: ChildProcess;
  shard?: number;
  ready: boolean;
}

export class LocalPool implements Engine {
  private slots = new Set<Slot>();
  private stopping = false;

  constructor(private readonly opts: PoolOptions) {}

  run(job: JobSpec, pending: ShardSpec[], events: EngineEvents): Promise<void> {
    const queue = pending.map((s) => s.index);
    const tries = new Map<number, number>();
    let open = pending.length;
    return new Promise<void>((resolve, reject) => {
      let failedHard = false;
      const finish = (err?: Error) => {
        if (failedHard) return;
        if (err) {
          failedHard = true;
          this.stop().then(() => reject(err));
        } else if (open === 0) {
          this.stop().then(() => resolve());
        }
      };
      const feed = (slot: Slot) => {
        if (this.stopping || !slot.ready || slot.shard !== undefined) return;
        const next = queue.shift();
        if (next === undefined) {
          slot.child.stdin?.end(); // nothing left for it: let it exit
          return;
        }
        slot.shard = next;
        tries.set(next, (tries.get(next) ?? 0) + 1);
        const m: ToWorker = { t: "shard", index: next };
        slot.child.stdin?.write(JSON.stringify(m) + "\n");
        events.started(next, tries.get(next)!, `worker process ${slot.child.pid}`);
      };
      const settle = (slot: Slot, p: Promise<void>) => {
        slot.shard = undefined;
        open--;
        p.then(() => {
          if (open === 0) finish();
          else feed(slot);
        }, (e) => finish(e));
      };
      const retryOrFail = (index: number, reason: string): Promise<void> => {
        const n = tries.get(index) ?? 1;
        if (n < this.opts.maxTries) {
          events.log(`${job.shards[index].name}: try ${n} of ${this.opts.maxTries} failed (${reason}); trying again`);
          queue.unshift(index);
          return Promise.resolve();
        }
        open--;
        return events.failed(index, reason, n);
      };
      const start = () => {
        const { command, args } = runtimeCommand(WORKER, [
          job.out,
          "--device",
          this.opts.device,
          "--threads",
          String(this.opts.threads),
          ...(this.opts.cacheDir ? ["--cache", this.opts.cacheDir] : []),
        ]);
        const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
        const slot: Slot = { child, ready: false };
        this.slots.add(slot);
        child.stdin?.on("error", () => {}); // a worker that died: its exit handler below deals with it
        child.stdout?.on(
          "data",
          lineReader<FromWorker>((m) => {
            if (m.t === "ready") {
              slot.ready = true;
              feed(slot);
            } else if (m.t === "progress") events.progress(m.index, m.items, m.seconds);
            else if (m.t === "done") settle(slot, events.done(m.index, m.outcome));
            else if (m.t === "error") {
              const index = m.index;
              slot.shard = undefined;
              retryOrFail(index, m.reason).then(() => {
                if (open === 0) finish();
                else feed(slot);
              }, (e) => finish(e));
            } else if (m.t === "fatal") finish(new DatasetError(`worker: ${m.message}`));
          }),
        );
        // "close", not "exit": every line the worker wrote has been handled by then, so a shard it reported done
        // just before it died is not also retried
        child.on("close", (code, signal) => {
          this.slots.delete(slot);
          if (this.stopping || failedHard) return;
          if (!slot.ready) {
            finish(new DatasetError(`a worker process exited before it was ready (${signal ?? `exit code ${code}`})`));
            return;
          }
          if (slot.shard !== undefined) {
            const index = slot.shard;
            retryOrFail(index, `its worker process died (${signal ?? `exit code ${code}`})`).then(() => {
              if (open === 0) finish();
              else if (queue.length) start();
            }, (e) => finish(e));
          } else if (queue.length) start();
        });
      };
      if (open === 0) {
        resolve();
        return;
      }
      for (let i = 0; i < Math.min(this.opts.workers, pending.length); i++) start();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const exits = [...this.slots].map((s) =>
      new Promise<void>((r) => {
        if (s.child.exitCode !== null || s.child.signalCode !== null) return r();
        s.child.once("exit", () => r());
        s.child.stdin?.end();
        // a worker busy in onnxruntime reads stdin only between shards: end it now
        s.child.kill("SIGTERM");
      })
    );
    await Promise.all(exits);
    this.slots.clear();
  }
}
