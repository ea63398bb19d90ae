/**
 * The converter's entry points whose implementation loads a heavy dependency, as thin wrappers that import it on
 * first call: `exportOnnx` (the graph builder and protobufjs) and the Hub client (@huggingface/hub). The public face
 * re-exports these, so `import { Xcodec2 } from "xcodec2-kit"` loads neither until a model needs exporting or
 * downloading (`convert/face.test.ts` checks the module graph).
 */
import type { ExportOptions, ExportReport } from "./onnx/export.ts";
import type { DownloadOptions, PushOptions, PushResult } from "./hub/mod.ts";

/** Build the ONNX graphs of a converted folder (see `onnx/export.ts`). */
export async function exportOnnx(convertedDir: string, opts?: ExportOptions): Promise<ExportReport> {
  return (await import("./onnx/export.ts")).exportOnnx(convertedDir, opts);
}

/** Download `hf://owner/name[@rev][/path]` into the Hub cache; resolves to the local path (see `hub/download.ts`). */
export async function downloadCheckpoint(source: string, opts?: DownloadOptions): Promise<string> {
  return (await import("./hub/mod.ts")).downloadCheckpoint(source, opts);
}

/** Upload a converted folder to a Hub repository (see `hub/upload.ts`). */
export async function pushToHub(folder: string, repo: string, opts?: PushOptions): Promise<PushResult> {
  return (await import("./hub/mod.ts")).pushToHub(folder, repo, opts);
}
