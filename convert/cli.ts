/**
 * `xcodec2 convert <source> --out DIR [--config FILE] [--dtype fp32|fp16|bf16] [--force] [--max-shard-size N]
 *   [--onnx [--no-masks] [--no-fp16]] [--push-to-hub owner/name [--revision BRANCH] [--private]]`.
 * Returns the exit code. Errors of the toolkit (a bad checkpoint, a refused output folder, the Hub) print as one line
 * `error: <class>: <message>` and end the command with their exit code; anything else is a bug and propagates.
 */
import process from "node:process";
import { Command, type OptionValues } from "../common/args.ts";
import { EXIT, UsageError, Xcodec2Error } from "../common/errors.ts";
import { convertCheckpoint } from "./convert.ts";
import { downloadCheckpoint, exportOnnx, pushToHub } from "./lazy.ts";
import { HUB_SCHEME } from "./hub/source.ts";

/** "5GB", "500MB", "1000000" → bytes (decimal units, as transformers' max_shard_size; KiB/MiB/GiB binary). */
export function parseByteSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)?$/i.exec(s.trim());
  if (!m) throw new UsageError(`--max-shard-size: cannot read "${s}" as a size (e.g. 2GB, 500MB, 1000000)`);
  const unit = (m[2] ?? "B").toUpperCase();
  const mult: Record<string, number> = {
    B: 1,
    KB: 1e3,
    MB: 1e6,
    GB: 1e9,
    TB: 1e12,
    KIB: 2 ** 10,
    MIB: 2 ** 20,
    GIB: 2 ** 30,
    TIB: 2 ** 40,
  };
  const n = Math.floor(Number(m[1]) * mult[unit]!);
  if (!(n > 0)) throw new UsageError(`--max-shard-size must be positive, got "${s}"`);
  return n;
}

const CONVERT = new Command({
  name: "convert",
  summary: "Convert an original XCodec2 checkpoint into the Hugging Face Xcodec2Model layout (bit-identical to " +
    "upstream's conversion); optionally export the ONNX graphs and push the folder to the Hub (token: HF_TOKEN).",
  positionals: [{
    name: "source",
    help: "checkpoint file (.safetensors, .ckpt, .bin, .pt), folder, or hf://owner/repo[@revision][/path]",
  }],
  options: {
    out: { type: "string", short: "o", value: "DIR", required: true, help: "the converted folder to write" },
    config: { type: "string", value: "FILE", help: "the original config.json, when it is not beside the checkpoint" },
    dtype: { type: "choice", choices: ["fp32", "fp16", "bf16"], help: "cast the weights (default: keep the source's)" },
    force: { type: "boolean", help: "replace a non-empty --out folder" },
    "max-shard-size": {
      type: "string",
      value: "N[KB|MB|GB]",
      parse: parseByteSize,
      help: "split model.safetensors into shards of at most this size",
    },
    onnx: { type: "boolean", help: "also export the ONNX graphs into <out>/onnx" },
    "no-masks": { type: "boolean", help: "with --onnx: upstream's leaking batch graphs (for parity testing only)" },
    "no-fp16": { type: "boolean", help: "with --onnx: write the fp32 graphs only" },
    "push-to-hub": {
      type: "string",
      value: "owner/name",
      parse: parseRepo,
      help: "upload the folder to this repository",
    },
    revision: { type: "string", value: "BRANCH", help: "with --push-to-hub: the branch to commit to (default main)" },
    private: { type: "boolean", help: "with --push-to-hub: create the repository private" },
  },
});

function parseRepo(repo: string, flag: string): string {
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new UsageError(`${flag} takes owner/name, got "${repo}"`);
  return repo;
}

export function runConvertCommand(argv: string[]): Promise<number> {
  return CONVERT.run(argv, async ({ positionals: [source], values: v }) => {
    if (!v.onnx && (v["no-masks"] || v["no-fp16"])) {
      throw new UsageError("--no-masks and --no-fp16 only apply with --onnx");
    }
    if (!v["push-to-hub"] && (v.revision !== undefined || v.private)) {
      throw new UsageError("--revision and --private only apply with --push-to-hub");
    }
    try {
      return await convert(source, v);
    } catch (e) {
      if (!(e instanceof Xcodec2Error) || e instanceof UsageError) throw e;
      process.stderr.write(`error: ${e.name}: ${e.message.split("\n")[0]}\n`);
      return e.exitCode;
    }
  });
}

async function convert(source: string, v: OptionValues<typeof CONVERT.spec.options>): Promise<number> {
  const log = (m: string) => process.stderr.write(m + "\n");
  if (source.startsWith(HUB_SCHEME)) {
    let last = 0;
    source = await downloadCheckpoint(source, {
      onProgress: ({ file, bytes, total }) => {
        if (Date.now() - last < 1000 && bytes !== total) return;
        last = Date.now();
        log(`download ${file}: ${(bytes / 1e6).toFixed(0)}${total ? ` / ${(total / 1e6).toFixed(0)}` : ""} MB`);
      },
    });
  }
  const t0 = performance.now();
  const report = await convertCheckpoint({
    source,
    out: v.out,
    config: v.config,
    dtype: v.dtype,
    force: v.force,
    maxShardSize: v["max-shard-size"],
    log,
  });
  const dropped = report.tensors.filter((t) => t.action === "drop").length;
  log(
    `converted ${report.tensors.length} source tensors → ${report.outputTensors} (${report.weightNorm.folded} weight-norm folds, ${dropped} dropped) ` +
      `in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${report.out}`,
  );
  if (v.onnx) await exportOnnx(report.out, { masks: !v["no-masks"], fp16: !v["no-fp16"], log });
  const repo = v["push-to-hub"];
  if (repo) {
    const r = await pushToHub(report.out, repo, { revision: v.revision, private: v.private });
    log(
      `pushed ${report.out} to ${repo}${v.revision ? `@${v.revision}` : ""}${r.commitUrl ? ` (${r.commitUrl})` : ""}`,
    );
  }
  return EXIT.ok;
}
