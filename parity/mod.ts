/** Public entry of the parity suite: properties, the suite runner, reports and parity kits (the CLI is `cli.ts`). */
export type { PropertyResult, PropertyStatus, WorstCase } from "./result.ts";
export { Tally } from "./result.ts";
export * from "./properties/mod.ts";
export {
  ALL_PROPERTIES,
  DEFAULT_RUNS,
  identifyVariant,
  type ParityOptions,
  type PropertyNumber,
  runParity,
} from "./suite.ts";
export { formatTable, makeReport, type ParityReport, reportJson, writeReportJson } from "./report.ts";
export { renderHtml, writeReportHtml } from "./html.ts";
export { KIT_FORMAT, KitError, type KitManifest, kitTensor, readKitManifest, writeParityKit } from "./kit.ts";
export { compareAgainstKit } from "./against.ts";
export { exportedCopy, openCodec, type ParityCodec } from "./codec_handle.ts";
export { CI_SIZES, type Sizes, type Sources } from "./arbitraries.ts";
export { loadSources } from "./sources.ts";
export { TOLERANCES } from "./tolerances.ts";
export { minMargin, TIE_MARGIN, tieFrames } from "./fsq_ties.ts";
