/**
 * What every parity property returns. The JSON report carries the first six fields (plus `status`, `reason`,
 * `counterexample`, … as extras); `worst` holds the arrays of the worst case for the HTML pictures and never goes
 * into JSON.
 */

export type PropertyStatus = "pass" | "fail" | "not-run";

/** Two signals to draw side by side (e.g. batched vs per-sample audio of the worst item). */
export interface WorstCase {
  title: string;
  /** the value under test (batched, WebGPU, theirs) */
  a: Float32Array;
  /** the value it must equal (per-sample, CPU, expected) */
  b: Float32Array;
  aLabel: string;
  bLabel: string;
  /** the error figure of this case */
  error: number;
  /** what `error` measures when it is not the property's `errorMetric` */
  metric?: string;
}

export interface PropertyResult {
  /** e.g. "1 batch=loop encode" */
  name: string;
  status: PropertyStatus;
  /** generated (or enumerated) cases that were checked; shrink runs are not counted */
  cases: number;
  /** cases that broke the property (fast-check stops at the first failing case and shrinks it) */
  failures: number;
  /** the largest error figure seen (see `errorMetric`); 0 when the property measures none */
  maxError: number;
  /** what `maxError` measures, e.g. "audio rel L2" */
  errorMetric: string;
  /** fraction of compared codes that were equal, 1 when no codes were compared */
  codeAgreement: number;
  /** frames whose FSQ value lies within the tie margin of a rounding boundary (codes there may differ) */
  ties: number;
  /** the seed fast-check used (replay with --seed and the path) */
  seed: number;
  /** fast-check's shrink path of the counterexample, for replay */
  path?: string;
  /** the shrunk counterexample, described for a human (lengths, kinds, indices) */
  counterexample?: string;
  /** why the property failed or was not run */
  reason?: string;
  seconds?: number;
  worst?: WorstCase;
  /** anything else a property wants to report (per-case details) */
  details?: Record<string, unknown>;
}

/** Mutable accumulator the properties fill while running. */
export class Tally {
  cases = 0;
  failures = 0;
  maxError = 0;
  codesCompared = 0;
  codesEqual = 0;
  ties = 0;
  worst: WorstCase | undefined;

  error(e: number): void {
    // NaN counts as the worst possible error, never as "smaller than everything".
    if (Number.isNaN(e)) e = Infinity;
    if (e > this.maxError) this.maxError = e;
  }

  offerWorst(w: WorstCase): void {
    const e = Number.isNaN(w.error) ? Infinity : w.error;
    if (!this.worst || e > this.worst.error) this.worst = { ...w, error: e };
  }

  codes(compared: number, equal: number): void {
    this.codesCompared += compared;
    this.codesEqual += equal;
  }

  get codeAgreement(): number {
    return this.codesCompared === 0 ? 1 : this.codesEqual / this.codesCompared;
  }
}

export function notRun(name: string, reason: string, seed: number, errorMetric = ""): PropertyResult {
  return {
    name,
    status: "not-run",
    cases: 0,
    failures: 0,
    maxError: 0,
    errorMetric,
    codeAgreement: 1,
    ties: 0,
    seed,
    reason,
  };
}

export function fromTally(
  name: string,
  t: Tally,
  seed: number,
  errorMetric: string,
  extra: Partial<PropertyResult> = {},
): PropertyResult {
  return {
    name,
    status: t.failures > 0 ? "fail" : "pass",
    cases: t.cases,
    failures: t.failures,
    maxError: t.maxError,
    errorMetric,
    codeAgreement: t.codeAgreement,
    ties: t.ties,
    seed,
    worst: t.worst,
    ...extra,
  };
}
