/** Our strict, streaming safetensors reader and writer (single files and sharded checkpoints). */
export { SafetensorsError } from "./errors.ts";
export { buildHeader, type HeaderEntry, isDType, MAX_HEADER_BYTES, type ParsedHeader, parseHeader } from "./header.ts";
export { type FileDigest, openSafetensors, SafetensorsFile } from "./reader.ts";
export { byteLengthOf, SafetensorsWriter, type TensorSpec, type WriterOptions, writeSafetensors } from "./writer.ts";
export {
  CheckpointWriter,
  INDEX_NAME,
  openShardedSafetensors,
  planShards,
  ShardedSafetensors,
  shardFileName,
} from "./sharded.ts";
