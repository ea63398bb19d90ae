/**
 * The converted folder's README.md: licence and base model carried from the source (its README's front matter, its
 * config, NeuCodec's `meta.yaml`), else the member's (members.ts), plus what was done.
 */
import { readFile } from "node:fs/promises";
import { type FamilyMember, MEMBERS } from "./architecture/members.ts";

/** HKUSTAudio/xcodec2 is published under CC BY-NC 4.0. */
export const DEFAULT_LICENSE = MEMBERS.xcodec2.license;
export const DEFAULT_BASE_MODEL = MEMBERS.xcodec2.hub[0]!;

export interface CardFacts {
  license: string;
  baseModel: string;
}

/** Licence / base model from the source README's YAML front matter, else the source config, else the defaults. */
export async function cardFactsFrom(
  sourceReadme: string | undefined,
  sourceConfig: Record<string, unknown>,
  member: FamilyMember = MEMBERS.xcodec2,
  metaYaml?: string,
): Promise<CardFacts> {
  let license: string | undefined;
  let baseModel: string | undefined;
  if (metaYaml) {
    // NeuCodec's meta.yaml: `author: neuphonic` / `license: apache-2.0`
    const text = await readFile(metaYaml, "utf8").catch(() => "");
    license = /^license:\s*["']?([^"'\n]+?)["']?\s*$/m.exec(text)?.[1];
  }
  if (sourceReadme) {
    const text = await readFile(sourceReadme, "utf8").catch(() => "");
    const fm = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text)?.[1];
    if (fm) {
      license = /^license:\s*["']?([^"'\n]+?)["']?\s*$/m.exec(fm)?.[1];
      baseModel = /^base_model:\s*["']?([^"'\n]+?)["']?\s*$/m.exec(fm)?.[1];
    }
  }
  if (!license && typeof sourceConfig.license === "string") license = sourceConfig.license;
  if (!baseModel && typeof sourceConfig._name_or_path === "string" && sourceConfig._name_or_path.includes("/")) {
    baseModel = sourceConfig._name_or_path;
  }
  return { license: license ?? member.license, baseModel: baseModel ?? member.hub[0]! };
}

export function modelCard(
  facts: CardFacts,
  summary: { sourceSha256: string; tensors: number; dtype: string },
  member: FamilyMember = MEMBERS.xcodec2,
): string {
  if (member.name !== "xcodec2") return memberCard(facts, summary, member);
  return `---
license: ${facts.license}
base_model: ${facts.baseModel}
library_name: transformers
pipeline_tag: audio-to-audio
tags:
- audio
- speech
- codec
- xcodec2
---

# XCodec2 (transformers layout)

[${facts.baseModel}](https://huggingface.co/${facts.baseModel}) converted to the layout of transformers'
\`Xcodec2Model\` / \`Xcodec2FeatureExtractor\` by xcodec2-kit. 16 kHz speech ↔ one stream of FSQ codes, 50 per second.

\`\`\`python
from transformers import Xcodec2FeatureExtractor, Xcodec2Model
model = Xcodec2Model.from_pretrained("path/to/this/folder")
feature_extractor = Xcodec2FeatureExtractor.from_pretrained("path/to/this/folder")
\`\`\`

Conversion: weight norm folded (w = g·v/‖v‖), fused attention split into q/k/v with the RoPE row permutation,
semantic layers past the used hidden state dropped, recomputed buffers and training-only modules dropped.
${summary.tensors} tensors, ${summary.dtype}. Source sha256 \`${summary.sourceSha256}\`; every source tensor's fate is listed
in \`conversion.json\`.

Licence: ${facts.license}, as the base model.
`;
}

/** The card of another member: its rates and code rate, the layout it was written in, and what the conversion did. */
function memberCard(
  facts: CardFacts,
  summary: { sourceSha256: string; tensors: number; dtype: string },
  m: FamilyMember,
): string {
  const codesPerSecond = m.inputSampleRate / 320 / m.codePooling;
  const rates = `${m.inputSampleRate / 1000} kHz speech in, ${m.outputSampleRate / 1000} kHz out, one stream of FSQ ` +
    `codes, ${codesPerSecond} per second (${m.decoderHop} output samples per code)`;
  const load = m.layout === "neucodec"
    ? `\`\`\`python
from transformers import NeuCodecFeatureExtractor, NeuCodecModel
model = NeuCodecModel.from_pretrained("path/to/this/folder")
feature_extractor = NeuCodecFeatureExtractor.from_pretrained("path/to/this/folder")
\`\`\``
    : `transformers has no class for pooled codes: \`config.json\` is xcodec2-kit's documented extension of
\`Xcodec2Config\` (\`model_type: "xcodec2_pooled"\`, \`input_sampling_rate\`, \`output_sampling_rate\`, \`code_pooling\`: encoder
frames averaged into one code after \`fc_encoder\`), with transformers' tensor names. xcodec2-kit runs it.`;
  const plain = m.decoderWeightNormBesidePlain
    ? `\nThe decoder convolutions are written from the plain \`weight\` the original runs; the unused
\`weight_g\`/\`weight_v\` stored beside them were compared with it (see \`conversion.json\`, \`weight_norm.beside_plain\`).
transformers' converter folds g/v instead.`
    : "";
  return `---
license: ${facts.license}
base_model: ${facts.baseModel}
${m.layout === "neucodec" ? "library_name: transformers\n" : ""}pipeline_tag: audio-to-audio
tags:
- audio
- speech
- codec
- xcodec2
- ${m.name}
---

# ${m.title} (${m.layout === "neucodec" ? "transformers NeuCodecModel layout" : "xcodec2-kit layout"})

[${facts.baseModel}](https://huggingface.co/${facts.baseModel}) converted by xcodec2-kit. ${rates}.

${load}

Conversion: weight norm folded (w = g·v/‖v‖), fused attention split into q/k/v with the RoPE row permutation,
semantic layers past the used hidden state dropped, recomputed buffers and training-only modules dropped.${plain}
${summary.tensors} tensors, ${summary.dtype}. Source sha256 \`${summary.sourceSha256}\`; every source tensor's fate is listed
in \`conversion.json\`.

Licence: ${facts.license}, as the base model.
`;
}
