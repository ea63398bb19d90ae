/** xcodec2-kit runtime: the public entry point for apps (`import { Xcodec2 } from "xcodec2-kit"`). */
export { Xcodec2 } from "./codec.ts";
export type { DeviceRequest, Precision, LoadOptions, EncodeOptions, EncodeResult } from "./types.ts";
export { InputError } from "./validate.ts";
export { readAudio, writeWav } from "./audio/mod.ts";
export { extractFeatures, batchFeatures } from "./features/mod.ts";
export { readCodesFile, writeCodesFile, CodesFileError, type CodeItem } from "./codes_io.ts";
export { HOP_LENGTH, SAMPLE_RATE, CODES_PER_SECOND, codesForSamples } from "../convert/architecture.ts";
