/**
 * Where the Hub token comes from: an explicit option, else the HF_TOKEN environment variable. The value is only ever
 * passed to the Hub library or put in an Authorization header; it is never printed, logged or put in a message.
 */
import { HubError } from "./errors.ts";

export const TOKEN_ENV_VAR = "HF_TOKEN";

function fromEnv(): string | undefined {
  const v = process.env[TOKEN_ENV_VAR];
  return v && v.trim() !== "" ? v.trim() : undefined;
}

function checkShape(token: string, source: string): string {
  // The Hub library rejects anything else with a TypeError; say it in our words, without echoing the value.
  if (!token.startsWith("hf_")) {
    throw new HubError(
      "bad-token",
      `${source} does not look like a Hugging Face access token (it must start with "hf_"); ` +
        `create one at https://huggingface.co/settings/tokens`,
    );
  }
  return token;
}

/** Token for reading: optional (public repositories need none). */
export function readToken(explicit?: string): string | undefined {
  if (explicit !== undefined) return checkShape(explicit, "the token option");
  const t = fromEnv();
  return t === undefined ? undefined : checkShape(t, TOKEN_ENV_VAR);
}

/** Token for writing: required; the error names the variable to set. */
export function writeToken(explicit?: string): string {
  const t = explicit ?? fromEnv();
  if (t === undefined) {
    throw new HubError(
      "no-token",
      `uploading to the Hugging Face Hub needs an access token with write access: set the ${TOKEN_ENV_VAR} ` +
        `environment variable (create a token at https://huggingface.co/settings/tokens)`,
    );
  }
  return checkShape(t, explicit !== undefined ? "the token option" : TOKEN_ENV_VAR);
}
