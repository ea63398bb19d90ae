/**
 * Tokenising a corpus into a dataset: `encodeDataset` (plan, run on this machine's pool or on NATS JetStream workers,
 * resume) and `runWorker` (a NATS worker), with the readers and writers they are built from.
 */
export { encodeDataset, type EncodeDatasetOptions } from "./encode_dataset.ts";
export { runWorker, type WorkerOptions } from "./nats_worker.ts";
export { readInputs, webDatasetKey } from "./inputs.ts";
export { cutShards, DEFAULT_SHARD_ITEMS, planShards, type ShardSize } from "./plan.ts";
export { type CodesProvenance, encodeShardParquet, HF_FEATURES, type Row } from "./parquet.ts";
export { indexTar, readTarMember, type TarMember } from "./tar.ts";
export { type JobOptions, type JobSpec, type OutputFormat, readJob, shardFile, STATE_DIR } from "./job.ts";
export type { AudioLocation, InputItem, ItemError } from "./item.ts";
export { UsageError, Xcodec2Error } from "../common/errors.ts";
export { DatasetError, ManifestError } from "./errors.ts";
export { ProbeError, probeSeconds } from "./probe.ts";
