/**
 * Hugging Face Hub access for the converter: download an original checkpoint from `hf://owner/name[@rev][/path]`
 * into the shared cache (resumable), and push a converted folder to a repository. Implementation beside this face.
 */
export { DEFAULT_REVISION, formatHubSource, HUB_SCHEME, parseHubSource } from "./source.ts";
export type { HubSource } from "./source.ts";
export { defaultHubUrl, downloadCheckpoint } from "./download.ts";
export type { DownloadOptions, DownloadProgress } from "./download.ts";
export { DEFAULT_COMMIT_MESSAGE, pushToHub } from "./upload.ts";
export type { PushOptions, PushResult, UploadProgress } from "./upload.ts";
export { HubError, scrubSecret } from "./errors.ts";
export type { HubErrorCode } from "./errors.ts";
export { defaultCacheDir } from "./cache.ts";
export { selectCheckpointFiles } from "./select_files.ts";
export { TOKEN_ENV_VAR } from "./token.ts";
