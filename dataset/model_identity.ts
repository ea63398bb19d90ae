/**
 * Which model made the codes: written into every shard's metadata and the dataset card, and carried by every NATS job
 * so that a worker holding another model refuses the shard instead of mixing codes of two models in one dataset.
 * A folder made by `xcodec2 convert` records its source checkpoint's sha256 in `conversion.json` (the same figure its
 * model card shows); a folder converted some other way is identified by the sha256 of its own weights and config.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

export interface ModelIdentity {
  sha256: string;
  of: "source checkpoint" | "converted weights";
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Uint8Array);
  return h.digest("hex");
}

export async function modelIdentity(convertedDir: string): Promise<ModelIdentity> {
  let side: { source?: { files?: { sha256?: unknown }[] } } | undefined;
  try {
    side = JSON.parse(await readFile(join(convertedDir, "conversion.json"), "utf8"));
  } catch { /* not made by `xcodec2 convert` */ }
  const files = side?.source?.files;
  if (Array.isArray(files) && files.length && files.every((f) => typeof f?.sha256 === "string")) {
    const shas = files.map((f) => f.sha256 as string);
    // the rule convert/convert.ts uses for the model card's "source sha256": one file's own, or that of the list
    const sha256 = shas.length === 1 ? shas[0] : createHash("sha256").update(shas.join("\n")).digest("hex");
    return { sha256, of: "source checkpoint" };
  }
  const names = (await readdir(convertedDir)).filter((n) => n === "config.json" || n.endsWith(".safetensors")).sort();
  const h = createHash("sha256");
  for (const n of names) h.update(`${n}\0${await fileSha256(join(convertedDir, n))}\n`);
  return { sha256: h.digest("hex"), of: "converted weights" };
}
