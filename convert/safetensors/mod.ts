/** Our strict, streaming safetensors reader and writer (single files and sharded checkpoints). */
export { SafetensorsError } from "./errors.ts";
export { MAX_HEADER_BYTES, buildHeader, parseHeader, isDType, type HeaderEntry, type ParsedHeader } from "./header.ts";
export { SafetensorsFile, openSafetensors, type FileDigest } from "./reader.ts";
export { SafetensorsWriter, writeSafetensors, byteLengthOf, type TensorSpec, type WriterOptions } from "./writer.ts";
export {
  CheckpointWriter,
  INDEX_NAME,
  ShardedSafetensors,
  openShardedSafetensors,
  planShards,
  shardFileName,
} from "./sharded.ts";
