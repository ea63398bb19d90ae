/**
 * XCodec2's constants and the converted config, under the path the runtime and parity import them from. The
 * architecture lives in `architecture/` (constants, config and its facts, the module-tree walk and its views); this
 * face re-exports only the light part, so importing it does not load the walk.
 */
export * from "./architecture/constants.ts";
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
} from "./architecture/config.ts";
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
} from "./architecture/members.ts";
