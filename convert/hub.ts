/**
 * Hugging Face Hub access for the converter: download an original checkpoint from `hf://owner/name[@rev][/path]`
 * into the shared cache (resumable), and push a converted folder to a repository. Implementation in `./hub/`.
 */
export { DEFAULT_REVISION, formatHubSource, HUB_SCHEME, parseHubSource } from "./hub/source.ts";
export type { HubSource } from "./hub/source.ts";
export { defaultHubUrl, downloadCheckpoint } from "./hub/download.ts";
export type { DownloadOptions, DownloadProgress } from "./hub/download.ts";
export { DEFAULT_COMMIT_MESSAGE, pushToHub } from "./hub/upload.ts";
export type { PushOptions, PushResult, UploadProgress } from "./hub/upload.ts";
export { HubError, scrubSecret } from "./hub/errors.ts";
export type { HubErrorCode } from "./hub/errors.ts";
export { defaultCacheDir } from "./hub/cache.ts";
export { selectCheckpointFiles } from "./hub/select_files.ts";
export { TOKEN_ENV_VAR } from "./hub/token.ts";
