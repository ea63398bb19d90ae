/**
 * Every output file is written under a temporary name beside its target, flushed to disk, then renamed: a reader
 * (or a resumed job) sees a whole shard or none. Temporary names carry the host and the process id, so a later run
 * can tell the leftovers of a dead process (a `kill -9`, a crashed worker) from a file another live worker is writing.
 */
import { open, readdir, rename, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";

const HOST = hostname().replace(/[^\w.-]/g, "_");
/** `.<target name>.tmp-<host>-<pid>-<random>` */
const TEMP = /^\.(.+)\.tmp-(.+)-(\d+)-[0-9a-z]+$/;

export function tempNameFor(target: string): string {
  return join(
    dirname(target),
    `.${basename(target)}.tmp-${HOST}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  );
}

/** Write `bytes` to `target` through a flushed temporary file and a rename; the temporary is removed on failure. */
export async function writeFileAtomic(target: string, bytes: Uint8Array): Promise<void> {
  const tmp = tempNameFor(target);
  try {
    const fh = await open(tmp, "w");
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dirname(target));
}

/** Flush a folder's entries (the rename) to disk; some file systems refuse to open folders, which is harmless. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch { /* not supported here (e.g. some network file systems): the rename is still atomic */ }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Remove temporaries under `dir` (recursively) left by processes that no longer run. Only this host's can be checked
 * for liveness; `everyHost` also removes other hosts' (for the end of a job, when no worker writes for it any more).
 * Returns the number removed.
 */
export async function removeDeadTemporaries(dir: string, opts: { everyHost?: boolean } = {}): Promise<number> {
  let removed = 0;
  const walk = async (d: string) => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        const m = TEMP.exec(e.name);
        if (!m) continue;
        const [, , host, pid] = m;
        const dead = host === HOST ? !alive(Number(pid)) : !!opts.everyHost;
        if (dead) {
          await rm(p, { force: true });
          removed++;
        }
      }
    }
  };
  await walk(dir);
  return removed;
}

/** True for names `tempNameFor` makes. */
export function isTemporaryName(name: string): boolean {
  return TEMP.test(basename(name));
}
