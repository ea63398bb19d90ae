/**
 * The job's ledger: one JSON line per finished shard (done, with its file's sha256, rows, audio seconds and the items
 * it skipped; or failed, with the reason), appended and fsynced before the shard counts as finished. Only the
 * coordinating process writes it (the one-machine pool, or `encode-dataset --engine nats://…` from the workers'
 * results), so appends never interleave. A line torn by a crash mid-write is cut off when the ledger is reopened.
 */
import { open, readFile, truncate } from "node:fs/promises";
import type { ItemError } from "./item.ts";

export type LedgerRecord =
  | {
    shard: number;
    state: "done";
    /** sha256 of the shard file (parquet), or of its concatenated .npy files in key order (npy) */
    sha256: string;
    rows: number;
    seconds: number;
    errors: ItemError[];
  }
  | { shard: number; state: "failed"; reason: string; tries: number };

export class Ledger {
  /** failed records per shard over the ledger's whole history (a rerun's retry of a shard is its next round) */
  private readonly failures = new Map<number, number>();

  private constructor(readonly path: string, readonly records: Map<number, LedgerRecord>) {}

  /** Read the ledger (or start one). A later "done" replaces an earlier "failed" (a rerun retried the shard). */
  static async open(path: string): Promise<Ledger> {
    const records = new Map<number, LedgerRecord>();
    let text = "";
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    const end = text.lastIndexOf("\n") + 1;
    if (end < text.length) await truncate(path, Buffer.byteLength(text.slice(0, end))); // torn last line
    const ledger = new Ledger(path, records);
    for (const line of text.slice(0, end).split("\n")) if (line) ledger.note(JSON.parse(line) as LedgerRecord);
    return ledger;
  }

  isDone(shard: number): boolean {
    return this.records.get(shard)?.state === "done";
  }

  async append(r: LedgerRecord): Promise<void> {
    const fh = await open(this.path, "a");
    try {
      await fh.write(JSON.stringify(r) + "\n");
      await fh.sync();
    } finally {
      await fh.close();
    }
    this.note(r);
  }

  private note(r: LedgerRecord): void {
    if (r.state === "failed") this.failures.set(r.shard, (this.failures.get(r.shard) ?? 0) + 1);
    if (this.records.get(r.shard)?.state !== "done") this.records.set(r.shard, r);
  }

  /** How many times the shard has failed before (0 for a first try). */
  failedBefore(shard: number): number {
    return this.failures.get(shard) ?? 0;
  }

  /** Forget a shard (its file is missing or altered): it will be redone. */
  forget(shard: number): void {
    this.records.delete(shard);
  }
}
