/** xcodec2-kit runtime: the public entry point for apps (`import { Xcodec2 } from "xcodec2-kit"`). */
export { Xcodec2 } from "./codec.ts";
export type {
  DecodeOptions,
  DecodeStreamOptions,
  DeviceRequest,
  EncodeOptions,
  EncodeResult,
  LoadOptions,
  LongAudioOptions,
  Precision,
} from "./types.ts";
export {
  DECODE_GRID,
  ENCODE_GRID,
  SINGLE_PASS_LIMIT,
  STREAM_GRID,
  type WindowGrid,
  type WindowOptions,
  windowsOf,
} from "./windows.ts";
export { UsageError, Xcodec2Error } from "../common/errors.ts";
export { InputError } from "./validate.ts";
export { DeviceError, resolveDevice } from "./devices.ts";
export { SessionError } from "./session.ts";
export { defaultCacheDir } from "./model_source.ts";
export { planBuckets } from "./batching.ts";
export { AudioError, decodeAudioBytes, readAudio, writeWav } from "./audio/mod.ts";
export { batchFeatures, extractFeatures } from "./features/mod.ts";
export { type CodeItem, CodesFileError, encodeNpyInt32, readCodesFile, writeCodesFile } from "./codes_io.ts";
export {
  CODES_PER_SECOND,
  codesForClip,
  codesForSamples,
  DEVICE_CHOICES,
  DEVICES,
  HOP_LENGTH,
  type MemberName,
  MEMBERS,
  minClipSamples,
  type ModelFacts,
  modelFacts,
  PRECISION_PARTS,
  PRECISIONS,
  SAMPLE_RATE,
  XCODEC2_FACTS,
} from "../convert/mod.ts";
