/**
 * The on-disk cache, in the same layout as the Hub library's `downloadFileToCacheDir` / `snapshotDownload` (and
 * Python's huggingface_hub), so either tool finds what the other downloaded:
 *
 *   <cache>/models--owner--name/blobs/<etag>                      file bytes (etag = LFS sha256, else git oid)
 *   <cache>/models--owner--name/blobs/<etag>.incomplete           a download in progress (resumed from its length)
 *   <cache>/models--owner--name/snapshots/<commit>/<path>          relative symlink to the blob
 *   <cache>/models--owner--name/refs/<revision>                    the commit a branch/tag pointed to
 */
import { homedir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { copyFile, mkdir, rm, symlink } from "node:fs/promises";
import { getHFHubCachePath, getRepoFolderName } from "@huggingface/hub";

/** $XCODEC2_CACHE, else the library's rule ($HF_HUB_CACHE, $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub). */
export function defaultCacheDir(): string {
  const own = process.env["XCODEC2_CACHE"];
  if (own && own !== "") return own;
  const lib = getHFHubCachePath();
  return lib.startsWith("~") ? join(homedir(), lib.slice(1)) : lib;
}

export interface RepoCache {
  root: string;
  blob(etag: string): string;
  snapshot(commit: string, path?: string): string;
  ref(revision: string): string;
}

export function repoCache(cacheDir: string, repo: string): RepoCache {
  const root = join(resolve(cacheDir), getRepoFolderName({ type: "model", name: repo }));
  return {
    root,
    blob: (etag) => join(root, "blobs", etag),
    snapshot: (
      commit,
      path,
    ) => (path ? join(root, "snapshots", commit, ...path.split("/")) : join(root, "snapshots", commit)),
    ref: (revision) => join(root, "refs", ...revision.split("/")),
  };
}

/** Points `linkPath` at `target` with a relative symlink (survives moving the cache); copies where symlinks fail. */
export async function linkBlob(target: string, linkPath: string): Promise<void> {
  await mkdir(dirname(linkPath), { recursive: true });
  await rm(linkPath, { force: true });
  try {
    await symlink(relative(dirname(linkPath), target), linkPath);
  } catch {
    await copyFile(target, linkPath);
  }
}
