/** Public entry of the parity suite: properties, the suite runner, reports, parity kits and the CLI. */
export type { PropertyResult, PropertyStatus, WorstCase } from "./result.ts";
export { Tally } from "./result.ts";
export * from "./properties.ts";
export { runParity, identifyVariant, ALL_PROPERTIES, DEFAULT_RUNS, type ParityOptions, type PropertyNumber } from "./suite.ts";
export { makeReport, reportJson, formatTable, writeReportJson, type ParityReport } from "./report.ts";
export { renderHtml, writeReportHtml } from "./html.ts";
export { writeParityKit, readKitManifest, kitTensor, KIT_FORMAT, KitError, type KitManifest } from "./kit.ts";
export { compareAgainstKit } from "./against.ts";
export { runParityCommand, parseParityArgs, PARITY_USAGE } from "./cli.ts";
export { openCodec, exportedCopy, type ParityCodec } from "./codec_handle.ts";
export { CI_SIZES, type Sizes, type Sources } from "./arbitraries.ts";
export { loadSources } from "./sources.ts";
export { TOLERANCES } from "./tolerances.ts";
export { tieFrames, minMargin, TIE_MARGIN } from "./fsq_ties.ts";
