/**
 * One error type for everything the Hub client reports, with the token scrubbed out.
 *
 * The Hub library's own errors (HubApiError) carry the request URL and the server's message; neither should contain
 * the token, but a proxy, a redirect or a misbehaving server could echo it back, so every message that leaves this
 * package passes through `scrubSecret` first. The original error is NOT kept as `cause` for the same reason.
 */
import { Xcodec2Error } from "../../common/errors.ts";

export type HubErrorCode =
  | "bad-source" // the hf:// string does not parse
  | "no-token" // HF_TOKEN is needed and not set
  | "bad-token" // HF_TOKEN is set but malformed
  | "auth" // the Hub refused the credentials (401/403)
  | "not-found" // repository, revision or file missing (404)
  | "http" // any other non-2xx answer
  | "network" // connection failed or was cut, retries exhausted
  | "integrity" // downloaded bytes do not match the size / hash the Hub announced
  | "not-cached" // offline (HF_HUB_OFFLINE, or the Hub unreachable) and the cache lacks a file
  | "bad-folder"; // the folder to upload is missing or empty

export class HubError extends Xcodec2Error {
  constructor(
    readonly code: HubErrorCode,
    message: string,
    /** HTTP status when the error came from an answer. */
    readonly status?: number,
  ) {
    super(message);
  }
}

const REDACTED = "[redacted]";

/** Removes every occurrence of `secret` (and its URL-encoded form) from `text`. */
export function scrubSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  let out = text.split(secret).join(REDACTED);
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) out = out.split(encoded).join(REDACTED);
  return out;
}

/** The HTTP status of a HubApiError (or anything shaped like one), else undefined. */
export function statusOf(err: unknown): number | undefined {
  if (typeof err === "object" && err !== null && "statusCode" in err) {
    const s = (err as { statusCode: unknown }).statusCode;
    if (typeof s === "number") return s;
  }
  return undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Turns whatever a Hub call threw into a HubError whose message says what was being done (`doing`), on which
 * repository, and what to change; the token never appears in it.
 */
export function toHubError(
  err: unknown,
  ctx: { doing: string; repo: string; token: string | undefined; tokenVar?: string },
): HubError {
  const tokenVar = ctx.tokenVar ?? "HF_TOKEN";
  if (err instanceof HubError) {
    return new HubError(err.code, scrubSecret(err.message, ctx.token), err.status);
  }
  const status = statusOf(err);
  // Query strings are dropped from URLs in the library's messages: they only add noise (expand=… lists) or carry
  // signatures of presigned storage URLs.
  const detail = scrubSecret(messageOf(err), ctx.token).replace(/(https?:\/\/[^\s?]+)\?[^\s)]*/g, "$1");
  let out: HubError;
  if (status === 401 || status === 403) {
    const hint = ctx.token
      ? `the token in ${tokenVar} was refused: check that it is valid and has ${
        ctx.doing.startsWith("upload") || ctx.doing.startsWith("creat") ? "write" : "read"
      } access to ${ctx.repo}`
      : `the repository may be private or gated: set ${tokenVar} to a Hugging Face access token with access to it`;
    out = new HubError("auth", `${ctx.doing} ${ctx.repo}: HTTP ${status}, ${hint} (${detail})`, status);
  } else if (status === 404) {
    out = new HubError("not-found", `${ctx.doing} ${ctx.repo}: not found (HTTP 404): ${detail}`, status);
  } else if (status !== undefined) {
    out = new HubError("http", `${ctx.doing} ${ctx.repo}: HTTP ${status}: ${detail}`, status);
  } else {
    out = new HubError("network", `${ctx.doing} ${ctx.repo}: ${detail}`);
  }
  return out;
}
