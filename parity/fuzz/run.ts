/**
 * The fuzzing campaign, deeper than CI:
 *   npm run fuzz -- --runs N [--target NAME]... [--seed S] [--timeout-ms T] [--survey] [--list]
 * --survey records every distinct contract violation and keeps going (for bug hunting); without it the first
 * violation stops the target and fast-check shrinks it to a minimal case.
 * Prints per-target counts (cases, successes, typed errors by class, slowest case) and exits non-zero if any case
 * broke the contract (untyped exception, hang, partial output), with the reproducing seed and path.
 */
import { Command, type OptionValues } from "../../common/args.ts";
import { type FuzzResult, runTarget } from "./harness.ts";
import { DEFAULT_SEED, TARGETS } from "./targets/mod.ts";

export function formatResult(r: FuzzResult): string {
  const errors = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  return `${r.target.padEnd(12)} ${String(r.runs).padStart(7)} cases  ${
    String(r.ok).padStart(6)
  } ok  typed errors: ${errors}  ` +
    `slowest ${r.maxCaseMs.toFixed(0)} ms  total ${(r.elapsedMs / 1000).toFixed(1)} s${r.failure ? "  FAILED" : ""}`;
}

const FUZZ = new Command({
  name: "fuzz",
  program: "npm run fuzz --",
  summary: "Fuzz every parser (safetensors, pickle, zip, audio, codes, config): each case must end in a typed error " +
    "naming the file, or in a consistent result, within the time bound.",
  positionals: [],
  options: {
    runs: { type: "integer", min: 1, max: 1e9, default: 10_000, help: "cases per target" },
    target: {
      type: "list",
      choices: TARGETS.map((t) => t.name),
      value: "NAME[,NAME...]",
      help: "these targets only (default: all)",
    },
    seed: { type: "integer", min: -(2 ** 31), max: 2 ** 31 - 1, default: DEFAULT_SEED, help: "fast-check seed" },
    "timeout-ms": { type: "integer", min: 1, max: 3_600_000, default: 10_000, help: "bound on one case" },
    survey: { type: "boolean", help: "record every distinct violation and keep going (bug hunting)" },
    list: { type: "boolean", help: "list the targets and exit" },
  },
});

function main(argv: string[]): Promise<number> {
  return FUZZ.run(argv, ({ values }) => fuzz(values));
}

async function fuzz(v: OptionValues<typeof FUZZ.spec.options>): Promise<number> {
  if (v.list) {
    for (const t of TARGETS) console.log(`${t.name.padEnd(12)} ${t.description}`);
    return 0;
  }
  const wanted = v.target.length ? v.target : TARGETS.map((t) => t.name);
  const opts = { runs: v.runs, seed: v.seed, caseTimeoutMs: v["timeout-ms"], survey: v.survey };
  let failed = false;
  for (const t of TARGETS.filter((t) => wanted.includes(t.name))) {
    const r = await runTarget(t, opts);
    console.log(formatResult(r));
    for (const [k, v] of Object.entries(r.violations)) {
      failed = true;
      console.log(`  VIOLATION ×${v.count} ${k}\n    e.g. ${v.example}`);
    }
    if (r.failure) {
      failed = true;
      console.log(`  ${r.failure.replaceAll("\n", "\n  ")}`);
    }
  }
  return failed ? 1 : 0;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
