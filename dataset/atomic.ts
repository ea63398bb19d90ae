/**
 * Every output file is written under a temporary name beside its target, flushed to disk, then renamed: a reader
 * (or a resumed job) sees a whole shard or none. Temporaries are named by the toolkit's one rule
 * (common/temp_files.ts) with the machine in the name, since workers on several machines write into one dataset: a
 * later run can tell the leftovers of a dead process (a `kill -9`, a crashed worker) from a file another live worker,
 * here or elsewhere, is writing.
 */
import { open, readdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isStaleTempName, tempPathFor } from "../common/temp_files.ts";

/** Write `bytes` to `target` through a flushed temporary file and a rename; the temporary is removed on failure. */
export async function writeFileAtomic(target: string, bytes: Uint8Array): Promise<void> {
  const tmp = tempPathFor(target, { host: true });
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
      else if (isStaleTempName(e.name, opts)) {
        await rm(p, { force: true });
        removed++;
      }
    }
  };
  await walk(dir);
  return removed;
}
