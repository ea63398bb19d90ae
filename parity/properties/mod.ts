/** The six parity properties (see each file for its exact statement). */
export { BATCH_ENCODE, batchEncodeProperty, compareEncoded } from "./batch_encode.ts";
export type { BatchPropertyOptions } from "./batch_loop.ts";
export { BATCH_DECODE, batchDecodeProperty } from "./batch_decode.ts";
export { SUITE_CAN_FAIL, suiteCanFailProperty } from "./suite_can_fail.ts";
export {
  compareCheckpoints,
  CONVERSION,
  type ConversionCase,
  conversionProperty,
  referenceConversionCases,
  ulpDistance,
} from "./conversion.ts";
export {
  RUNTIME_ORIGINAL,
  RUNTIME_UPSTREAM,
  runtimeOriginalProperty,
  runtimeUpstreamProperty,
} from "./runtime_upstream.ts";
export { DEVICE, deviceProperty } from "./device.ts";
