/**
 * Which model made the codes: written into every shard's metadata and the dataset card, and carried by every NATS job
 * so that a worker holding another model refuses the shard instead of mixing codes of two models in one dataset.
 * A folder made by `xcodec2 convert` records its source checkpoint's digests in `conversion.json`; its identity is
 * the converter's own "source sha256" (`combinedSha256`, the figure its model card shows). A folder converted some
 * other way is identified by the sha256 of its own weights and config.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileDigest } from "../common/checksums.ts";
import { combinedSha256, type FileDigest } from "../convert/mod.ts";

export interface ModelIdentity {
  sha256: string;
  of: "source checkpoint" | "converted weights";
}

const isDigest = (f: unknown): f is FileDigest =>
  typeof (f as FileDigest)?.sha256 === "string" && /^[0-9a-f]{64}$/.test((f as FileDigest).sha256);

export async function modelIdentity(convertedDir: string): Promise<ModelIdentity> {
  let side: { source?: { files?: unknown } } | undefined;
  try {
    side = JSON.parse(await readFile(join(convertedDir, "conversion.json"), "utf8"));
  } catch { /* not made by `xcodec2 convert` */ }
  const files = side?.source?.files;
  if (Array.isArray(files) && files.length && files.every(isDigest)) {
    return { sha256: combinedSha256(files), of: "source checkpoint" };
  }
  const names = (await readdir(convertedDir)).filter((n) => n === "config.json" || n.endsWith(".safetensors")).sort();
  const h = createHash("sha256");
  for (const n of names) h.update(`${n}\0${(await fileDigest(join(convertedDir, n))).hex}\n`);
  return { sha256: h.digest("hex"), of: "converted weights" };
}
