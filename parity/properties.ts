/** The six parity properties (see each file for its exact statement). */
export {
  BATCH_ENCODE,
  batchEncodeProperty,
  type BatchPropertyOptions,
  compareEncoded,
} from "./properties/batch_encode.ts";
export { BATCH_DECODE, batchDecodeProperty } from "./properties/batch_decode.ts";
export { SUITE_CAN_FAIL, suiteCanFailProperty } from "./properties/suite_can_fail.ts";
export {
  compareCheckpoints,
  CONVERSION,
  type ConversionCase,
  conversionProperty,
  referenceConversionCases,
  ulpDistance,
} from "./properties/conversion.ts";
export { RUNTIME_UPSTREAM, runtimeUpstreamProperty } from "./properties/runtime_upstream.ts";
export { DEVICE, deviceProperty } from "./properties/device.ts";
