/**
 * Public face of the converter: original XCodec2 checkpoint → transformers `Xcodec2Model` folder, ONNX export, Hub
 * transfer, safetensors I/O, and the constants and file contract the runtime shares. `runtime/` and `parity/` import
 * `convert/` only through this file. Everything here is light: the graph builder (protobufjs) and the Hub client
 * (@huggingface/hub) load on first call of `exportOnnx` / `downloadCheckpoint` / `pushToHub` (`lazy.ts`).
 */
export { type ConversionReport, convertCheckpoint, type ConvertOptions, type OutputDTypeName } from "./convert.ts";
export { ConversionError } from "./errors.ts";
export { UsageError, Xcodec2Error } from "../common/errors.ts";
export { openTensorSource, resolveSourcePath } from "./source.ts";
export { W2V_BERT_FOLDER, W2V_BERT_REPO } from "./semantic_source.ts";
export { combinedSha256, type FileDigest } from "./file_hash.ts";
export * from "./architecture/mod.ts";
export { buildPreprocessorConfig, buildXcodec2Config, configJsonText } from "./converted_config.ts";
export {
  architectureFromConfig,
  checkArchitecture,
  loadOriginalArchitecture,
  type OriginalArchitecture,
  realModelArchitecture,
  W2V_BERT_2_0_CONFIG,
} from "./original_config.ts";
export { foldWeightNorm } from "./weight_norm.ts";
export {
  castFloat,
  f16ToF32,
  f32BitsToBf16,
  f32ToF16Bits,
  type FloatDType,
  fromFloat32,
  isFloatDType,
  toFloat32,
} from "./dtype_cast.ts";
export * from "./safetensors/mod.ts";
export * from "./pickle/mod.ts";
export type { DType, TensorInfo, TensorSource } from "./tensor_source.ts";
export * from "./onnx/contract.ts";
export { type FsqTables, fsqTables } from "./onnx/fsq_tables.ts";
export type { ExportedGraph, ExportOptions, ExportReport } from "./onnx/export.ts";
export { downloadCheckpoint, exportOnnx, pushToHub } from "./lazy.ts";
export type { DownloadOptions, DownloadProgress, PushOptions, PushResult, UploadProgress } from "./hub/mod.ts";
export { DEFAULT_REVISION, formatHubSource, HUB_SCHEME, type HubSource, parseHubSource } from "./hub/source.ts";
export { HubError, type HubErrorCode } from "./hub/errors.ts";
