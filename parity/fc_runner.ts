/**
 * Runs one fast-check property and turns its RunDetails into a PropertyResult. The predicate reports each case to a
 * Tally, but only while fast-check is still drawing fresh cases: after the first failure fast-check re-runs the
 * predicate on ever smaller variants (shrinking), and those runs must not be counted as cases.
 */
import fc from "fast-check";
import { fromTally, type PropertyResult, Tally } from "./result.ts";

export interface RunOptions {
  /** cases to draw */
  runs: number;
  seed: number;
  /** fast-check replay path (from a previous failure) */
  path?: string;
  /** predicate runs allowed for shrinking a failure (each runs the model); past it, candidates are not tried */
  shrinkBudget?: number;
}

export interface CaseOutcome {
  ok: boolean;
  /** one line on what broke, kept for the shrunk (final) counterexample */
  why?: string;
}

export async function runFcProperty<T>(
  name: string,
  errorMetric: string,
  arb: fc.Arbitrary<T>,
  check: (value: T, tally: Tally) => Promise<CaseOutcome>,
  describe: (value: T) => string,
  opts: RunOptions,
): Promise<PropertyResult> {
  const t0 = performance.now();
  const tally = new Tally();
  let shrinking = false;
  let lastWhy: string | undefined;
  let shrinkRuns = 0;
  const scratch = new Tally();
  const prop = fc.asyncProperty(arb, async (value) => {
    // shrink runs measure into a scratch tally that is thrown away
    const target = shrinking ? scratch : tally;
    if (shrinking && shrinkRuns++ >= (opts.shrinkBudget ?? 100)) return true; // budget spent: keep the current case
    let outcome: CaseOutcome;
    try {
      outcome = await check(value, target);
    } catch (e) {
      outcome = { ok: false, why: `threw ${(e as Error)?.name ?? "error"}: ${(e as Error)?.message ?? e}` };
    }
    if (!shrinking) {
      tally.cases++;
      if (!outcome.ok) {
        tally.failures++;
        shrinking = true;
      }
    }
    if (!outcome.ok) lastWhy = outcome.why;
    return outcome.ok;
  });
  const details = await fc.check(prop, { numRuns: opts.runs, seed: opts.seed, path: opts.path });
  const result = fromTally(name, tally, details.seed, errorMetric, { seconds: (performance.now() - t0) / 1000 });
  if (details.failed && details.counterexample) {
    result.status = "fail";
    result.failures = Math.max(1, result.failures);
    result.path = details.counterexamplePath ?? undefined;
    result.counterexample = describe(details.counterexample[0]);
    // lastWhy belongs to the last failing run, which is the shrunk counterexample
    result.reason = `${
      lastWhy ?? "property failed"
    } (after ${details.numShrinks} shrinks; replay: --seed ${details.seed} --path ${details.counterexamplePath})`;
  } else if (details.failed) {
    result.status = "fail";
    result.reason = `fast-check: ${String(details.errorInstance ?? "failed without counterexample")}`;
  }
  return result;
}
