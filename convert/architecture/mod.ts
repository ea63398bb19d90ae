/**
 * The architecture: XCodec2's constants, the converted config and the facts it implies, and the one declarative walk
 * of the module tree with the views derived from it.
 */
export * from "./constants.ts";
export {
  codesForClip,
  ConfigError,
  encoderFrames,
  MAX_CODE_POOLING,
  minClipSamples,
  MODEL_TYPES,
  type ModelFacts,
  modelFacts,
  type ModelType,
  paddedClipSamples,
  parseXcodec2Config,
  readXcodec2Config,
  semanticFrames,
  type SemanticModelConfig,
  XCODEC2_FACTS,
  type Xcodec2Config,
} from "./config.ts";
export {
  type ConvertedLayout,
  type FamilyMember,
  type FbankArithmetic,
  type FeatureFlavour,
  isMemberName,
  MEMBER_NAMES,
  memberByNFft,
  type MemberName,
  memberNFft,
  MEMBERS,
} from "./members.ts";
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
