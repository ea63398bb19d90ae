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
 * a live writer elsewhere looks dead here. Writers of such folders (the dataset tools' shards) put this machine's name
 * in the temporary too, `<dir>/.<name>.tmp-<host>-<pid>-<nonce>`; another machine's temporaries are then never
 * counted as stale, except by a sweep that knows no writer runs anywhere (`everyHost`: the end of a job).
 */
import { randomBytes } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";

/** Drawn once per process: tells our own temporaries from those of an earlier process that had our pid. */
const NONCE = randomBytes(4).toString("hex");
let counter = 0;
/** This machine, as temporaries in shared folders name it. */
const HOST = hostname().replace(/[^\w.-]/g, "_");

/** Is `pid` a running process? EPERM means it runs under another user. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

export interface TempNameOptions {
  /** name this machine too: for folders that writers on several machines share */
  host?: boolean;
}

/** `<dir>/.<name>.tmp-[<host>-]<pid>-<nonce><n>` for `path`: unique within this process, and marked as its own. */
export function tempPathFor(path: string, opts: TempNameOptions = {}): string {
  const abs = resolve(path);
  const owner = opts.host ? `${HOST}-${process.pid}` : `${process.pid}`;
  return join(dirname(abs), `.${basename(abs)}.tmp-${owner}-${NONCE}${(counter++).toString(36)}`);
}

/** A temporary's name taken apart: the output it stands for, and the process (and machine) that wrote it. */
interface TempName {
  output: string;
  host?: string;
  pid: number;
  nonce?: string;
}

/** `[.]<name>.tmp-<pid>[-<nonce>]`: this version's names without a machine, and 0.1.0's (a nonce of digits: ms). */
const LOCAL_TEMP = /^\.?(.+)\.tmp-(\d+)(?:-([0-9a-z]+))?$/;
/** `.<name>.tmp-<host>-<pid>-<nonce>`: three parts, so never mistaken for a name without a machine. */
const HOSTED_TEMP = /^\.(.+)\.tmp-(.+)-(\d+)-([0-9a-z]+)$/;

function parseTempName(name: string): TempName | undefined {
  const local = LOCAL_TEMP.exec(name);
  if (local) return { output: local[1], pid: Number(local[2]), nonce: local[3] };
  const hosted = HOSTED_TEMP.exec(name);
  return hosted ? { output: hosted[1], host: hosted[2], pid: Number(hosted[3]), nonce: hosted[4] } : undefined;
}

/**
 * Has the process that wrote `t` gone? Our own pid has unless the nonce is this process's; another machine's process
 * cannot be asked, so it has gone only when the caller knows that no writer runs anywhere (`everyHost`).
 */
function writerGone(t: TempName, everyHost: boolean): boolean {
  if (t.host !== undefined && t.host !== HOST) return everyHost;
  if (t.pid === process.pid) return !(t.nonce ?? "").startsWith(NONCE);
  return !processAlive(t.pid);
}

/** Is the file `name` (a path or a bare name) a temporary, of any output and any writer? */
export function isTempName(name: string): boolean {
  return parseTempName(basename(name)) !== undefined;
}

/** Is `name` a temporary whose writer has gone (with `everyHost`: on another machine too)? */
export function isStaleTempName(name: string, opts: { everyHost?: boolean } = {}): boolean {
  const t = parseTempName(basename(name));
  return t !== undefined && writerGone(t, opts.everyHost ?? false);
}

/**
 * Removes the temporaries of `path` (files or folders) left by processes that no longer run, and returns their
 * paths. A missing folder has none.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const abs = resolve(path);
  const dir = dirname(abs);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const t = parseTempName(name);
    if (t?.output !== basename(abs) || !writerGone(t, false)) continue;
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
