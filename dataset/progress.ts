/**
 * What the user watches: a progress bar on a terminal (shards, hours of audio, hours of audio per second of wall
 * time, ETA), a line per finished shard otherwise (logs of a long batch job), and the closing summary. The summary
 * describes the dataset, not the run (no times, no worker counts), so the one-machine run and the NATS run of the same
 * job print the same one; the speed goes to stderr.
 */
import cliProgress from "cli-progress";
import type { JobSpec } from "./job.ts";
import type { LedgerRecord } from "./ledger.ts";

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

const hours = (s: number) => (s / 3600).toFixed(s < 36 ? 4 : 2);

/** "1 item", "2 items" */
export const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

export class Progress {
  private readonly started = performance.now();
  /** audio seconds finished in this run, and per shard in flight */
  private runSeconds = 0;
  private readonly inFlight = new Map<number, number>();
  private shardsDone: number;
  private bar?: cliProgress.SingleBar;
  private readonly plannedSeconds: number;

  constructor(
    private readonly job: JobSpec,
    alreadyDone: Set<number>,
    private readonly log: (m: string) => void,
    tty = !!process.stderr.isTTY,
  ) {
    this.shardsDone = alreadyDone.size;
    this.plannedSeconds = job.shards.filter((s) => !alreadyDone.has(s.index)).reduce((a, s) => a + s.seconds, 0);
    if (tty && job.shards.length > alreadyDone.size) {
      this.bar = new cliProgress.SingleBar({
        format: "encode-dataset [{bar}] {shards} shards | {hours} h of audio | {rate} h/s | ETA {left}",
        stream: process.stderr,
        hideCursor: true,
      }, cliProgress.Presets.shades_classic);
      this.bar.start(Math.max(1, this.plannedSeconds), 0, this.payload());
    }
  }

  private current(): number {
    let s = this.runSeconds;
    for (const v of this.inFlight.values()) s += v;
    return s;
  }

  private payload() {
    const elapsed = (performance.now() - this.started) / 1000;
    const done = this.current();
    const rate = elapsed > 0 ? done / elapsed : 0;
    return {
      shards: `${this.shardsDone}/${this.job.shards.length}`,
      hours: `${hours(done)}/${hours(this.plannedSeconds)}`,
      // hours of audio per second of wall time (a CPU worker on the full-size model: ~0.001; a GPU fleet: whole hours)
      rate: (rate / 3600).toPrecision(3),
      left: rate > 0 ? formatDuration(Math.max(0, this.plannedSeconds - done) / rate) : "?",
    };
  }

  private redraw(): void {
    this.bar?.update(Math.min(this.current(), Math.max(1, this.plannedSeconds)), this.payload());
  }

  shardProgress(index: number, seconds: number): void {
    this.inFlight.set(index, seconds);
    this.redraw();
  }

  /** A worker took the shard: a line in a log (a terminal's bar shows the shard once it makes progress). */
  shardStarted(index: number, what: string): void {
    if (!this.bar) this.log(`${this.job.shards[index].name}: started ${what}`);
  }

  shardFinished(index: number, seconds: number, what: string): void {
    this.inFlight.delete(index);
    this.runSeconds += seconds;
    this.shardsDone++;
    if (this.bar) this.redraw();
    else {
      const p = this.payload();
      this.log(
        `${this.job.shards[index].name}: ${what} (${p.shards} shards, ${p.hours} h, ${p.rate} h/s, ETA ${p.left})`,
      );
    }
  }

  /** Seconds of audio encoded in this run and the wall time it took. */
  stop(): { seconds: number; wall: number } {
    this.bar?.stop();
    return { seconds: this.runSeconds, wall: (performance.now() - this.started) / 1000 };
  }
}

export interface SummaryFacts {
  job: JobSpec;
  records: Map<number, LedgerRecord>;
  /** items skipped before any shard (missing, empty, not audio) */
  planErrors: number;
  errorsFile: string;
}

/** The closing summary (stdout): the same for every run that ends with the same ledger. */
export function summaryText(f: SummaryFacts): string {
  let done = 0, failed = 0, rows = 0, seconds = 0, skipped = f.planErrors;
  for (const s of f.job.shards) {
    const r = f.records.get(s.index);
    if (r?.state === "done") {
      done++;
      rows += r.rows;
      seconds += r.seconds;
      skipped += r.errors.length;
    } else if (r?.state === "failed") failed++;
  }
  const open = f.job.shards.length - done - failed;
  const where = f.job.options.format === "parquet" ? "data/" : "vq_codes/";
  const lines = [
    `encode-dataset: ${done} of ${f.job.shards.length} shards done` + (failed ? `, ${failed} failed` : "") +
    (open ? `, ${open} not finished` : ""),
    `  ${count(rows, "item")} encoded, ${(seconds / 3600).toFixed(4)} h of audio → ${f.job.out}/${where}`,
  ];
  if (skipped || failed) {
    lines.push(
      `  ${count(skipped, "item")} skipped` + (failed ? `, ${count(failed, "shard")} failed` : "") +
        `: see ${f.errorsFile}`,
    );
  }
  return lines.join("\n");
}
