/**
 * The files written beside the converted weights: config.json and preprocessor_config.json (as upstream's converter
 * writes them), README.md (licence and base model carried from the source) and conversion.json (the source's digests
 * and every source tensor's fate).
 */
import { writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Xcodec2Config } from "./architecture/config.ts";
import { buildPreprocessorConfig, configJsonText } from "./converted_config.ts";
import { combinedSha256, type FileDigest } from "./file_hash.ts";
import { cardFactsFrom, modelCard } from "./model_card.ts";
import type { OriginalArchitecture } from "./original_config.ts";
import type { Plan } from "./plan.ts";

export const SIDE_FILES = ["config.json", "preprocessor_config.json", "README.md", "conversion.json"] as const;

export interface WeightNormReport {
  folded: number;
  stale: { module: string; maxRelDiff: number }[];
}

export interface SideFileFacts {
  cfg: Xcodec2Config;
  arch: OriginalArchitecture;
  /** the source config as read, and where it came from */
  rawConfig: Record<string, unknown>;
  configFrom: string;
  /** the checkpoint path and the folder holding it (README.md looked for there), if a folder */
  sourcePath: string;
  sourceDir: string | undefined;
  digests: FileDigest[];
  plan: Plan;
  /** the weight files written */
  weightFiles: string[];
  weightNorm: WeightNormReport;
  warnings: string[];
}

/** Writes the side files into `dir`. */
export async function writeSideFiles(dir: string, f: SideFileFacts): Promise<void> {
  await writeFile(join(dir, "config.json"), configJsonText(f.cfg));
  await writeFile(join(dir, "preprocessor_config.json"), configJsonText(buildPreprocessorConfig(f.arch)));
  const facts = await cardFactsFrom(f.sourceDir ? join(f.sourceDir, "README.md") : undefined, f.rawConfig);
  const card = {
    sourceSha256: combinedSha256(f.digests),
    tensors: f.plan.outputs.length,
    dtype: f.cfg.dtype as string,
  };
  await writeFile(join(dir, "README.md"), modelCard(facts, card));
  const sidecar = {
    tool: "xcodec2-kit convert",
    source: {
      path: f.sourcePath,
      files: f.digests.map((d) => ({ file: basename(d.file), bytes: d.bytes, sha256: d.sha256 })),
      config: f.configFrom,
    },
    output: { dtype: f.cfg.dtype, tensors: f.plan.outputs.length, files: f.weightFiles.map((w) => basename(w)) },
    license: facts.license,
    base_model: facts.baseModel,
    weight_norm: f.weightNorm,
    warnings: f.warnings,
    tensors: f.plan.records,
  };
  await writeFile(join(dir, "conversion.json"), JSON.stringify(sidecar, null, 1) + "\n");
}
