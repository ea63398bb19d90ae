/**
 * Which files of a Hub repository make up "the original checkpoint".
 *
 * HKUSTAudio/xcodec2 holds both `model.safetensors` and a 6.5 GB Lightning `ckpt/…ckpt` of the same weights, so we
 * take one weight format, in order of preference (safetensors, then pytorch_model*.bin, then *.ckpt), plus the small
 * metadata files the converter carries over (config, model card, licence).
 */

/** Weight formats, most preferred first; each is a test on the path relative to the checkpoint folder. */
const WEIGHT_FORMATS: ReadonlyArray<{ name: string; matches: (rel: string) => boolean }> = [
  {
    name: "safetensors",
    matches: (rel) => !rel.includes("/") && (/\.safetensors$/.test(rel) || rel === "model.safetensors.index.json"),
  },
  {
    name: "pytorch",
    matches: (rel) =>
      !rel.includes("/") && (/^pytorch_model.*\.bin$/.test(rel) || rel === "pytorch_model.bin.index.json"),
  },
  { name: "lightning", matches: (rel) => /\.ckpt$/.test(rel) },
];

/** Metadata taken whenever present, next to the weights (NeuCodec's licence is in its `meta.yaml`). */
const METADATA = new Set(["config.json", "README.md", "LICENSE", "LICENSE.md", "LICENSE.txt", "meta.yaml"]);

/**
 * From repository paths, the ones to download for the checkpoint in folder `prefix` ("" = repository root).
 * Returns [] when the folder holds no weights in any known format.
 */
export function selectCheckpointFiles(paths: readonly string[], prefix = ""): string[] {
  const rel = (p: string) => (prefix === "" ? p : p.startsWith(prefix + "/") ? p.slice(prefix.length + 1) : undefined);
  const inFolder = paths.filter((p) => rel(p) !== undefined);
  for (const fmt of WEIGHT_FORMATS) {
    const weights = inFolder.filter((p) => fmt.matches(rel(p)!));
    if (weights.length > 0) {
      const meta = inFolder.filter((p) => METADATA.has(rel(p)!));
      return [...new Set([...meta, ...weights])].sort();
    }
  }
  return [];
}
