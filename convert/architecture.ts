/**
 * XCodec2's constants and the converted config, under the path the runtime and parity import them from. The
 * architecture lives in `architecture/` (constants, config and its facts, the module-tree walk and its views); this
 * face re-exports only the light part, so importing it does not load the walk.
 */
export * from "./architecture/constants.ts";
export {
  ConfigError,
  type ModelFacts,
  modelFacts,
  parseXcodec2Config,
  readXcodec2Config,
  type SemanticModelConfig,
  type Xcodec2Config,
} from "./architecture/config.ts";
