/**
 * `xcodec2 parity`:
 *   xcodec2 parity <converted-dir> [--device cpu|webgpu|cuda|auto] [--runs N] [--seed S] [--only 1,2,…] [--path P]
 *                  [--max-seconds X] [--max-batch N] [--max-codes N] [--shrink-budget N] [--threads N]
 *                  [--json FILE] [--html FILE] [--quiet]
 *   xcodec2 parity kit <kit-dir> [--model <converted-dir>] [--device d]
 *   xcodec2 parity --against <outputs.safetensors> [--kit DIR] [--json FILE] [--html FILE]
 *   xcodec2 parity --long <converted-dir> [--quick] [--seconds S] [--audio FILE] [--device d] [--threads N]
 *                  [--json FILE]    (the long-audio context sweep: parity/long_sweep.ts)
 * Exit 0 when every property that ran passed, 1 when one failed, 2 on a usage error.
 */
import { SAMPLE_RATE } from "../convert/architecture.ts";
import { compareAgainstKit, resolveKitDir } from "./against.ts";
import { CI_SIZES } from "./arbitraries.ts";
import { openCodec } from "./codec_handle.ts";
import { writeReportHtml } from "./html.ts";
import { writeParityKit } from "./kit.ts";
import { tinyConvertedDir } from "./reference.ts";
import { formatTable, type ParityReport, writeReportJson } from "./report.ts";
import { ALL_PROPERTIES, DEFAULT_RUNS, type PropertyNumber, runParity } from "./suite.ts";

export const PARITY_USAGE = `usage:
  xcodec2 parity <converted-dir> [--device cpu|webgpu|cuda|auto] [--runs N] [--seed S] [--only 1,2,...] [--path P]
                 [--max-seconds X] [--max-batch N] [--max-codes N] [--shrink-budget N] [--threads N]
                 [--json FILE] [--html FILE] [--quiet]
  xcodec2 parity kit <kit-dir> [--model <converted-dir>] [--device d]
  xcodec2 parity --against <outputs.safetensors> [--kit DIR] [--json FILE] [--html FILE]
  xcodec2 parity --long <converted-dir> [--quick] [--seconds S] [--audio FILE] [--device d] [--threads N]
                 [--json FILE]
      windowed vs whole-sequence decode (rel L2, seam jumps, time) and encode (codes equal) over a grid of window
      and context sizes; --quick: a short grid (minutes on the full-size model); default 60 s of speech

properties: 1 batch=loop encode, 2 batch=loop decode, 3 conversion=upstream, 4 runtime=upstream,
            5 device=device (webgpu vs cpu), 6 the suite can fail (1 and 2 on a mask-free export must fail)`;

export class ParityUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ParityUsageError";
  }
}

const VALUE_FLAGS = new Set([
  "--device",
  "--runs",
  "--seed",
  "--only",
  "--path",
  "--max-seconds",
  "--max-batch",
  "--max-codes",
  "--shrink-budget",
  "--threads",
  "--json",
  "--html",
  "--model",
  "--against",
  "--kit",
  "--seconds",
  "--audio",
]);
const BOOL_FLAGS = new Set(["--quiet", "--help", "-h", "--long", "--quick"]);

export interface ParsedParityArgs {
  positional: string[];
  flags: Map<string, string>;
  bools: Set<string>;
}

export function parseParityArgs(argv: string[]): ParsedParityArgs {
  const positional: string[] = [], flags = new Map<string, string>(), bools = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let inline: string | undefined;
    if (a.startsWith("--") && a.includes("=")) [a, inline] = [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)];
    if (VALUE_FLAGS.has(a)) {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith("--"))) {
        throw new ParityUsageError(`${a} needs a value`);
      }
      flags.set(a, v);
    } else if (BOOL_FLAGS.has(a)) bools.add(a);
    else if (a.startsWith("-")) throw new ParityUsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  return { positional, flags, bools };
}

function intFlag(flags: Map<string, string>, name: string, min: number, max: number): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ParityUsageError(`${name} must be an integer in [${min}, ${max}], got "${v}"`);
  }
  return n;
}

function parseOnly(v: string | undefined): PropertyNumber[] | undefined {
  if (v === undefined) return undefined;
  const nums = v.split(",").map((s) => Number(s.trim()));
  for (const n of nums) {
    if (!ALL_PROPERTIES.includes(n as PropertyNumber)) {
      throw new ParityUsageError(`--only takes property numbers 1–6, got "${v}"`);
    }
  }
  return nums as PropertyNumber[];
}

async function emit(report: ParityReport, flags: Map<string, string>, quiet: boolean): Promise<number> {
  console.log(formatTable(report));
  const json = flags.get("--json"), html = flags.get("--html");
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

export async function runParityCommand(argv: string[]): Promise<number> {
  let args: ParsedParityArgs;
  try {
    args = parseParityArgs(argv);
    if (args.bools.has("--help") || args.bools.has("-h")) {
      console.log(PARITY_USAGE);
      return 0;
    }
    return await dispatch(args);
  } catch (e) {
    if (e instanceof ParityUsageError) {
      console.error(`xcodec2 parity: ${e.message}\n\n${PARITY_USAGE}`);
      return 2;
    }
    throw e;
  }
}

async function dispatch({ positional, flags, bools }: ParsedParityArgs): Promise<number> {
  const quiet = bools.has("--quiet");
  const log = quiet ? () => {} : (m: string) => console.error(m);
  if (bools.has("--long")) return longSweep(positional, flags, bools, log);
  const against = flags.get("--against");
  if (against) {
    if (positional.length) {
      throw new ParityUsageError(`--against takes no other positional argument (got ${positional.join(" ")})`);
    }
    const kitDir = resolveKitDir(against, flags.get("--kit"));
    return emit(await compareAgainstKit(against, kitDir), flags, quiet);
  }
  if (positional[0] === "kit") {
    if (positional.length !== 2) {
      throw new ParityUsageError("parity kit takes exactly one folder: xcodec2 parity kit <kit-dir>");
    }
    const model = flags.get("--model") ?? tinyConvertedDir();
    if (!model) {
      throw new ParityUsageError(
        "--model <converted-dir> is required (the bundled reference checkpoint is not installed)",
      );
    }
    const codec = await openCodec(model, {
      device: flags.get("--device") ?? "cpu",
      threads: intFlag(flags, "--threads", 1, 1024),
      log,
    });
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
    throw new ParityUsageError(
      positional.length
        ? `expected one converted folder, got ${positional.length} arguments`
        : "missing <converted-dir>",
    );
  }
  const maxSeconds = flags.get("--max-seconds");
  if (maxSeconds !== undefined && !(Number(maxSeconds) > 0 && Number(maxSeconds) <= 600)) {
    throw new ParityUsageError(`--max-seconds must be a number in (0, 600], got "${maxSeconds}"`);
  }
  const sizes = {
    maxClipSamples: maxSeconds !== undefined
      ? Math.max(1, Math.round(Number(maxSeconds) * SAMPLE_RATE))
      : CI_SIZES.maxClipSamples,
    maxBatch: intFlag(flags, "--max-batch", 1, 64) ?? CI_SIZES.maxBatch,
    maxCodes: intFlag(flags, "--max-codes", 1, 100_000) ?? CI_SIZES.maxCodes,
  };
  const report = await runParity(positional[0], {
    device: flags.get("--device") ?? "cpu",
    runs: intFlag(flags, "--runs", 1, 1_000_000) ?? DEFAULT_RUNS,
    seed: intFlag(flags, "--seed", 0, 2 ** 31 - 1),
    path: flags.get("--path"),
    only: parseOnly(flags.get("--only")),
    sizes,
    shrinkBudget: intFlag(flags, "--shrink-budget", 0, 1_000_000),
    threads: intFlag(flags, "--threads", 1, 1024),
    log,
  });
  return emit(report, flags, quiet);
}

async function longSweep(
  positional: string[],
  flags: Map<string, string>,
  bools: Set<string>,
  log: (m: string) => void,
): Promise<number> {
  if (positional.length !== 1) throw new ParityUsageError("--long takes one converted folder");
  const seconds = flags.get("--seconds");
  if (seconds !== undefined && !(Number(seconds) >= 1 && Number(seconds) <= 3600)) {
    throw new ParityUsageError(`--seconds must be a number in [1, 3600], got "${seconds}"`);
  }
  const { runLongSweep, formatSweep, writeSweepJson } = await import("./long_sweep.ts");
  const { Xcodec2 } = await import("../runtime/codec.ts");
  const codec = await Xcodec2.load(positional[0], {
    device: (flags.get("--device") ?? "cpu") as "cpu",
    precision: "fp32",
    threads: intFlag(flags, "--threads", 1, 1024),
    log,
  });
  try {
    const report = await runLongSweep(codec, positional[0], {
      seconds: seconds === undefined ? undefined : Number(seconds),
      quick: bools.has("--quick"),
      audio: flags.get("--audio"),
      log,
    });
    console.log(formatSweep(report));
    const json = flags.get("--json");
    if (json) {
      await writeSweepJson(report, json);
      log(`wrote ${json}`);
    }
    return 0;
  } finally {
    await codec.dispose();
  }
}
