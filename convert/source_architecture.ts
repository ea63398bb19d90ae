/**
 * From an opened checkpoint to what the conversion needs before it plans: which family member it is, its original
 * architecture, the original config as read, and the tensor source (with the semantic encoder from a second source
 * where the checkpoint has none, as NeuCodec's).
 *
 * XCodec2 keeps its own path: a `config.json` beside it (the Hub's three sizes, or a synthetic checkpoint's
 * `reference_architecture` block) or the real model's built-in facts. The other members publish no config that says
 * what they are (25TPS: `model_type: "xcodec"` and three sizes), so they are detected from their tensors
 * (member_architecture.ts) and their config, when there is one, is only checked against the shapes.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type MemberName, MEMBERS } from "./architecture/members.ts";
import { CompositeSource, type SourcePart } from "./composite_source.ts";
import { ConversionError } from "./errors.ts";
import { downloadCheckpoint } from "./lazy.ts";
import { type DetectedMember, detectMember, memberArchitecture } from "./member_architecture.ts";
import { loadOriginalArchitecture, type OriginalArchitecture } from "./original_config.ts";
import {
  missingSemanticEncoder,
  openSemanticEncoder,
  SEMANTIC_PREFIX,
  type SemanticEncoder,
} from "./semantic_source.ts";
import { sourceFiles } from "./source.ts";
import type { TensorSource } from "./tensor_source.ts";

export interface SourceArchitectureOptions {
  /** the original config.json (path or parsed); default: `config.json` beside the checkpoint */
  config?: string | object;
  /** the member, instead of detecting it */
  family?: MemberName;
  /** the semantic encoder's folder or hf:// source, for a checkpoint without one */
  semanticEncoder?: string;
  log?: (msg: string) => void;
}

export interface SourceArchitecture {
  arch: OriginalArchitecture;
  rawConfig: Record<string, unknown>;
  configFrom: string;
  detected: DetectedMember;
  /** the checkpoint, or the checkpoint and the semantic encoder as one source */
  source: TensorSource;
  /** the files `source` reads (hashed for conversion.json) */
  files: string[];
  /** opened here: the caller closes it with the checkpoint */
  semantic?: SemanticEncoder;
}

export async function sourceArchitecture(
  main: TensorSource,
  sourceDir: string | undefined,
  opts: SourceArchitectureOptions,
): Promise<SourceArchitecture> {
  const file = main.path;
  const infos = main.list();
  let configArg = opts.config;
  if (configArg === undefined && sourceDir !== undefined) {
    const beside = join(sourceDir, "config.json");
    if (await stat(beside).then((s) => s.isFile(), () => false)) configArg = beside;
  }
  const raw = await readRawConfig(configArg);
  if (raw && ("semantic_model_config" in raw.json || "quantization_levels" in raw.json)) {
    throw new ConversionError(
      "this is an already-converted (transformers layout) config, not an original one: load the folder as it is",
      { file: raw.from },
    );
  }
  // an XCodec2 config (the Hub's, or a synthetic reference block) keeps XCodec2's path unless --family says otherwise
  const xcodec2Config = raw !== undefined &&
    (raw.json.model_type === "xcodec2" || "reference_architecture" in raw.json);
  let detected: DetectedMember;
  if (xcodec2Config && opts.family === undefined) {
    detected = { member: MEMBERS.xcodec2, forced: false, evidence: [`${raw.from}: model_type "xcodec2"`] };
    const other = safeDetect(infos, file);
    if (other && other.member.name !== "xcodec2") {
      throw new ConversionError(
        `${raw.from} says XCodec2, but the tensors are ${other.member.title}'s (${other.evidence[0]}); ` +
          `move the config away or pass --family ${other.member.name}`,
        { file },
      );
    }
  } else {
    detected = safeDetect(infos, file, opts.family) ?? detectMember(infos, file, opts.family);
  }

  let source = main;
  let semantic: SemanticEncoder | undefined;
  const files = await sourceFiles(main);
  const hasSemantic = infos.some((t) => t.name.startsWith(SEMANTIC_PREFIX) || t.name.startsWith("semantic_encoder."));
  if (hasSemantic && opts.semanticEncoder !== undefined) {
    throw new ConversionError(
      `--semantic-encoder ${opts.semanticEncoder}: the checkpoint already holds its semantic encoder (semantic_model.*)`,
      { file },
    );
  }
  if (!hasSemantic) {
    semantic = await openSemanticEncoder(
      opts.semanticEncoder,
      sourceDir,
      (s) => downloadCheckpoint(s, { onProgress: progress(opts.log) }),
    );
    if (!semantic) throw new ConversionError(missingSemanticEncoder(sourceDir, detected.member.title), { file });
    opts.log?.(`semantic encoder: ${semantic.from}`);
    const parts: SourcePart[] = [{ source: main, prefix: "", files }, semantic.part];
    source = new CompositeSource(file, parts);
    files.push(...semantic.part.files);
    detected.evidence.push(`semantic encoder from ${semantic.from}`);
  }

  let arch: OriginalArchitecture;
  let configFrom: string;
  if (detected.member.name === "xcodec2") {
    const loaded = await loadOriginalArchitecture(configArg);
    arch = semantic ? { ...loaded.arch, semanticModel: semantic.config } : loaded.arch;
    configFrom = loaded.from;
  } else {
    arch = memberArchitecture(detected.member, source.list(), file, semantic?.config);
    configFrom = raw?.from ?? `${detected.member.title}'s facts (members.ts) and the tensor shapes`;
    if (raw) checkMemberConfig(raw.json, raw.from, arch);
  }
  return { arch, rawConfig: raw?.json ?? {}, configFrom, detected, source, files, semantic };
}

function safeDetect(
  infos: Parameters<typeof detectMember>[0],
  file: string,
  family?: MemberName,
): DetectedMember | undefined {
  try {
    return detectMember(infos, file, family);
  } catch {
    return undefined;
  }
}

async function readRawConfig(
  config: string | object | undefined,
): Promise<{ json: Record<string, unknown>; from: string } | undefined> {
  if (config === undefined) return undefined;
  if (typeof config !== "string") return { json: config as Record<string, unknown>, from: "config" };
  let text: string;
  try {
    text = await readFile(config, "utf8");
  } catch (e) {
    throw new ConversionError(`cannot read config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      file: config,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConversionError(`config is not valid JSON (${(e as Error).message})`, { file: config });
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) {
    throw new ConversionError("config is not a JSON object", { file: config });
  }
  return { json: json as Record<string, unknown>, from: config };
}

/**
 * A member's own config (25TPS: BigCodecConfig, `model_type: "xcodec"`, three sizes): its sizes must be the shapes'.
 */
function checkMemberConfig(json: Record<string, unknown>, from: string, arch: OriginalArchitecture): void {
  const sizes: [string, number][] = [
    ["semantic_hidden_size", arch.semanticModel.hidden_size],
    ["codec_encoder_hidden_size", arch.encoderHiddenDim],
    ["codec_decoder_hidden_size", arch.decoderHiddenDim],
  ];
  for (const [k, shape] of sizes) {
    if (json[k] !== undefined && json[k] !== shape) {
      throw new ConversionError(`${k} is ${JSON.stringify(json[k])}, but the tensors have ${shape}`, { file: from });
    }
  }
}

function progress(log: ((m: string) => void) | undefined) {
  let last = 0;
  return ({ file, bytes, total }: { file: string; bytes: number; total?: number }) => {
    if (!log || (Date.now() - last < 1000 && bytes !== total)) return;
    last = Date.now();
    log(`download ${file}: ${(bytes / 1e6).toFixed(0)}${total ? ` / ${(total / 1e6).toFixed(0)}` : ""} MB`);
  };
}
