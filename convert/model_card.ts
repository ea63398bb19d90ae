/** The converted folder's README.md: licence and base model carried from the source, plus what was done. */
import { readFile } from "node:fs/promises";

/** HKUSTAudio/xcodec2 is published under CC BY-NC 4.0. */
export const DEFAULT_LICENSE = "cc-by-nc-4.0";
export const DEFAULT_BASE_MODEL = "HKUSTAudio/xcodec2";

export interface CardFacts {
  license: string;
  baseModel: string;
}

/** Licence / base model from the source README's YAML front matter, else the source config, else the defaults. */
export async function cardFactsFrom(
  sourceReadme: string | undefined,
  sourceConfig: Record<string, unknown>,
): Promise<CardFacts> {
  let license: string | undefined;
  let baseModel: string | undefined;
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
  return { license: license ?? DEFAULT_LICENSE, baseModel: baseModel ?? DEFAULT_BASE_MODEL };
}

export function modelCard(facts: CardFacts, summary: { sourceSha256: string; tensors: number; dtype: string }): string {
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
