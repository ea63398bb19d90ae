/**
 * The fuzzing campaign, deeper than CI:
 *   npm run fuzz -- --runs N [--target NAME]... [--seed S] [--timeout-ms T] [--survey] [--list]
 * --survey records every distinct contract violation and keeps going (for bug hunting); without it the first
 * violation stops the target and fast-check shrinks it to a minimal case.
 * Prints per-target counts (cases, successes, typed errors by class, slowest case) and exits non-zero if any case
 * broke the contract (untyped exception, hang, partial output), with the reproducing seed and path.
 */
import { parseArgs } from "node:util";
import { type FuzzResult, runTarget } from "./harness.ts";
import { DEFAULT_SEED, TARGETS } from "./targets/mod.ts";

export function formatResult(r: FuzzResult): string {
  const errors = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  return `${r.target.padEnd(12)} ${String(r.runs).padStart(7)} cases  ${
    String(r.ok).padStart(6)
  } ok  typed errors: ${errors}  ` +
    `slowest ${r.maxCaseMs.toFixed(0)} ms  total ${(r.elapsedMs / 1000).toFixed(1)} s${r.failure ? "  FAILED" : ""}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "10000" },
      target: { type: "string", multiple: true },
      seed: { type: "string", default: String(DEFAULT_SEED) },
      "timeout-ms": { type: "string", default: "10000" },
      list: { type: "boolean", default: false },
      survey: { type: "boolean", default: false },
    },
  });
  if (values.list) {
    for (const t of TARGETS) console.log(`${t.name.padEnd(12)} ${t.description}`);
    return 0;
  }
  const runs = Number(values.runs);
  const seed = Number(values.seed);
  if (!Number.isInteger(runs) || runs <= 0 || !Number.isInteger(seed)) {
    console.error("--runs and --seed must be integers");
    return 2;
  }
  const wanted = values.target ?? TARGETS.map((t) => t.name);
  const unknown = wanted.filter((n) => !TARGETS.some((t) => t.name === n));
  if (unknown.length) {
    console.error(`unknown target(s) ${unknown.join(", ")}; known: ${TARGETS.map((t) => t.name).join(", ")}`);
    return 2;
  }
  let failed = false;
  for (const t of TARGETS.filter((t) => wanted.includes(t.name))) {
    const r = await runTarget(t, { runs, seed, caseTimeoutMs: Number(values["timeout-ms"]), survey: values.survey });
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

if (import.meta.main) process.exit(await main());
