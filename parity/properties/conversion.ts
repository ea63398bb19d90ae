/**
 * Property 3, conversion = upstream: converting each reference original checkpoint (every stored form: safetensors,
 * torch pickle, and the generated style variants when a generator provides them) gives upstream's converted tensors:
 * the same names, shapes and dtypes, values bit-identical, except the weight-norm-folded convolutions, which may
 * differ by at most 2 ulp or 1e-6 relative per element (g·v/‖v‖ summed in another order).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSafetensors, type OriginalLayoutOptions, type SafetensorsFile } from "../../convert/mod.ts";
import { type ReferenceIndex, variantDirs } from "../reference.ts";
import { fromTally, notRun, type PropertyResult, Tally } from "../result.ts";
import { bytesToFloat32 } from "../tensor_data.ts";
import { TOLERANCES } from "../tolerances.ts";

export const CONVERSION = "3 conversion=upstream";

/** One original checkpoint to convert and the converted folder it must reproduce. */
export interface ConversionCase {
  label: string;
  source: string;
  expected: string;
}

/** The stored forms of every reference variant. */
export function referenceConversionCases(index: ReferenceIndex): ConversionCase[] {
  const out: ConversionCase[] = [];
  for (const name of Object.keys(index.variants)) {
    const dirs = variantDirs(index, name);
    out.push({ label: `${name} safetensors`, source: dirs.original, expected: dirs.converted });
    out.push({ label: `${name} pickle`, source: dirs.originalPickle, expected: dirs.converted });
  }
  return out;
}

/** |a−b| in units in the last place of float32 (via the ordered integer representation). */
export function ulpDistance(a: number, b: number): number {
  const buf = new DataView(new ArrayBuffer(8));
  const ordered = (x: number) => {
    buf.setFloat32(0, x, true);
    const i = buf.getInt32(0, true);
    return i < 0 ? -0x80000000 - i : i;
  };
  return Math.abs(ordered(a) - ordered(b));
}

/** What the style cases use of fixtures/generate.ts. */
type StyleOptions = OriginalLayoutOptions & { out: string; preset: "tiny"; seed: number };
interface StyleGenerator {
  generateCheckpoint(opts: StyleOptions): Promise<unknown>;
}

/**
 * Style variants from the converter's generator (fixtures/generate.ts), when it is installed: one seeded tiny
 * checkpoint written as legacy weight norm (the baseline, converted here), parametrized weight norm, with the
 * training-only keys, and with extra semantic layers. Upstream has no tensors for these weights, so each variant
 * must convert to exactly what the legacy form converts to (and the legacy form itself is checked against upstream
 * through tiny-a). Returns no cases when the generator is absent.
 */
export async function generatedStyleCases(work: string, seed: number): Promise<ConversionCase[]> {
  // A variable specifier, and a structural type instead of `typeof import(…)`: the generator is test support, left out
  // of the published packages (npm and JSR), whose builds must not follow it.
  const generator = "../../fixtures/generate.ts";
  let gen: StyleGenerator;
  try {
    gen = await import(generator);
  } catch {
    return [];
  }
  const { convertCheckpoint } = await import("../../convert/mod.ts");
  const base = join(work, "gen-legacy");
  await gen.generateCheckpoint({ out: base, preset: "tiny", seed, style: "legacy" });
  const expected = join(work, "gen-legacy-converted");
  await convertCheckpoint({ source: base, out: expected, log: () => {} });
  const variants: [string, StyleOptions][] = [
    ["parametrizations", { out: join(work, "gen-param"), preset: "tiny", seed, style: "parametrizations" }],
    ["training keys", { out: join(work, "gen-train"), preset: "tiny", seed, style: "legacy", trainingKeys: true }],
    ["extra semantic layers", { out: join(work, "gen-sem"), preset: "tiny", seed, style: "legacy", semanticLayers: 6 }],
  ];
  const out: ConversionCase[] = [];
  for (const [label, o] of variants) {
    await gen.generateCheckpoint(o);
    out.push({ label: `generated ${label} = generated legacy`, source: o.out, expected });
  }
  return out;
}

export interface ConversionOptions {
  seed: number;
  cases?: ConversionCase[];
  index?: ReferenceIndex; /** add the generator's style variants (default true) */
  styles?: boolean;
}

export async function conversionProperty(opts: ConversionOptions): Promise<PropertyResult> {
  const t0 = performance.now();
  const cases = opts.cases ?? (opts.index ? referenceConversionCases(opts.index) : []);
  const styleWork = await mkdtemp(join(tmpdir(), "xcodec2-parity-styles-"));
  try {
    if (opts.styles !== false && !opts.cases) cases.push(...(await generatedStyleCases(styleWork, 20260816)));
    return await convertAndCompare(cases, opts, t0);
  } finally {
    await rm(styleWork, { recursive: true, force: true });
  }
}

async function convertAndCompare(
  cases: ConversionCase[],
  opts: ConversionOptions,
  t0: number,
): Promise<PropertyResult> {
  if (!cases.length) {
    return notRun(
      CONVERSION,
      "no reference original checkpoints (fixtures/reference is not installed)",
      opts.seed,
      "folded weight max rel Δ",
    );
  }
  const { existsSync } = await import("node:fs");
  const { convertCheckpoint } = await import("../../convert/mod.ts");
  const tally = new Tally();
  const problems: string[] = [];
  const perCase: Record<string, unknown>[] = [];
  for (const c of cases) {
    if (!existsSync(c.source)) continue;
    const work = await mkdtemp(join(tmpdir(), "xcodec2-parity-conv-"));
    try {
      const report = await convertCheckpoint({ source: c.source, out: join(work, "out"), log: () => {} });
      const folded = new Set(report.tensors.filter((r) => r.action === "fold_weight_norm").flatMap((r) => r.targets));
      const ours = await openSafetensors(join(work, "out", "model.safetensors"));
      const theirs = await openSafetensors(join(c.expected, "model.safetensors"));
      try {
        const r = await compareCheckpoints(ours, theirs, folded, tally);
        perCase.push({ case: c.label, ...r });
        problems.push(...r.problems.map((p) => `${c.label}: ${p}`));
      } finally {
        await ours.close();
        await theirs.close();
      }
    } catch (e) {
      tally.cases++;
      tally.failures++;
      problems.push(`${c.label}: conversion threw ${(e as Error).message}`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  return fromTally(CONVERSION, tally, opts.seed, "folded weight max rel Δ", {
    seconds: (performance.now() - t0) / 1000,
    reason: problems.length
      ? problems.slice(0, 5).join("; ") + (problems.length > 5 ? ` (+${problems.length - 5} more)` : "")
      : undefined,
    counterexample: problems[0],
    details: { perCase },
  });
}

/** Tensor-by-tensor comparison; every tensor is one case. */
export async function compareCheckpoints(
  ours: SafetensorsFile,
  theirs: SafetensorsFile,
  folded: Set<string>,
  tally: Tally,
): Promise<{ exact: number; withinTolerance: number; problems: string[] }> {
  const problems: string[] = [];
  let exact = 0, withinTolerance = 0;
  const ourNames = new Set(ours.list().map((t) => t.name));
  for (const t of theirs.list()) {
    tally.cases++;
    const mine = ours.info(t.name);
    if (!mine) {
      tally.failures++;
      problems.push(`missing ${t.name}`);
      continue;
    }
    ourNames.delete(t.name);
    if (mine.dtype !== t.dtype || JSON.stringify(mine.shape) !== JSON.stringify(t.shape)) {
      tally.failures++;
      problems.push(
        `${t.name}: ${mine.dtype}${JSON.stringify(mine.shape)} where upstream has ${t.dtype}${JSON.stringify(t.shape)}`,
      );
      continue;
    }
    const [a, b] = [await ours.read(t.name), await theirs.read(t.name)];
    if (bytesEqual(a, b)) {
      exact++;
      continue;
    }
    if (!t.dtype.startsWith("F") || !folded.has(t.name)) {
      tally.failures++;
      problems.push(`${t.name}: not bit-identical (${folded.has(t.name) ? "folded" : "not a folded weight"})`);
      continue;
    }
    const x = bytesToFloat32(a, t.dtype, t.name), y = bytesToFloat32(b, t.dtype, t.name);
    let worstRel = 0, bad = 0;
    for (let i = 0; i < x.length; i++) {
      if (x[i] === y[i]) continue;
      const rel = Math.abs(x[i] - y[i]) / Math.max(Math.abs(y[i]), 1e-30);
      worstRel = Math.max(worstRel, rel);
      if (!(rel <= TOLERANCES.weightRel || ulpDistance(x[i], y[i]) <= TOLERANCES.weightUlps)) bad++;
    }
    tally.error(worstRel);
    if (bad) {
      tally.failures++;
      problems.push(`${t.name}: ${bad} element(s) beyond 2 ulp / 1e-6 rel (max rel ${worstRel.toExponential(2)})`);
    } else withinTolerance++;
  }
  for (const extra of ourNames) {
    tally.cases++;
    tally.failures++;
    problems.push(`extra tensor ${extra}`);
  }
  return { exact, withinTolerance, problems };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
