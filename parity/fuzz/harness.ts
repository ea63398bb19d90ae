/**
 * Runs one fuzz target as a fast-check property with a fixed seed and budget. Every case runs in its own temporary
 * folder and must end in success or in one of the target's typed errors whose message names the input; anything
 * else fails the property: a builtin exception (TypeError, RangeError — including an allocation failure from a
 * declared size), a case over the time bound, or files left behind (partial outputs).
 */

import type { TensorSource } from "../../convert/mod.ts";
import fc from "fast-check";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Xcodec2Error } from "../../common/errors.ts";

/** One input file: the file name (its extension selects the format) and its bytes. */
export interface FuzzInput {
  name: string;
  bytes: Uint8Array;
  /** target-specific options drawn with the case (e.g. resampling on/off) */
  flag?: boolean;
}

export interface FuzzTarget {
  name: string;
  /** what is fuzzed, for the runner's listing */
  description: string;
  /** build the valid corpus and the case generator (a promise of it where building it writes files) */
  prepare(): fc.Arbitrary<FuzzInput> | Promise<fc.Arbitrary<FuzzInput>>;
  /** parse the file at `path` completely (open, list, read every tensor/sample, close) */
  run(path: string, input: FuzzInput): Promise<void>;
  /** the error classes a bad input may end in */
  typedErrors: ReadonlyArray<new (...args: never[]) => Error>;
}

export interface FuzzResult {
  target: string;
  runs: number;
  ok: number;
  /** error class name → count */
  errors: Record<string, number>;
  maxCaseMs: number;
  elapsedMs: number;
  /** fast-check's report when a case broke the contract */
  failure?: string;
  /** survey mode: distinct contract violations (by error class and throwing frame) → count and one example */
  violations: Record<string, { count: number; example: string }>;
}

const BUILTIN_ERRORS = new Set([
  "Error",
  "TypeError",
  "RangeError",
  "SyntaxError",
  "ReferenceError",
  "EvalError",
  "URIError",
  "AggregateError",
]);

/** Read every tensor of a parsed checkpoint and check each read against its declared size, then close it. */
export async function readEveryTensor(src: TensorSource, path: string): Promise<void> {
  try {
    for (const t of src.list()) {
      const bytes = await src.read(t.name);
      if (bytes.length !== t.byteLength) {
        throw new Error(`${path}: read ${bytes.length} bytes for ${t.name}, info says ${t.byteLength}`);
      }
    }
  } finally {
    await src.close();
  }
}

/** A parser broke its contract on a fuzzed input (threw an untyped error, hung, or returned inconsistent data). */
export class FuzzContractError extends Xcodec2Error {}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FuzzContractError(`${what}: no result after ${ms} ms (hang)`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export async function runTarget(
  target: FuzzTarget,
  opts: {
    runs: number;
    seed: number;
    caseTimeoutMs?: number;
    /** record contract violations and keep going instead of stopping (and shrinking) at the first one */
    survey?: boolean;
    onProgress?: (done: number) => void;
  },
): Promise<FuzzResult> {
  const caseTimeoutMs = opts.caseTimeoutMs ?? 10_000;
  const root = mkdtempSync(join(tmpdir(), `xcodec2-fuzz-${target.name}-`));
  const result: FuzzResult = {
    target: target.name,
    runs: 0,
    ok: 0,
    errors: {},
    maxCaseMs: 0,
    elapsedMs: 0,
    violations: {},
  };
  const started = performance.now();
  let caseNo = 0;
  try {
    const arb = await target.prepare();
    const check = async (input: FuzzInput): Promise<void> => {
      const dir = join(root, `case-${caseNo++}`);
      mkdirSync(dir);
      const path = join(dir, input.name);
      writeFileSync(path, input.bytes);
      const t0 = performance.now();
      try {
        await withTimeout(target.run(path, input), caseTimeoutMs, path);
        result.ok++;
      } catch (err) {
        if (err instanceof FuzzContractError) throw err;
        const e = err as Error;
        const typed = err instanceof Error && target.typedErrors.some((c) => err instanceof c) &&
          !BUILTIN_ERRORS.has(e.name);
        if (!typed) {
          throw new FuzzContractError(
            `${path}: untyped ${e?.name ?? typeof err}: ${e?.message ?? String(err)}\n${e?.stack ?? ""}`,
          );
        }
        if (!e.message.includes(path) && !e.message.includes(input.name)) {
          throw new FuzzContractError(`${path}: ${e.name} does not name the file: ${e.message}`);
        }
        result.errors[e.name] = (result.errors[e.name] ?? 0) + 1;
      } finally {
        const ms = performance.now() - t0;
        result.maxCaseMs = Math.max(result.maxCaseMs, ms);
        result.runs++;
        opts.onProgress?.(result.runs);
      }
      if (ms(t0) > caseTimeoutMs) {
        throw new FuzzContractError(`${path}: took ${ms(t0).toFixed(0)} ms (bound ${caseTimeoutMs} ms)`);
      }
      const left = readdirSync(dir).filter((f) => f !== input.name);
      if (left.length) throw new FuzzContractError(`${path}: left files behind: ${left.join(", ")}`);
      rmSync(dir, { recursive: true, force: true });
    };
    const property = fc.asyncProperty(arb, async (input) => {
      if (!opts.survey) return check(input);
      try {
        await check(input);
      } catch (err) {
        const msg = (err as Error).message;
        const frame = /\n\s+at .*?\(?([^()\s]+:\d+):\d+\)?/.exec(msg)?.[1] ?? "";
        const key = `${
          /untyped (\w+)|does not name|hang|took|left files|absurd [\w ]+/.exec(msg)?.[0] ?? "other"
        } ${frame}`;
        const v = (result.violations[key] ??= { count: 0, example: msg.split("\n").slice(0, 3).join(" | ") });
        v.count++;
      }
    });
    const details = await fc.check(property, { seed: opts.seed, numRuns: opts.runs, endOnFailure: false });
    if (details.failed) {
      const err = details.errorInstance as Error | undefined;
      result.failure = `${
        err?.message ?? "failed"
      }\n(seed ${opts.seed}, path "${details.counterexamplePath}", after ${details.numShrinks} shrinks)`;
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
    result.elapsedMs = performance.now() - started;
  }
  return result;
}

function ms(t0: number): number {
  return performance.now() - t0;
}
