/** Public API of the converter: original XCodec2 checkpoint → transformers `Xcodec2Model` folder, and safetensors I/O. */
export { type ConversionReport, convertCheckpoint, type ConvertOptions, type OutputDTypeName } from "./convert.ts";
export { parseByteSize, parseConvertArgs, runConvertCommand } from "./cli.ts";
export { ConversionError } from "./errors.ts";
export { openTensorSource, resolveSourcePath } from "./source.ts";
export {
  type ArchTensor,
  ConfigError,
  type ConvertedTensor,
  expectedConvertedTensors,
  type ExpectedTensor,
  type ModelFacts,
  modelFacts,
  type OriginalForm,
  type OriginalLayoutOptions,
  type OriginalTensor,
  originalTensors,
  parseXcodec2Config,
  readXcodec2Config,
  sourceLookup,
  walkArchitecture,
  type Xcodec2Config,
} from "./architecture/mod.ts";
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
export { castFloat, f16ToF32, f32BitsToBf16, f32ToF16Bits } from "./dtype_cast.ts";
export * from "./safetensors/mod.ts";
export type { DType, TensorInfo, TensorSource } from "./tensor_source.ts";
