/** Public API of the converter: original XCodec2 checkpoint → transformers `Xcodec2Model` folder, and safetensors I/O. */
export { convertCheckpoint, type ConversionReport, type ConvertOptions, type OutputDTypeName } from "./convert.ts";
export { runConvertCommand, parseConvertArgs, parseByteSize } from "./cli.ts";
export { ConversionError } from "./errors.ts";
export { openTensorSource, resolveSourcePath } from "./source.ts";
export { readXcodec2Config, parseXcodec2Config, ConfigError, type Xcodec2Config } from "./architecture.ts";
export { buildXcodec2Config, buildPreprocessorConfig, configJsonText } from "./converted_config.ts";
export {
  architectureFromConfig,
  checkArchitecture,
  loadOriginalArchitecture,
  realModelArchitecture,
  W2V_BERT_2_0_CONFIG,
  type OriginalArchitecture,
} from "./original_config.ts";
export { originalTensors, type OriginalTensor, type OriginalLayoutOptions } from "./original_layout.ts";
export { expectedConvertedTensors, type ExpectedTensor } from "./expected_tensors.ts";
export { RENAME_RULES, DROP_RULES, renameKey } from "./rename_table.ts";
export { foldWeightNorm } from "./weight_norm.ts";
export { castFloat, f32ToF16Bits, f32BitsToBf16, f16ToF32 } from "./dtype_cast.ts";
export * from "./safetensors/mod.ts";
export type { DType, TensorInfo, TensorSource } from "./tensor_source.ts";
