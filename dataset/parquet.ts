/**
 * One shard as a Parquet file, in the column layout of published codec-token datasets (NeuCodec's Emilia-YODAS
 * tokens: `__key__`, `text`, `codes`), through hyparquet-writer: pure JavaScript (the same bytes under Node, Bun and
 * Deno), no native build, and nothing in its output that varies between runs (no timestamps; `created_by` is ours).
 * One row group per shard (a shard is a few MB of codes), Snappy pages, the standard three-level LIST for `codes`.
 * The key-value metadata carries what made the codes (`xcodec2`) and the features as Hugging Face `datasets` reads
 * them (`huggingface`), so `load_dataset` types `codes` as a sequence of int32 without guessing.
 */
import { ByteWriter, parquetWrite } from "hyparquet-writer";

export interface Row {
  key: string;
  codes: Int32Array;
  /** decoded length (16 kHz samples / 16,000) */
  seconds: number;
  text: string | null;
  source: string;
  audioSha256: string;
}

/** Stored under the `xcodec2` metadata key of every shard (and in the dataset card). */
export interface CodesProvenance {
  codec: "xcodec2";
  model_sha256: string;
  model_sha256_of: string;
  sample_rate: number;
  frame_rate: number;
  codebook_size: number;
  resampled: boolean;
  toolkit: string;
}

/** Features in the form `datasets` writes into Parquet metadata (and reads back). */
export const HF_FEATURES = {
  __key__: { dtype: "string", _type: "Value" },
  codes: { feature: { dtype: "int32", _type: "Value" }, _type: "Sequence" },
  n_codes: { dtype: "int32", _type: "Value" },
  duration_s: { dtype: "float32", _type: "Value" },
  text: { dtype: "string", _type: "Value" },
  source: { dtype: "string", _type: "Value" },
  audio_sha256: { dtype: "string", _type: "Value" },
} as const;

const SCHEMA = [
  { name: "schema", num_children: 7 },
  { name: "__key__", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
  { name: "codes", repetition_type: "REQUIRED", converted_type: "LIST", num_children: 1 },
  { name: "list", repetition_type: "REPEATED", num_children: 1 },
  { name: "element", type: "INT32", repetition_type: "REQUIRED" },
  { name: "n_codes", type: "INT32", repetition_type: "REQUIRED" },
  { name: "duration_s", type: "FLOAT", repetition_type: "REQUIRED" },
  { name: "text", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
  { name: "source", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
  { name: "audio_sha256", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
] as const;

export function encodeShardParquet(rows: Row[], provenance: CodesProvenance): Uint8Array {
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    columnData: [
      { name: "__key__", data: rows.map((r) => r.key) },
      { name: "codes", data: rows.map((r) => Array.from(r.codes)) },
      { name: "n_codes", data: Int32Array.from(rows, (r) => r.codes.length) },
      { name: "duration_s", data: Float32Array.from(rows, (r) => r.seconds) },
      { name: "text", data: rows.map((r) => r.text) },
      { name: "source", data: rows.map((r) => r.source) },
      { name: "audio_sha256", data: rows.map((r) => r.audioSha256) },
    ],
    // hyparquet-writer's types list the schema elements as mutable objects
    schema: SCHEMA.map((e) => ({ ...e })) as Parameters<typeof parquetWrite>[0]["schema"],
    rowGroupSize: Math.max(1, rows.length),
    kvMetadata: [
      { key: "xcodec2", value: JSON.stringify(provenance) },
      { key: "huggingface", value: JSON.stringify({ info: { features: HF_FEATURES } }) },
    ],
    createdBy: provenance.toolkit,
  });
  const bytes = new Uint8Array(writer.getBuffer());
  return rows.length ? bytes : fixEmptyRowGroups(bytes);
}

/**
 * A shard whose every item failed has no row groups. hyparquet-writer 0.17 writes that empty `row_groups` list with
 * the Thrift element type 0 (no type) instead of STRUCT; readers built on arrow-rs (parquet-wasm, Polars) then refuse
 * the whole footer ("Expected list element type of Struct but got Byte"). In the footer of a file without rows the
 * field sequence `num_rows = 0` (field header 0x16, varint 0x00), `row_groups = []` (field header 0x19, list header
 * 0x00) occurs exactly once; its list header becomes 0x0C (size 0, STRUCT). Anything else is left alone and reported.
 */
function fixEmptyRowGroups(file: Uint8Array): Uint8Array {
  const footerLength = new DataView(file.buffer, file.byteOffset).getUint32(file.length - 8, true);
  const start = file.length - 8 - footerLength;
  const hits: number[] = [];
  for (let i = start; i + 4 <= file.length - 8; i++) {
    if (file[i] === 0x16 && file[i + 1] === 0x00 && file[i + 2] === 0x19 && (file[i + 3] & 0xf0) === 0) {
      if (file[i + 3] !== 0x0c) hits.push(i + 3);
    }
  }
  if (hits.length !== 1) {
    throw new Error(`empty Parquet shard: expected one empty row-group list, found ${hits.length}`);
  }
  file[hits[0]] = 0x0c;
  return file;
}
