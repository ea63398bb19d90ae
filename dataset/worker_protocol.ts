/**
 * Lines between the one-machine pool and its worker processes (JSON, one object per line; the worker's stdout is
 * reserved for them and its logs go to stderr).
 */
import type { ShardOutcome } from "./shard_encoder.ts";

/** pool → worker */
export type ToWorker = { t: "shard"; index: number };

/** worker → pool */
export type FromWorker =
  | { t: "ready" }
  | { t: "progress"; index: number; items: number; seconds: number }
  | { t: "done"; index: number; outcome: ShardOutcome }
  /** the shard failed in a way another try may not (a write error); counts as a try */
  | { t: "error"; index: number; reason: string }
  /** the worker cannot work at all (the model does not load): the pool stops with this message */
  | { t: "fatal"; message: string };

/** Split a byte stream into lines and hand each parsed object on. */
export function lineReader<T>(onMessage: (m: T) => void): (chunk: Uint8Array | string) => void {
  let buf = "";
  const dec = new TextDecoder();
  return (chunk) => {
    buf += typeof chunk === "string" ? chunk : dec.decode(chunk, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) onMessage(JSON.parse(line) as T);
    }
  };
}
