#!/usr/bin/env bun
/**
 * The `xcodec2` command. One table of subcommands; each lives in its package, parses its arguments with
 * `common/args.ts` and returns an exit code. The exit code of a failure comes from the error alone: every error a user
 * can cause is an `Xcodec2Error` (common/errors.ts) and prints as one line; anything else is a bug and prints its
 * stack (exit 70). Subcommands load on demand, so `xcodec2 export` never loads onnxruntime.
 */
import { EXIT, oneLine, Xcodec2Error } from "../common/errors.ts";

type Command = { summary: string; run: (argv: string[]) => Promise<number> };

const COMMANDS: Record<string, Command> = {
  convert: {
    summary: "original checkpoint (file, folder or hf://owner/repo) → Hugging Face Xcodec2Model folder [--onnx]",
    run: async (a) => (await import("../convert/cli.ts")).runConvertCommand(a),
  },
  export: {
    summary: "converted folder → onnx/encoder_model.onnx + decoder_model.onnx (+ _fp16) [--no-masks]",
    run: async (a) => (await import("../convert/onnx/cli.ts")).runExportCommand(a),
  },
  encode: {
    summary: "audio files or a folder → codes (.npy per file, or one .safetensors / .jsonl)",
    run: async (a) => (await import("../runtime/cli.ts")).runEncodeCommand(a),
  },
  decode: {
    summary: "codes → WAV (long ones in windows; --stream: one WAV written as it decodes, to a file or stdout)",
    run: async (a) => (await import("../runtime/cli.ts")).runDecodeCommand(a),
  },
  "encode-dataset": {
    summary: "corpus (folders, manifests, WebDataset tars) → Parquet shards, resumable [--engine nats://host:4222]",
    run: async (a) => (await import("../dataset/cli.ts")).runEncodeDatasetCommand(a),
  },
  worker: {
    summary: "take encode-dataset shards from NATS JetStream: xcodec2 worker nats://host:4222",
    run: async (a) => (await import("../dataset/cli.ts")).runWorkerCommand(a),
  },
  parity: {
    summary: "property tests on a converted folder: batched = per-sample, ours = upstream [--json --html]; " +
      "--long: the window sweep",
    run: async (a) => (await import("../parity/cli.ts")).runParityCommand(a),
  },
  demo: {
    summary: "bundled tiny checkpoint and clips → convert → export → batched encode/decode → WAV → parity summary",
    run: async (a) => (await import("./demo.ts")).runDemo(a),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    "usage: xcodec2 <command> [options]",
    "",
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`),
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "-h" || name === "--help" || name === "help") {
    console.log(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`xcodec2: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    const { code, text } = failure(name, e);
    console.error(text);
    return code;
  }
}

/** What a failed command prints and its exit code, decided by the error's class alone. */
export function failure(command: string, e: unknown): { code: number; text: string } {
  if (e instanceof Xcodec2Error) return { code: e.exitCode, text: `xcodec2 ${command}: ${oneLine(e.message)}` };
  return { code: EXIT.bug, text: `xcodec2 ${command}: ${(e as Error)?.stack ?? String(e)}` };
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
