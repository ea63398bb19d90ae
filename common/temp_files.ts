/**
 * Temporary names for outputs that are written under another name and renamed into place, and the sweep that
 * removes what a writer killed before its rename left behind (kill -9, the OOM killer, a power cut: no `finally`
 * runs, and a conversion killed 2.5 s into a full-size run leaves 507 MB).
 *
 * A temporary sits beside its output (a rename must not cross filesystems) and names the process that owns it:
 * `<dir>/.<name>.tmp-<pid>-<nonce>`, hidden so that a listing of an output folder shows no half-written files.
 * Every writer calls `claimTempPath(output)`, which first removes the temporaries of that same output whose process
 * no longer runs, then returns a fresh name. Temporaries of live processes are never touched (two processes may
 * write the same output; the later rename wins, each from a complete file), and temporaries of other outputs are
 * left to their own writers.
 *
 * Containers restart their processes with the same small pids, so a temporary carrying our own pid is stale unless
 * it also carries this process's nonce (drawn once per process). Names from 0.1.0 (`<path>.tmp-<pid>`,
 * `.<name>.tmp-<pid>`, `<path>.tmp-<pid>-<ms>`) match too, so an upgrade cleans what the old version left.
 *
 * A pid only means something on the machine that wrote it: on a folder shared over the network by several machines,
 * a live writer elsewhere looks dead here.
 */
import { randomBytes } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

/** Drawn once per process: tells our own temporaries from those of an earlier process that had our pid. */
const NONCE = randomBytes(4).toString("hex");
let counter = 0;

/** Is `pid` a running process? EPERM means it runs under another user. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `<dir>/.<name>.tmp-<pid>-<nonce><n>` for `path`: unique within this process, and marked as its own. */
export function tempPathFor(path: string): string {
  const abs = resolve(path);
  return join(dirname(abs), `.${basename(abs)}.tmp-${process.pid}-${NONCE}${(counter++).toString(36)}`);
}

/**
 * Removes the temporaries of `path` (files or folders) left by processes that no longer run, and returns their
 * paths. A missing folder has none.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const abs = resolve(path);
  const dir = dirname(abs);
  const pattern = new RegExp(`^\\.?${escapeRegExp(basename(abs))}\\.tmp-(\\d+)(?:-([0-9a-z]+))?$`);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid ? (m[2] ?? "").startsWith(NONCE) : processAlive(pid)) continue;
    const tmp = join(dir, name);
    await rm(tmp, { recursive: true, force: true });
    removed.push(tmp);
  }
  return removed;
}

/**
 * The one call every writer makes before writing `path`: sweep the stale temporaries of `path` (saying so through
 * `log`), then hand out a fresh temporary name for it.
 */
export async function claimTempPath(path: string, log?: (msg: string) => void): Promise<string> {
  for (const t of await removeStaleTemps(path)) log?.(`removed ${t}, left by a process that no longer runs`);
  return tempPathFor(path);
}
