/**
 * The second source of a checkpoint without a semantic encoder: NeuCodec's `pytorch_model.bin` has no
 * `semantic_model.*`, because its original loads facebook/w2v-bert-2.0 at construction (neucodec model.py:29-31). The
 * weights come from, in this order:
 *   1. `--semantic-encoder <folder | hf://facebook/w2v-bert-2.0[@rev]>` when given (what the user names wins);
 *   2. a `w2v-bert-2.0/` folder beside the checkpoint (the Hub repository's layout: config.json + model.safetensors);
 * and otherwise the conversion stops with an error that says exactly that.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { SemanticModelConfig } from "./architecture/config.ts";
import { ConversionError } from "./errors.ts";
import { HUB_SCHEME } from "./hub/source.ts";
import { byteRangeFiles, openTensorSource, resolveSourcePath } from "./source.ts";
import type { SourcePart } from "./composite_source.ts";

/** The folder name looked for beside the checkpoint (the Hub repository's name). */
export const W2V_BERT_FOLDER = "w2v-bert-2.0";
export const W2V_BERT_REPO = "hf://facebook/w2v-bert-2.0";
/** The prefix the other members store the semantic encoder under. */
export const SEMANTIC_PREFIX = "semantic_model.";

export interface SemanticEncoder {
  /** as the user named it, or the folder found beside the checkpoint */
  from: string;
  /** the local folder */
  dir: string;
  config: SemanticModelConfig;
  part: SourcePart;
}

const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);

/** What to say when no source is found. */
export function missingSemanticEncoder(checkpointDir: string | undefined, title: string): string {
  const beside = checkpointDir === undefined ? W2V_BERT_FOLDER : join(checkpointDir, W2V_BERT_FOLDER);
  return `the checkpoint holds no semantic encoder (semantic_model.*): ${title}'s original loads ` +
    `facebook/w2v-bert-2.0. Put that repository's config.json and model.safetensors in ${beside}/, or pass ` +
    `--semantic-encoder <folder | ${W2V_BERT_REPO}[@revision]>`;
}

/**
 * Opens the semantic encoder named by `arg` (a folder or hf://…) or found beside the checkpoint; undefined when
 * neither exists. `download` fetches an hf:// source into the Hub cache (the converter's `downloadCheckpoint`).
 */
export async function openSemanticEncoder(
  arg: string | undefined,
  checkpointDir: string | undefined,
  download: (source: string) => Promise<string>,
): Promise<SemanticEncoder | undefined> {
  let from: string, dir: string;
  if (arg !== undefined) {
    from = arg;
    dir = arg.startsWith(HUB_SCHEME) ? await download(arg) : arg;
    if (!(await isDir(dir))) {
      throw new ConversionError("--semantic-encoder: not a folder (expected config.json + model.safetensors)", {
        file: arg,
      });
    }
  } else {
    if (checkpointDir === undefined) return undefined;
    dir = join(checkpointDir, W2V_BERT_FOLDER);
    if (!(await isDir(dir))) return undefined;
    from = dir;
  }
  const config = await readW2vBertConfig(join(dir, "config.json"));
  const resolved = await resolveSourcePath(dir);
  if (!resolved.file.endsWith(".safetensors") && !resolved.file.endsWith(".json")) {
    throw new ConversionError("the semantic encoder folder holds no model.safetensors", { file: dir });
  }
  const source = await openTensorSource(resolved.file);
  const files = byteRangeFiles(source)?.map((f) => f.path) ?? [resolved.file];
  if (source.list().some((t) => t.name.startsWith(SEMANTIC_PREFIX))) {
    await source.close();
    throw new ConversionError(
      `tensors are already named ${SEMANTIC_PREFIX}*: expected a Wav2Vec2BertModel checkpoint (facebook/w2v-bert-2.0)`,
      { file: resolved.file },
    );
  }
  return { from, dir, config, part: { source, prefix: SEMANTIC_PREFIX, files } };
}

async function readW2vBertConfig(file: string): Promise<SemanticModelConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : (e as Error).message;
    throw new ConversionError(`the semantic encoder's config.json: ${why}`, { file });
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new ConversionError("not a JSON object", { file });
  const o = raw as Record<string, unknown>;
  if (o.model_type !== "wav2vec2-bert") {
    throw new ConversionError(
      `model_type is ${JSON.stringify(o.model_type)}, expected "wav2vec2-bert" (facebook/w2v-bert-2.0)`,
      { file },
    );
  }
  return o as SemanticModelConfig;
}
