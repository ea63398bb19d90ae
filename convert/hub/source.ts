/**
 * The `hf://owner/name[@revision][/sub/path]` source syntax.
 *
 * The revision ends at the first "/" after "@"; a revision that itself contains "/" (e.g. `refs/pr/3`) is written
 * URL-encoded (`@refs%2Fpr%2F3`). Anything after it is a folder inside the repository that holds the checkpoint.
 */
import { HubError } from "./errors.ts";

export const HUB_SCHEME = "hf://";
export const DEFAULT_REVISION = "main";

export interface HubSource {
  /** "owner/name" */
  repo: string;
  /** Branch, tag or commit hash; "main" when the source names none. */
  revision: string;
  /** Folder inside the repository, without leading or trailing "/"; absent for the repository root. */
  path?: string;
}

// The Hub's own rule for namespace and repository names: letters, digits, "-", "_", "."; no leading/trailing "-" or
// "."; no "--" or "..". We check the part that matters for safety (it becomes a cache folder name) and leave the rest
// to the Hub's 404.
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$/;

function bad(s: string, why: string): never {
  throw new HubError("bad-source", `bad Hub source "${s}": ${why} (expected hf://owner/name[@revision][/path])`);
}

/**
 * Parses a Hub source string. Returns null when `s` is not an `hf://` string at all (so callers can treat it as a
 * local path); throws a HubError("bad-source") when it is one but malformed.
 */
export function parseHubSource(s: string): HubSource | null {
  if (!s.startsWith(HUB_SCHEME)) return null;
  const rest = s.slice(HUB_SCHEME.length);
  const parts = rest.split("/");
  if (parts.length < 2 || parts[0] === "" || parts[1] === "") bad(s, "it must name owner/name");
  const owner = parts[0];
  let name = parts[1];
  let revision = DEFAULT_REVISION;
  const at = name.indexOf("@");
  if (at >= 0) {
    const rawRev = name.slice(at + 1);
    name = name.slice(0, at);
    if (rawRev === "") bad(s, "empty revision after @");
    try {
      revision = decodeURIComponent(rawRev);
    } catch {
      bad(s, "the revision is not valid URL encoding");
    }
  }
  for (const part of [owner, name]) {
    if (!NAME.test(part) || part.includes("--") || part.includes("..")) {
      bad(s, `"${part}" is not a valid repository name part`);
    }
  }
  if (revision.split("/").some((seg) => seg === "" || seg === "." || seg === "..")) {
    bad(s, `bad revision "${revision}"`);
  }
  const sub = parts.slice(2);
  while (sub.length > 0 && sub[sub.length - 1] === "") sub.pop(); // tolerate one trailing "/"
  if (sub.some((seg) => seg === "" || seg === "." || seg === "..")) {
    bad(s, "the path inside the repository has an empty, . or .. segment");
  }
  const out: HubSource = { repo: `${owner}/${name}`, revision };
  if (sub.length > 0) out.path = sub.join("/");
  return out;
}

/** The inverse of parseHubSource, for messages. */
export function formatHubSource(src: HubSource): string {
  const rev = src.revision === DEFAULT_REVISION ? "" : `@${encodeURIComponent(src.revision)}`;
  return `${HUB_SCHEME}${src.repo}${rev}${src.path ? `/${src.path}` : ""}`;
}
