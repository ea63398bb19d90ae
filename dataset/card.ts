/**
 * The dataset card (`README.md`) the Hugging Face Hub shows and `datasets` reads: a YAML header with the config that
 * points at the shards and the features, then what made the codes and how to use them. Deterministic like the shards:
 * counts, the model's sha256 and the toolkit version, never a date or a machine name.
 */
import type { JobSpec } from "./job.ts";
import type { CodesProvenance } from "./parquet.ts";

export interface CardFacts {
  job: JobSpec;
  provenance: CodesProvenance;
  rows: number;
  seconds: number;
  skipped: number;
}

/** How the card names the model when the job's is a local path (which means nothing on the Hub). */
const MODEL_PLACEHOLDER = "<model>";

export function datasetCard(f: CardFacts): string {
  const p = f.provenance;
  // a Hub model is named as is; a local folder's path is this machine's, not the reader's
  const model = f.job.model.startsWith("hf://") ? f.job.model : MODEL_PLACEHOLDER;
  const whichModel = model === MODEL_PLACEHOLDER
    ? ` (${MODEL_PLACEHOLDER}: the XCodec2 model the codes were made with, whose sha256 is above)`
    : "";
  const yaml = [
    "---",
    "configs:",
    "- config_name: default",
    "  data_files:",
    "  - split: train",
    "    path: data/train-*",
    "dataset_info:",
    "  features:",
    "  - name: __key__",
    "    dtype: string",
    "  - name: codes",
    "    sequence: int32",
    "  - name: n_codes",
    "    dtype: int32",
    "  - name: duration_s",
    "    dtype: float32",
    "  - name: text",
    "    dtype: string",
    "  - name: source",
    "    dtype: string",
    "  - name: audio_sha256",
    "    dtype: string",
    "  splits:",
    "  - name: train",
    `    num_examples: ${f.rows}`,
    "tags:",
    "- xcodec2",
    "- speech-tokens",
    "- audio",
    "---",
  ];
  const body = `
# XCodec2 speech tokens

${f.rows} utterances, ${(f.seconds / 3600).toFixed(2)} hours of audio, tokenized with the XCodec2 codec into one stream
of FSQ codes (${p.codebook_size} codes, ${p.frame_rate} per second of ${p.sample_rate / 1000} kHz audio), in
${f.job.shards.length} Parquet shards.

| | |
| --- | --- |
| codec | XCodec2 |
| model sha256 (${p.model_sha256_of}) | \`${p.model_sha256}\` |
| sample rate, frame rate | ${p.sample_rate} Hz, ${p.frame_rate} codes/s |
| audio resampled to ${p.sample_rate} Hz | ${p.resampled ? "yes" : "no (inputs were already at that rate)"} |
| tool | ${p.toolkit} (\`xcodec2 encode-dataset\`) |
| items left out (unreadable, corrupt, empty or too long) | ${f.skipped} (listed in \`errors.jsonl\`) |

Columns: \`__key__\` (the item's key in the source corpus), \`codes\` (int32 codes, ${p.frame_rate} per second),
\`n_codes\`, \`duration_s\` (decoded audio length), \`text\` (the transcript when the source had one), \`source\`
(where the audio was read from) and \`audio_sha256\` (of the source file's bytes). Every shard's Parquet metadata
repeats the codec facts under the \`xcodec2\` key.

\`\`\`python
from datasets import load_dataset
ds = load_dataset("parquet", data_files="data/train-*.parquet", split="train")
\`\`\`

Listen to a shard with xcodec2-kit's command line: one WAV per row, named after \`__key__\` and cut to
\`duration_s\`${whichModel}.

\`\`\`sh
npx xcodec2 decode ${model} data/${f.job.shards[0].name}.parquet --out wavs/
\`\`\`

In TypeScript, \`(await Xcodec2.load(model)).decode([Int32Array.from(row.codes)])\` (\`import { Xcodec2 } from
"xcodec2-kit"\`) gives the 16 kHz samples.
`;
  return yaml.join("\n") + "\n" + body;
}
