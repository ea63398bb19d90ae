/**
 * `hf://owner/name[@revision][/path]` → a local folder holding the original checkpoint's files.
 *
 * The Hub library answers the questions (which commit is this revision: `modelInfo`; which files are there, with
 * sizes and hashes: `listFiles`) and names the cache folders (`getRepoFolderName`); the bytes come through
 * `downloadResumable`, because the library's own downloader cannot resume (see there). The result is the library's
 * cache layout, so a snapshot already fetched by `snapshotDownload` or huggingface_hub is reused as is.
 *
 * Offline as huggingface_hub: with HF_HUB_OFFLINE=1 the Hub is never asked and the cache must hold the checkpoint;
 * when the Hub cannot be reached (no answer at all, as opposed to an HTTP error), a complete cached snapshot of the
 * same revision is used, with one line saying so.
 */
import { mkdir, rename, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { HUB_URL, listFiles, modelInfo } from "@huggingface/hub";
import type { ListFileEntry } from "@huggingface/hub";
import { HubError, toHubError } from "./errors.ts";
import { formatHubSource, parseHubSource } from "./source.ts";
import type { HubSource } from "./source.ts";
import { readToken } from "./token.ts";
import { defaultCacheDir, linkBlob, type RepoCache, repoCache } from "./cache.ts";
import { cachedCheckpoint, hubOffline } from "./offline.ts";
import { downloadResumable } from "./resumable_download.ts";
import type { ExpectedHash } from "./resumable_download.ts";
import { selectCheckpointFiles } from "./select_files.ts";
import { claimTempPath } from "../../common/temp_files.ts";

export interface DownloadProgress {
  /** Path inside the repository. */
  file: string;
  /** Bytes of this file on disk so far (resumed bytes included). */
  bytes: number;
  total?: number;
}

export interface DownloadOptions {
  /** Cache root; default $XCODEC2_CACHE, else $HF_HUB_CACHE / $HF_HOME/hub / ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Hub base URL; default $HF_ENDPOINT, else https://huggingface.co. */
  hubUrl?: string;
  onProgress?: (p: DownloadProgress) => void;
  fetch?: typeof fetch;
  /** Access token; default $HF_TOKEN (optional for public repositories). */
  token?: string;
  /** Further attempts per file after a cut connection (default 4); each resumes where the last one stopped. */
  retries?: number;
  /** An attempt with no byte for this long is aborted and retried (default 60 000 ms). */
  stallTimeoutMs?: number;
  /**
   * Metadata requests (which commit, which files) give up after this long, so that an unreachable Hub falls back to
   * the cache quickly (default: $HF_HUB_ETAG_TIMEOUT seconds, else 10 s, as huggingface_hub).
   */
  metadataTimeoutMs?: number;
  /** Says when the cache is used because the Hub cannot be reached (default: one line on stderr). */
  log?: (msg: string) => void;
}

export function defaultHubUrl(): string {
  const env = process.env["HF_ENDPOINT"];
  return (env && env !== "" ? env : HUB_URL).replace(/\/+$/, "");
}

function expectedHash(e: ListFileEntry): ExpectedHash | undefined {
  if (e.lfs) return { algo: "sha256", hex: e.lfs.oid };
  if (e.oid && !e.xetHash) return { algo: "git-sha1", hex: e.oid };
  return undefined;
}

/** Same rule as the library's downloadFileToCacheDir, so both name a blob alike. */
function etagOf(e: ListFileEntry): string {
  const etag = e.lfs?.oid ?? e.xetHash ?? e.oid;
  if (!etag || !/^[0-9A-Za-z]+$/.test(etag)) throw new HubError("http", `the Hub gave no usable oid for ${e.path}`);
  return etag;
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

function encodePath(p: string): string {
  return p.split("/").map(encodeURIComponent).join("/");
}

/**
 * Downloads the checkpoint named by `source` (an hf:// string) into the cache and returns the local folder
 * (`<cache>/models--owner--name/snapshots/<commit>[/path]`). Files already in the cache are not fetched again; a
 * partial file left by an interrupted run is resumed.
 */
export async function downloadCheckpoint(source: string, opts: DownloadOptions = {}): Promise<string> {
  const src = parseHubSource(source);
  if (!src) {
    throw new HubError("bad-source", `"${source}" is not a Hub source (expected hf://owner/name[@revision][/path])`);
  }
  const cache = repoCache(opts.cacheDir ?? defaultCacheDir(), src.repo);
  if (hubOffline()) {
    try {
      return await cachedCheckpoint(src, cache);
    } catch (e) {
      throw e instanceof HubError ? new HubError(e.code, `HF_HUB_OFFLINE is set and ${e.message}`) : e;
    }
  }
  const token = readToken(opts.token);
  try {
    return await download(src, token, cache, opts);
  } catch (e) {
    const err = toHubError(e, { doing: "downloading", repo: formatHubSource(src), token });
    if (err.code !== "network") throw err;
    let cached: string;
    try {
      cached = await cachedCheckpoint(src, cache);
    } catch (c) {
      throw new HubError("network", `${err.message}; ${(c as Error).message}`);
    }
    (opts.log ?? ((m: string) => process.stderr.write(m + "\n")))(
      `the Hub cannot be reached (${err.message}); using the cached ${cached}`,
    );
    return cached;
  }
}

function metadataTimeoutMs(opts: DownloadOptions): number {
  if (opts.metadataTimeoutMs !== undefined) return opts.metadataTimeoutMs;
  const s = Number(process.env["HF_HUB_ETAG_TIMEOUT"]);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 10_000;
}

async function download(
  src: HubSource,
  token: string | undefined,
  cache: RepoCache,
  opts: DownloadOptions,
): Promise<string> {
  const hubUrl = (opts.hubUrl ?? defaultHubUrl()).replace(/\/+$/, "");
  const f = opts.fetch ?? globalThis.fetch;
  const timeout = metadataTimeoutMs(opts);
  // bounded metadata requests: a black-holed network (DNS answers, connections hang) must not stall the fallback
  const metadataFetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const deadline = AbortSignal.timeout(timeout);
    if (!init?.signal) return f(input, { ...init, signal: deadline });
    // the caller's signal and the deadline, either one (AbortSignal.any needs Node 20.3)
    const either = new AbortController();
    for (const s of [init.signal, deadline]) {
      if (s.aborted) either.abort(s.reason);
      else s.addEventListener("abort", () => either.abort(s.reason), { once: true });
    }
    return f(input, { ...init, signal: either.signal });
  }) as typeof fetch;
  const lib = { hubUrl, fetch: metadataFetch, ...(token !== undefined && { accessToken: token }) };

  const info = await modelInfo({ ...lib, name: src.repo, revision: src.revision, additionalFields: ["sha"] });
  const commit = info.sha;
  if (typeof commit !== "string" || !/^[0-9a-f]{40}$/.test(commit)) {
    throw new HubError("http", `the Hub did not say which commit ${src.revision} is`);
  }

  const entries = new Map<string, ListFileEntry>();
  for await (
    const e of listFiles({
      ...lib,
      repo: src.repo,
      revision: commit,
      recursive: true,
      ...(src.path && { path: src.path }),
    })
  ) {
    if (e.type === "file") entries.set(e.path, e);
  }
  const wanted = selectCheckpointFiles([...entries.keys()], src.path ?? "");
  if (wanted.length === 0) {
    throw new HubError(
      "not-found",
      `no checkpoint weights (model.safetensors, pytorch_model.bin or *.ckpt) in ${
        formatHubSource(src)
      } at commit ${commit}`,
    );
  }

  for (const path of wanted) {
    const e = entries.get(path)!;
    const size = e.lfs?.size ?? e.size;
    const pointer = cache.snapshot(commit, path);
    const report = (bytes: number) => opts.onProgress?.({ file: path, bytes, total: size });
    if ((await fileSize(pointer)) === size) {
      report(size);
      continue;
    }
    const blob = cache.blob(etagOf(e));
    if ((await fileSize(blob)) !== size) {
      await mkdir(dirname(blob), { recursive: true });
      await downloadResumable({
        url: `${hubUrl}/${src.repo}/resolve/${commit}/${encodePath(path)}`,
        hubOrigin: new URL(hubUrl).origin,
        dest: blob,
        size,
        hash: expectedHash(e),
        token,
        fetch: f,
        retries: opts.retries ?? 4,
        stallMs: opts.stallTimeoutMs ?? 60_000,
        label: path,
        onBytes: (bytes) => report(bytes),
      });
    }
    await linkBlob(blob, pointer);
    report(size);
  }

  if (src.revision !== commit) {
    const ref = cache.ref(src.revision);
    await mkdir(dirname(ref), { recursive: true });
    const tmp = await claimTempPath(ref);
    await writeFile(tmp, commit);
    await rename(tmp, ref);
  }
  return cache.snapshot(commit, src.path);
}
