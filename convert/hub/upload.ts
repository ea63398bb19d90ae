/**
 * Publishing a converted folder: every file in it, in one commit, on a branch that is created when missing, in a
 * repository that is created when missing. All Hub traffic goes through @huggingface/hub (`repoExists`, `createRepo`,
 * `createBranch`, `commitIter`); uploads use the plain Git LFS "basic" transfer (`useXet: false`), which every Hub
 * deployment accepts and which needs no WASM chunker.
 */
import { readdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { commitIter, createBranch, createRepo, repoExists } from "@huggingface/hub";
import type { CommitOperation, CommitOutput } from "@huggingface/hub";
import { HubError, statusOf, toHubError } from "./errors.ts";
import { DEFAULT_REVISION, parseHubSource } from "./source.ts";
import { writeToken } from "./token.ts";
import { libraryFetch } from "./http.ts";
import { defaultHubUrl } from "./download.ts";

export interface UploadProgress {
  /** Path inside the repository. */
  file: string;
  /** 0..1 within the current state. */
  fraction: number;
  state: "hashing" | "uploading";
}

export interface PushOptions {
  /** Branch to commit to; created from the default branch when missing (default "main"). */
  revision?: string;
  /** Hub base URL; default $HF_ENDPOINT, else https://huggingface.co. */
  hubUrl?: string;
  /** Access token; default $HF_TOKEN. Required. */
  token?: string;
  /** Visibility when the repository has to be created (default: the account's default, usually public). */
  private?: boolean;
  commitMessage?: string;
  onProgress?: (p: UploadProgress) => void;
  fetch?: typeof fetch;
}

export interface PushResult {
  commitUrl?: string;
  commitOid?: string;
}

export const DEFAULT_COMMIT_MESSAGE = "Upload XCodec2 checkpoint converted by xcodec2-kit";

/** Regular files under `folder`, as [repository path with "/", absolute path], sorted. */
async function folderFiles(folder: string): Promise<Array<[string, string]>> {
  let st;
  try {
    st = await stat(folder);
  } catch {
    throw new HubError("bad-folder", `cannot upload ${folder}: no such folder`);
  }
  if (!st.isDirectory()) throw new HubError("bad-folder", `cannot upload ${folder}: not a folder`);
  const out: Array<[string, string]> = [];
  const walk = async (dir: string): Promise<void> => {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const abs = join(dir, d.name);
      const s = await stat(abs); // follows symlinks: a cache snapshot is all symlinks
      if (s.isDirectory()) await walk(abs);
      else if (s.isFile()) out.push([relative(folder, abs).split(sep).join("/"), abs]);
    }
  };
  await walk(folder);
  if (out.length === 0) throw new HubError("bad-folder", `cannot upload ${folder}: the folder is empty`);
  return out.sort(([a], [b]) => (a < b ? -1 : 1));
}

/** Treats "already exists" (409) as success: the state we wanted is there. */
async function tolerateConflict(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (statusOf(e) !== 409) throw e;
  }
}

/**
 * Uploads every file of `folder` to the model repository `repo` ("owner/name") in one commit and returns the
 * commit's URL. Needs a token with write access in $HF_TOKEN (or `opts.token`).
 */
export async function pushToHub(folder: string, repo: string, opts: PushOptions = {}): Promise<PushResult> {
  const token = writeToken(opts.token);
  const parsed = parseHubSource(`hf://${repo}`);
  if (!parsed || parsed.path !== undefined || parsed.revision !== DEFAULT_REVISION || repo.includes("@")) {
    throw new HubError("bad-source", `bad repository name "${repo}" (expected owner/name)`);
  }
  const files = await folderFiles(folder);
  const hubUrl = (opts.hubUrl ?? defaultHubUrl()).replace(/\/+$/, "");
  const branch = opts.revision ?? DEFAULT_REVISION;
  const lib = { hubUrl, fetch: libraryFetch(opts.fetch ?? globalThis.fetch), accessToken: token };

  let doing = "checking";
  try {
    if (!(await repoExists({ ...lib, repo }))) {
      doing = "creating";
      await tolerateConflict(
        createRepo({
          ...lib,
          repo,
          ...(opts.private !== undefined && { visibility: opts.private ? "private" : "public" }),
        }),
      );
    }
    if (branch !== DEFAULT_REVISION) {
      doing = "creating branch " + branch + " on";
      await tolerateConflict(createBranch({ ...lib, repo, branch }));
    }
    doing = "uploading to";
    const operations: CommitOperation[] = files.map(([path, abs]) => ({
      operation: "addOrUpdate",
      path,
      content: pathToFileURL(abs),
    }));
    const it = commitIter({
      ...lib,
      repo,
      branch,
      operations,
      title: opts.commitMessage ?? DEFAULT_COMMIT_MESSAGE,
      useXet: false,
    });
    const failed: string[] = [];
    let r = await it.next();
    while (!r.done) {
      const ev = r.value;
      if (ev.event === "fileProgress") {
        if (ev.state === "error") failed.push(ev.path);
        else opts.onProgress?.({ file: ev.path, fraction: ev.progress, state: ev.state });
      }
      r = await it.next();
    }
    if (failed.length > 0) throw new HubError("http", `the Hub did not accept ${failed.join(", ")}`);
    const out: CommitOutput | undefined = r.value;
    return {
      ...(out?.commit.url && { commitUrl: out.commit.url }),
      ...(out?.commit.oid && { commitOid: out.commit.oid }),
    };
  } catch (e) {
    throw toHubError(e, { doing, repo: `${repo}${branch === DEFAULT_REVISION ? "" : `@${branch}`}`, token });
  }
}
