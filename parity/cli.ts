/**
 * `xcodec2 parity`: the property suite on a converted folder, parity kits, the comparison of another
 * implementation's outputs against a kit, and the long-audio context sweep (`--long`: parity/long_sweep.ts); the four
 * forms in `PARITY.synopsis`. Exit 0 when every property that ran passed, 1 when one failed, 2 on a usage error.
 */
import { Command, type ParsedArgs } from "../common/args.ts";
import { UsageError } from "../common/errors.ts";
import { DEVICE_CHOICES, SAMPLE_RATE } from "../convert/mod.ts";
import { compareAgainstKit, resolveKitDir } from "./against.ts";
import { CI_SIZES } from "./arbitraries.ts";
import { openCodec } from "./codec_handle.ts";
import { writeReportHtml } from "./html.ts";
import { writeParityKit } from "./kit.ts";
import { tinyConvertedDir } from "./reference.ts";
import { formatTable, type ParityReport, writeReportJson } from "./report.ts";
import { ALL_PROPERTIES, DEFAULT_RUNS, type PropertyNumber, runParity } from "./suite.ts";

const PARITY = new Command({
  name: "parity",
  summary: "Property tests on a converted folder: batched = per-sample, ours = upstream (or the family member's " +
    "original); parity kits for other " +
    "implementations. Exit 0 when every property that ran passed, 1 when one failed.",
  synopsis: [
    "xcodec2 parity <converted-dir> [--device D] [--runs N] [--seed S] [--only 1,2,...] [--json FILE] [--html FILE]",
    "xcodec2 parity kit <kit-dir> [--model <converted-dir>] [--device D]",
    "xcodec2 parity --against <outputs.safetensors> [--kit DIR] [--json FILE] [--html FILE]",
    "xcodec2 parity --long <converted-dir> [--quick] [--seconds S] [--audio FILE] [--device D] [--threads N] [--json FILE]",
  ],
  positionals: [{
    name: "converted-dir",
    help: "the folder to test (`kit <kit-dir>` writes a parity kit instead)",
    optional: true,
    variadic: true,
  }],
  options: {
    device: { type: "choice", choices: DEVICE_CHOICES, default: "cpu", help: "where the graphs run" },
    runs: { type: "integer", min: 1, max: 1_000_000, default: DEFAULT_RUNS, help: "fast-check runs per property" },
    seed: { type: "integer", min: 0, max: 2 ** 31 - 1, help: "fast-check seed (default: random; the report shows it)" },
    only: { type: "string", value: "1,2,...", parse: parseOnly, help: "run these properties only" },
    path: { type: "string", value: "P", help: "replay one fast-check counterexample path (with --seed)" },
    "max-seconds": {
      type: "number",
      min: 0,
      minExclusive: true,
      max: 600,
      value: "X",
      help: `longest generated clip (default ${CI_SIZES.maxClipSamples / SAMPLE_RATE} s)`,
    },
    "max-batch": { type: "integer", min: 1, max: 64, default: CI_SIZES.maxBatch, help: "largest generated batch" },
    "max-codes": {
      type: "integer",
      min: 1,
      max: 100_000,
      default: CI_SIZES.maxCodes,
      help: "longest generated code sequence",
    },
    "shrink-budget": { type: "integer", min: 0, max: 1_000_000, help: "graph calls allowed for shrinking a failure" },
    threads: { type: "integer", min: 1, max: 1024, help: "CPU threads per session (default: all cores)" },
    json: { type: "string", value: "FILE", help: "write the report as JSON" },
    html: { type: "string", value: "FILE", help: "write the report as HTML (spectrograms of the worst cases)" },
    quiet: { type: "boolean", help: "print the table only" },
    model: { type: "string", value: "DIR", help: "parity kit: the converted folder (default: the bundled tiny-a)" },
    against: { type: "string", value: "FILE", help: "compare another implementation's outputs against a kit" },
    kit: { type: "string", value: "DIR", help: "with --against: the kit (default: the folder of the outputs file)" },
    long: {
      type: "boolean",
      help: "the long-audio sweep: windowed vs whole-sequence decode (rel L2, seam jumps, time) and encode (codes " +
        "equal) over a grid of window and context sizes",
    },
    quick: { type: "boolean", help: "with --long: a short grid (minutes on the full-size model)" },
    seconds: {
      type: "number",
      min: 1,
      max: 3600,
      value: "S",
      help: "with --long: length of the clip, the longest whose single pass still fits (default 60)",
    },
    audio: {
      type: "string",
      value: "FILE",
      help: "with --long: speech to sweep on (default: the reference espeak clip)",
    },
  },
  notes: "properties: 1 batch=loop encode, 2 batch=loop decode, 3 conversion=upstream, 4 runtime=upstream\n" +
    "            (runtime=original on a family member's reference checkpoint, fixtures/family),\n" +
    "            5 device=device (webgpu vs cpu), 6 the suite can fail (1 and 2 on a mask-free export must fail)",
});

type Args = ParsedArgs<typeof PARITY.spec.options>;

function parseOnly(v: string, flag: string): PropertyNumber[] {
  const nums = v.split(",").map((s) => Number(s.trim()));
  for (const n of nums) {
    if (!ALL_PROPERTIES.includes(n as PropertyNumber)) {
      throw new UsageError(`${flag} takes property numbers 1–6, got "${v}"`);
    }
  }
  return nums as PropertyNumber[];
}

async function emit(report: ParityReport, { json, html, quiet }: Args["values"]): Promise<number> {
  console.log(formatTable(report));
  if (json) {
    await writeReportJson(report, json);
    if (!quiet) console.error(`wrote ${json}`);
  }
  if (html) {
    await writeReportHtml(report, html);
    if (!quiet) console.error(`wrote ${html}`);
  }
  return report.ok ? 0 : 1;
}

export function runParityCommand(argv: string[]): Promise<number> {
  return PARITY.run(argv, dispatch);
}

async function dispatch({ positionals: positional, values: v }: Args): Promise<number> {
  const log = v.quiet ? () => {} : (m: string) => console.error(m);
  if (v.long) return longSweep(positional, v, log);
  for (const flag of ["quick", "seconds", "audio"] as const) {
    if (v[flag] !== undefined && v[flag] !== false) throw new UsageError(`--${flag} goes with --long`);
  }
  const against = v.against;
  if (against) {
    if (positional.length) {
      throw new UsageError(`--against takes no other positional argument (got ${positional.join(" ")})`);
    }
    return emit(await compareAgainstKit(against, resolveKitDir(against, v.kit)), v);
  }
  if (positional[0] === "kit") {
    if (positional.length !== 2) {
      throw new UsageError("parity kit takes exactly one folder: xcodec2 parity kit <kit-dir>");
    }
    const model = v.model ?? tinyConvertedDir();
    if (!model) {
      throw new UsageError(
        "--model <converted-dir> is required (the bundled reference checkpoint is not installed)",
      );
    }
    const codec = await openCodec(model, { device: v.device, threads: v.threads, log });
    try {
      const m = await writeParityKit(positional[1], codec, model);
      console.log(
        `wrote parity kit ${positional[1]}: ${m.clips.length} clips, expected.safetensors, kit.json, README.md`,
      );
      return 0;
    } finally {
      await codec.dispose?.();
    }
  }
  if (positional.length !== 1) {
    throw new UsageError(
      positional.length
        ? `expected one converted folder, got ${positional.length} arguments`
        : "missing <converted-dir>",
    );
  }
  const report = await runParity(positional[0], {
    device: v.device,
    runs: v.runs,
    seed: v.seed,
    path: v.path,
    only: v.only,
    sizes: {
      maxClipSamples: v["max-seconds"] === undefined
        ? CI_SIZES.maxClipSamples
        : Math.max(1, Math.round(v["max-seconds"] * SAMPLE_RATE)),
      maxBatch: v["max-batch"],
      maxCodes: v["max-codes"],
    },
    shrinkBudget: v["shrink-budget"],
    threads: v.threads,
    log,
  });
  return emit(report, v);
}

/** `--long`: the context sweep on one converted folder (parity/long_sweep.ts), printed as tables. */
async function longSweep(positional: string[], v: Args["values"], log: (m: string) => void): Promise<number> {
  if (positional.length !== 1) throw new UsageError("--long takes one converted folder");
  const { runLongSweep, formatSweep, writeSweepJson } = await import("./long_sweep.ts");
  const { Xcodec2 } = await import("../runtime/codec.ts");
  const codec = await Xcodec2.load(positional[0], { device: v.device, precision: "fp32", threads: v.threads, log });
  try {
    const report = await runLongSweep(codec, positional[0], {
      seconds: v.seconds,
      quick: v.quick,
      audio: v.audio,
      log,
    });
    console.log(formatSweep(report));
    if (v.json) {
      await writeSweepJson(report, v.json);
      log(`wrote ${v.json}`);
    }
    return 0;
  } finally {
    await codec.dispose();
  }
}
