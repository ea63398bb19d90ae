/**
 * The architecture: XCodec2's constants, the converted config and the facts it implies, and the one declarative walk
 * of the module tree with the views derived from it.
 */
export * from "./constants.ts";
export {
  ConfigError,
  type ModelFacts,
  modelFacts,
  parseXcodec2Config,
  readXcodec2Config,
  type SemanticModelConfig,
  type Xcodec2Config,
} from "./config.ts";
export type {
  ArchTensor,
  ComputeOp,
  ConvertedTensor,
  OriginalForm,
  Presence,
  TensorRole,
  Transform,
  Walk,
  WeightNormStyle,
} from "./tree.ts";
export { walkArchitecture } from "./walk.ts";
export {
  expectedConvertedTensors,
  type ExpectedTensor,
  type OriginalLayoutOptions,
  type OriginalTensor,
  originalTensors,
  sourceLookup,
} from "./views.ts";
