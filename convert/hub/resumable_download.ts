/**
 * One file from a `resolve` URL into the cache, resumable.
 *
 * The Hub library's `downloadFileToCacheDir` writes `<blob>.incomplete` from byte 0 every time and has no progress
 * callback, so a 3 GB checkpoint interrupted at 2.9 GB starts over. This does the byte transfer itself with HTTP
 * Range requests against the same URL the library uses (`<hub>/<repo>/resolve/<commit>/<path>`): the bytes already in
 * `<blob>.incomplete` are kept and the rest is asked for with `Range: bytes=<have>-`; a cut connection is retried the
 * same way; the file is renamed to its final name only once its size and hash match what the Hub's tree listing
 * announced (sha256 for LFS files, the git blob sha1 otherwise).
 *
 * Redirects are followed by hand so the Authorization header only ever goes to the Hub's own origin (LFS files
 * redirect to a signed CDN URL that must not receive the token).
 */
import { open, rename, rm, stat } from "node:fs/promises";
import { fileDigest } from "../../common/checksums.ts";
import { HubError } from "./errors.ts";

export interface ExpectedHash {
  algo: "sha256" | "git-sha1";
  hex: string;
}

export interface ResumableDownloadParams {
  url: string;
  /** Authorization is sent only to URLs of this origin. */
  hubOrigin: string;
  /** Final path; bytes go to `${dest}.incomplete` first. */
  dest: string;
  size: number;
  hash?: ExpectedHash;
  token?: string;
  fetch: typeof fetch;
  /** Further attempts after a cut connection or a stalled / 5xx answer. */
  retries: number;
  /** Abort an attempt when no byte arrives for this long. */
  stallMs: number;
  /** File name for messages and progress. */
  label: string;
  onBytes?: (bytes: number, total: number) => void;
}

const MAX_REDIRECTS = 5;
const REDIRECT = new Set([301, 302, 303, 307, 308]);

/** A failure worth another attempt (network, stall, 5xx, 429). */
class Transient extends Error {}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function errorText(resp: Response): Promise<string> {
  try {
    const t = await resp.text();
    try {
      const j = JSON.parse(t) as { error?: unknown };
      if (typeof j.error === "string") return j.error;
    } catch {
      // not JSON
    }
    return t.slice(0, 200);
  } catch {
    return "";
  }
}

/** GET with manual redirects; Authorization only towards the Hub's origin. */
async function get(p: ResumableDownloadParams, range: string | undefined, signal: AbortSignal): Promise<Response> {
  let current = p.url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = {};
    if (range) headers["Range"] = range;
    if (p.token && new URL(current).origin === p.hubOrigin) headers["Authorization"] = `Bearer ${p.token}`;
    const resp = await p.fetch(current, { headers, redirect: "manual", signal });
    if (!REDIRECT.has(resp.status)) return resp;
    const loc = resp.headers.get("location");
    await resp.body?.cancel().catch(() => {});
    if (!loc) throw new HubError("http", `${p.label}: redirect without a Location header`, resp.status);
    current = new URL(loc, current).href;
  }
  throw new HubError("http", `${p.label}: more than ${MAX_REDIRECTS} redirects`);
}

/** One attempt: appends to the .incomplete file from its current length. */
async function attempt(p: ResumableDownloadParams, incomplete: string): Promise<void> {
  let have = await sizeOf(incomplete);
  if (have > p.size) {
    await rm(incomplete, { force: true });
    have = 0;
  }
  if (have === p.size) return;

  const ac = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(new Transient(`no data for ${p.stallMs} ms`)), p.stallMs);
  };
  arm();
  try {
    let resp: Response;
    try {
      resp = await get(p, have > 0 ? `bytes=${have}-` : undefined, ac.signal);
    } catch (e) {
      if (e instanceof HubError) throw e;
      throw new Transient(e instanceof Error ? e.message : String(e));
    }
    let start: number;
    if (resp.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(resp.headers.get("content-range") ?? "");
      start = m ? Number(m[1]) : -1;
      if (start !== have) {
        // The server resumed somewhere else: distrust the partial file and start over.
        await resp.body?.cancel().catch(() => {});
        await rm(incomplete, { force: true });
        throw new Transient(`server answered range ${resp.headers.get("content-range")} for bytes=${have}-`);
      }
    } else if (resp.status === 200) {
      start = 0; // server ignored the Range header: rewrite from scratch
    } else if (resp.status === 416) {
      await resp.body?.cancel().catch(() => {});
      await rm(incomplete, { force: true });
      throw new Transient(`server refused range bytes=${have}-`);
    } else {
      const text = await errorText(resp);
      const code = resp.status === 401 || resp.status === 403 ? "auth" : resp.status === 404 ? "not-found" : "http";
      const msg = `${p.label}: HTTP ${resp.status}${text ? `: ${text}` : ""}`;
      if (resp.status >= 500 || resp.status === 429 || resp.status === 408) throw new Transient(msg);
      throw new HubError(code, msg, resp.status);
    }
    if (!resp.body) throw new Transient(`${p.label}: empty answer`);

    const fh = await open(incomplete, start === 0 ? "w" : "a");
    let written = start;
    try {
      const reader = resp.body.getReader();
      for (;;) {
        let r: Awaited<ReturnType<typeof reader.read>>;
        try {
          r = await reader.read();
        } catch (e) {
          throw new Transient(
            ac.signal.aborted
              ? String(ac.signal.reason?.message ?? "stalled")
              : e instanceof Error
              ? e.message
              : String(e),
          );
        }
        if (r.done) break;
        arm();
        if (written + r.value.length > p.size) throw new Transient(`${p.label}: server sent more than ${p.size} bytes`);
        await fh.write(r.value);
        written += r.value.length;
        p.onBytes?.(written, p.size);
      }
    } finally {
      await fh.close();
    }
    if (written !== p.size) throw new Transient(`${p.label}: connection ended after ${written} of ${p.size} bytes`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Downloads `p.url` to `p.dest`, resuming from `${p.dest}.incomplete`. Resolves once `p.dest` holds the verified
 * bytes; on failure the partial file is left for the next call to resume (unless its content proved wrong).
 */
export async function downloadResumable(p: ResumableDownloadParams): Promise<void> {
  const incomplete = `${p.dest}.incomplete`;
  let lastError = "";
  for (let i = 0; i <= p.retries; i++) {
    try {
      await attempt(p, incomplete);
      lastError = "";
      break;
    } catch (e) {
      if (!(e instanceof Transient)) throw e;
      lastError = e.message;
      if (i < p.retries) await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** i)));
    }
  }
  if (lastError !== "") {
    const kept = await sizeOf(incomplete);
    throw new HubError(
      "network",
      `${p.label}: download failed after ${p.retries + 1} attempt(s) (${lastError}); ` +
        `${kept} of ${p.size} bytes kept in the cache, run again to resume`,
    );
  }
  if (p.hash) {
    const got = (await fileDigest(
      incomplete,
      p.hash.algo === "sha256" ? {} : { algo: "sha1", prefix: `blob ${p.size}\0` },
    )).hex;
    if (got !== p.hash.hex) {
      await rm(incomplete, { force: true });
      throw new HubError(
        "integrity",
        `${p.label}: downloaded bytes have ${p.hash.algo} ${got}, the Hub announced ${p.hash.hex}`,
      );
    }
  }
  await rename(incomplete, p.dest);
}
