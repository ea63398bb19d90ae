/** xcodec2-kit runtime: the public entry point for apps (`import { Xcodec2 } from "xcodec2-kit"`). */
export { Xcodec2 } from "./codec.ts";
export type { DeviceRequest, Precision, LoadOptions, EncodeOptions, EncodeResult } from "./types.ts";
export { InputError } from "./validate.ts";
export { DeviceError, resolveDevice, DEVICE_CHOICES } from "./devices.ts";
export { SessionError } from "./session.ts";
export { defaultCacheDir } from "./model_source.ts";
export { planBuckets } from "./batching.ts";
export { readAudio, writeWav, AudioError } from "./audio/mod.ts";
export { extractFeatures, batchFeatures } from "./features/mod.ts";
export { readCodesFile, writeCodesFile, CodesFileError, type CodeItem } from "./codes_io.ts";
export { HOP_LENGTH, SAMPLE_RATE, CODES_PER_SECOND, codesForSamples } from "../convert/architecture.ts";
