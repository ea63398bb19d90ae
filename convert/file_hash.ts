/**
 * sha256 of the source files for conversion.json. Hashing runs at ~2 GB/s on one core, which is about as long as
 * copying the whole checkpoint, so it must not sit on the conversion's critical path: a native `openssl dgst` child
 * process hashes the files on the other core while the conversion streams (its memory is its own and tiny, unlike a
 * JS worker's runtime). Without openssl, the converter hashes in-process from the very bytes it reads anyway
 * (`hashFilesInProcess` is the plain fallback for sources it does not stream).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import process from "node:process";
import { fileDigest } from "../common/checksums.ts";

export interface FileDigest {
  file: string;
  bytes: number;
  sha256: string;
}

export async function hashFilesInProcess(paths: readonly string[]): Promise<FileDigest[]> {
  const out: FileDigest[] = [];
  for (const file of paths) {
    const { bytes, hex } = await fileDigest(file);
    out.push({ file, bytes, sha256: hex });
  }
  return out;
}

export interface ExternalHash {
  /** the tool's pid (benchmarks measure its memory) */
  pid: number | undefined;
  /** hex digests in the order of the paths; rejects if the tool fails or prints something unexpected */
  digests: Promise<string[]>;
  /** stops the tool (on a failed conversion) */
  kill(): void;
}

/**
 * Starts `openssl dgst -sha256 -r` on the files. Resolves once the process is running, or to undefined where it
 * cannot be started (no openssl on PATH, no child processes in this runtime, `XCODEC2_NO_EXTERNAL_HASH` set): the
 * caller then hashes in-process.
 */
export function startExternalHash(paths: readonly string[]): Promise<ExternalHash | undefined> {
  if (paths.length === 0 || process.env.XCODEC2_NO_EXTERNAL_HASH) return Promise.resolve(undefined);
  let child: ChildProcess;
  try {
    child = spawn("openssl", ["dgst", "-sha256", "-r", ...paths], { stdio: ["ignore", "pipe", "pipe"] });
  } catch {
    return Promise.resolve(undefined);
  }
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (d: string) => (stdout += d));
  child.stderr!.on("data", (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const digests = exited.then((code) => {
    const lines = stdout.split("\n").filter((l) => l.length > 0);
    const hex = lines.map((l) => /^([0-9a-f]{64}) /.exec(l)?.[1]);
    if (code !== 0 || hex.length !== paths.length || hex.some((h) => h === undefined)) {
      throw new Error(`openssl dgst failed (exit ${code}): ${stderr.trim() || stdout.trim()}`);
    }
    return hex as string[];
  });
  digests.catch(() => {}); // the caller awaits it (or falls back); never an unhandled rejection
  const handle: ExternalHash = { pid: child.pid, digests, kill: () => void child.kill() };
  return new Promise((resolve) => {
    child.once("spawn", () => resolve(handle));
    child.once("error", () => resolve(undefined)); // ENOENT and friends: no openssl here
  });
}

/** Incremental sha256 of one file, fed in file order; `upTo` marks how far it has got. */
export class SequentialHash {
  upTo = 0;
  private readonly hash = createHash("sha256");
  update(bytes: Uint8Array): void {
    this.hash.update(bytes);
    this.upTo += bytes.byteLength;
  }
  hex(): string {
    return this.hash.digest("hex");
  }
}

/**
 * The source's digests once the conversion has read it: from the external hasher, else from the in-process hashes
 * fed during the pass (`inline`, one per file), else from a separate in-process pass.
 */
export async function collectDigests(
  paths: readonly string[],
  hasher: ExternalHash | undefined,
  inline: readonly SequentialHash[] | undefined,
): Promise<FileDigest[]> {
  const sizes = await Promise.all(paths.map((p) => stat(p).then((s) => s.size)));
  if (inline) return paths.map((file, i) => ({ file, bytes: sizes[i]!, sha256: inline[i]!.hex() }));
  if (hasher) {
    const hex = await hasher.digests.catch(() => undefined);
    if (hex) return paths.map((file, i) => ({ file, bytes: sizes[i]!, sha256: hex[i]! }));
  }
  return hashFilesInProcess(paths);
}

/** One sha256 for a source: its file's, or (sharded) the sha256 of its files' hex digests, one per line. */
export function combinedSha256(digests: readonly FileDigest[]): string {
  return digests.length === 1
    ? digests[0]!.sha256
    : createHash("sha256").update(digests.map((d) => d.sha256).join("\n")).digest("hex");
}
