#!/usr/bin/env bun
/**
 * The `xcodec2` command. One table of subcommands; each lives in its package and returns an exit code.
 * Errors we expect (bad input, missing files, usage) print as one line without a stack trace.
 */
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
    summary: "codes → WAV",
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
    summary: "property tests on a converted folder: batched = per-sample, ours = upstream [--json --html]",
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
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`xcodec2: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    const err = e as Error & { code?: unknown };
    // A mistyped option or a missing option value (node:util parseArgs) is a usage error, not a bug.
    if (typeof err?.code === "string" && err.code.startsWith("ERR_PARSE_ARGS")) {
      console.error(`xcodec2 ${name}: ${err.message.split("\n")[0]}`);
      return 2;
    }
    // Our typed errors carry the file / tensor / item in their message; anything else is a bug worth a stack.
    const expected = /Error$/.test(err?.name ?? "") && !GENERIC_ERRORS.has(err.name);
    console.error(`xcodec2 ${name}: ${expected ? oneLine(err.message) : err?.stack ?? String(e)}`);
    if (!expected) return 70;
    return err.name === "UsageError" ? 2 : 1;
  }
}

/** Built-in error classes: they come from bugs (or from libraries), so they get a stack trace. */
const GENERIC_ERRORS = new Set(["Error", "TypeError", "RangeError", "ReferenceError", "SyntaxError"]);

/** Expected errors print as one line (a multi-line message would break `2>log` greps and CI annotations). */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, "; ");
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
