/** Feature extraction: waveform padding and Kaldi fbank features, equal to upstream `Xcodec2FeatureExtractor`. */
export { batchFeatures, extractFeatures, validateClip, XCODEC2_FBANK_OPTIONS, XCODEC2_FEATURES } from "./extractor.ts";
export type { BatchFeatures, ClipFeatures, FeatureKind } from "./extractor.ts";
export { SeamlessFbank } from "./seamless_fbank.ts";
export { FeatureInputError } from "./errors.ts";
export type { FeatureInputProblem } from "./errors.ts";
export { KaldiFbank, kaldiFrameCount } from "./kaldi_fbank.ts";
export type { KaldiFbankOptions } from "./kaldi_fbank.ts";
