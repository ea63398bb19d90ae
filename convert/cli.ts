/**
 * `xcodec2 convert <source> --out DIR [--config FILE] [--dtype fp32|fp16|bf16] [--force] [--max-shard-size N]`.
 * Returns the exit code; errors are printed as one line without a stack trace.
 */
import process from "node:process";
import { convertCheckpoint, type OutputDTypeName } from "./convert.ts";

export const CONVERT_USAGE =
  "usage: xcodec2 convert <checkpoint file|folder|hf://owner/repo[@rev]> --out DIR [--config FILE] [--dtype fp32|fp16|bf16] [--force] [--max-shard-size N[KB|MB|GB]]\n" +
  "                       [--onnx [--no-masks] [--no-fp16]] [--push-to-hub owner/name [--revision BRANCH] [--private]]   (token: HF_TOKEN)";

export interface ConvertArgs {
  source: string;
  out: string;
  config?: string;
  dtype?: OutputDTypeName;
  force: boolean;
  maxShardSize?: number;
  /** also export the ONNX graphs into <out>/onnx */
  onnx: boolean;
  masks: boolean;
  fp16: boolean;
  pushToHub?: string;
  revision?: string;
  private: boolean;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

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

export function parseConvertArgs(argv: readonly string[]): ConvertArgs {
  const positional: string[] = [];
  const a: Partial<ConvertArgs> & Pick<ConvertArgs, "force" | "onnx" | "masks" | "fp16" | "private"> = {
    force: false,
    onnx: false,
    masks: true,
    fp16: true,
    private: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--out":
      case "-o":
        a.out = value();
        break;
      case "--config":
        a.config = value();
        break;
      case "--dtype": {
        const d = value();
        if (d !== "fp32" && d !== "fp16" && d !== "bf16") {
          throw new UsageError(`--dtype must be fp32, fp16 or bf16, got "${d}"`);
        }
        a.dtype = d;
        break;
      }
      case "--force":
        a.force = true;
        break;
      case "--max-shard-size":
        a.maxShardSize = parseByteSize(value());
        break;
      case "--onnx":
        a.onnx = true;
        break;
      case "--no-masks":
        a.masks = false;
        break;
      case "--no-fp16":
        a.fp16 = false;
        break;
      case "--push-to-hub": {
        const repo = value();
        if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new UsageError(`--push-to-hub takes owner/name, got "${repo}"`);
        a.pushToHub = repo;
        break;
      }
      case "--revision":
        a.revision = value();
        break;
      case "--private":
        a.private = true;
        break;
      default:
        if (flag.startsWith("-")) throw new UsageError(`unknown option ${flag}`);
        positional.push(arg);
    }
  }
  if (positional.length !== 1) {
    throw new UsageError(
      positional.length === 0 ? "missing <source>" : `one source expected, got ${positional.length}`,
    );
  }
  if (!a.out) throw new UsageError("missing --out DIR");
  if (!a.onnx && (!a.masks || !a.fp16)) throw new UsageError("--no-masks and --no-fp16 only apply with --onnx");
  if (!a.pushToHub && (a.revision || a.private)) {
    throw new UsageError("--revision and --private only apply with --push-to-hub");
  }
  return { ...a, source: positional[0]!, out: a.out } as ConvertArgs;
}

export async function runConvertCommand(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(CONVERT_USAGE + "\n");
    return 0;
  }
  let args: ConvertArgs;
  try {
    args = parseConvertArgs(argv);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n${CONVERT_USAGE}\n`);
    return 2;
  }
  try {
    let source = args.source;
    if (source.startsWith("hf://")) {
      const { downloadCheckpoint } = await import("./hub/mod.ts");
      let last = 0;
      source = await downloadCheckpoint(source, {
        onProgress: ({ file, bytes, total }) => {
          if (Date.now() - last < 1000 && bytes !== total) return;
          last = Date.now();
          process.stderr.write(
            `download ${file}: ${(bytes / 1e6).toFixed(0)}${total ? ` / ${(total / 1e6).toFixed(0)}` : ""} MB\n`,
          );
        },
      });
    }
    const t0 = performance.now();
    const report = await convertCheckpoint({
      source,
      out: args.out,
      config: args.config,
      dtype: args.dtype,
      force: args.force,
      maxShardSize: args.maxShardSize,
      log: (m) => process.stderr.write(m + "\n"),
    });
    const dropped = report.tensors.filter((t) => t.action === "drop").length;
    process.stderr.write(
      `converted ${report.tensors.length} source tensors → ${report.outputTensors} (${report.weightNorm.folded} weight-norm folds, ${dropped} dropped) ` +
        `in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${report.out}\n`,
    );
    if (args.onnx) {
      const { exportOnnx } = await import("./onnx/export.ts");
      await exportOnnx(report.out, { masks: args.masks, fp16: args.fp16, log: (m) => process.stderr.write(m + "\n") });
    }
    if (args.pushToHub) {
      const { pushToHub } = await import("./hub/mod.ts");
      const r = await pushToHub(report.out, args.pushToHub, { revision: args.revision, private: args.private });
      process.stderr.write(
        `pushed ${report.out} to ${args.pushToHub}${args.revision ? `@${args.revision}` : ""}${
          r.commitUrl ? ` (${r.commitUrl})` : ""
        }\n`,
      );
    }
    return 0;
  } catch (e) {
    const err = e as Error;
    const label = err.name && err.name !== "Error" ? `${err.name}: ` : "";
    process.stderr.write(`error: ${label}${err.message.split("\n")[0]}\n`);
    return 1;
  }
}
