/** Public API of the converter: original XCodec2 checkpoint → transformers `Xcodec2Model` folder, and safetensors I/O. */
export { type ConversionReport, convertCheckpoint, type ConvertOptions, type OutputDTypeName } from "./convert.ts";
export { parseByteSize, parseConvertArgs, runConvertCommand } from "./cli.ts";
export { ConversionError } from "./errors.ts";
export { openTensorSource, resolveSourcePath } from "./source.ts";
export { ConfigError, parseXcodec2Config, readXcodec2Config, type Xcodec2Config } from "./architecture.ts";
export { buildPreprocessorConfig, buildXcodec2Config, configJsonText } from "./converted_config.ts";
export {
  architectureFromConfig,
  checkArchitecture,
  loadOriginalArchitecture,
  type OriginalArchitecture,
  realModelArchitecture,
  W2V_BERT_2_0_CONFIG,
} from "./original_config.ts";
export { type OriginalLayoutOptions, type OriginalTensor, originalTensors } from "./original_layout.ts";
export { expectedConvertedTensors, type ExpectedTensor } from "./expected_tensors.ts";
export { DROP_RULES, RENAME_RULES, renameKey } from "./rename_table.ts";
export { foldWeightNorm } from "./weight_norm.ts";
export { castFloat, f16ToF32, f32BitsToBf16, f32ToF16Bits } from "./dtype_cast.ts";
export * from "./safetensors/mod.ts";
export type { DType, TensorInfo, TensorSource } from "./tensor_source.ts";
