/**
 * A checkpoint from the cache alone, as huggingface_hub does it: with `HF_HUB_OFFLINE` set the Hub is never asked,
 * and when it cannot be reached a complete cached snapshot is used instead. A branch or tag is resolved through
 * `refs/<revision>` (written by every download, ours and Python's), a commit hash names its snapshot directly; the
 * files are the same selection an online download makes, taken from the snapshot's listing.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import type { RepoCache } from "./cache.ts";
import { HubError } from "./errors.ts";
import { selectCheckpointFiles } from "./select_files.ts";
import { formatHubSource, type HubSource } from "./source.ts";

/** huggingface_hub's rule: HF_HUB_OFFLINE (or the older TRANSFORMERS_OFFLINE) set to 1, ON, YES or TRUE. */
export function hubOffline(env: Record<string, string | undefined> = process.env): boolean {
  const v = env["HF_HUB_OFFLINE"] || env["TRANSFORMERS_OFFLINE"];
  return v !== undefined && ["1", "ON", "YES", "TRUE"].includes(v.toUpperCase());
}

const COMMIT = /^[0-9a-f]{40}$/;

async function filesUnder(dir: string, root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...await filesUnder(p, root));
    else out.push(relative(root, p).split("\\").join("/"));
  }
  return out;
}

/** Does `path` resolve to a file (a snapshot entry is a symlink into blobs/, which may be gone)? */
const isFile = (path: string) => stat(path).then((s) => s.isFile(), () => false);

/**
 * The cached snapshot folder of `src`, complete with every file the checkpoint needs. Throws a HubError("not-cached")
 * naming the first missing piece: the ref, the snapshot, a weight file, or a shard the index lists.
 */
export async function cachedCheckpoint(src: HubSource, cache: RepoCache): Promise<string> {
  const name = formatHubSource(src);
  const missing = (what: string) => new HubError("not-cached", `${name} is not in the cache: ${what} is missing`);
  let commit = src.revision;
  if (!COMMIT.test(commit)) {
    const ref = cache.ref(src.revision);
    commit = (await readFile(ref, "utf8").catch(() => "")).trim();
    if (!COMMIT.test(commit)) throw missing(ref);
  }
  const snapshot = cache.snapshot(commit);
  const wanted = selectCheckpointFiles(await filesUnder(snapshot, snapshot), src.path ?? "");
  if (wanted.length === 0) {
    throw missing(
      `checkpoint weights (model.safetensors, pytorch_model.bin or *.ckpt) in ${cache.snapshot(commit, src.path)}`,
    );
  }
  for (const path of wanted) {
    const file = cache.snapshot(commit, path);
    if (!(await isFile(file))) throw missing(file);
    if (!path.endsWith(".index.json")) continue;
    // a sharded checkpoint: every shard its index names
    const folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
    let shards: string[] = [];
    try {
      shards = [...new Set(Object.values(JSON.parse(await readFile(file, "utf8")).weight_map ?? {}).map(String))];
    } catch { /* reported below */ }
    if (shards.length === 0) throw missing(`the weight_map of ${file}`);
    for (const shard of shards) {
      const p = cache.snapshot(commit, folder + shard);
      if (!(await isFile(p))) throw missing(p);
    }
  }
  return cache.snapshot(commit, src.path);
}
