/**
 * `xcodec2 parity --against outputs.safetensors`: another implementation's tensors on a parity kit, compared with the
 * kit's expected tensors under the same gates, reported as three properties (features, codes, audio).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { type DType, openSafetensors, type SafetensorsFile } from "../convert/mod.ts";
import { tieFrames } from "./fsq_ties.ts";
import { KitError, kitTensor, readKitManifest } from "./kit.ts";
import { maxAbsDiff } from "./metrics.ts";
import { makeReport, type ParityReport } from "./report.ts";
import { fromTally, notRun, Tally } from "./result.ts";
import { bytesToFloat32, bytesToInt32 } from "./tensor_data.ts";
import { featureTolerance, TOLERANCES } from "./tolerances.ts";

/** Tensor `name` of `f` decoded by `as` (bytesToFloat32 or bytesToInt32), or undefined when `f` lacks it. */
async function readTensor<T>(
  f: SafetensorsFile,
  name: string,
  as: (bytes: Uint8Array, dtype: DType, name: string) => T,
): Promise<T | undefined> {
  const info = f.info(name);
  return info ? as(await f.read(name), info.dtype, `${f.path}: ${name}`) : undefined;
}
const readFloat = (f: SafetensorsFile, name: string) => readTensor(f, name, bytesToFloat32);
const readInt = (f: SafetensorsFile, name: string) => readTensor(f, name, bytesToInt32);

/** One of the three properties: its tally and the clips that failed it, with why. */
class Check {
  readonly tally = new Tally();
  readonly problems: string[] = [];

  fail(problem: string): void {
    this.tally.failures++;
    this.problems.push(problem);
  }

  /** Their values against the expected ones under an absolute gate; returns the max |Δ|. */
  maxAbs(clip: string, theirs: Float32Array, expected: Float32Array, gate: number, unit: string): number {
    const e = maxAbsDiff(theirs, expected);
    this.tally.error(e);
    if (!(e <= gate)) {
      const lengths = theirs.length !== expected.length
        ? ` (${theirs.length} ${unit}, expected ${expected.length})`
        : "";
      this.fail(`${clip}: max |Δ| ${e.toExponential(2)} > ${gate}${lengths}`);
    }
    return e;
  }

  /** The first four problems, for the report. */
  why(): { reason?: string; counterexample?: string } {
    const p = this.problems;
    if (!p.length) return {};
    return {
      reason: p.slice(0, 4).join("; ") + (p.length > 4 ? ` (+${p.length - 4} more)` : ""),
      counterexample: p[0],
    };
  }
}

/** The directory holding kit.json: `kitDir`, else the outputs file's own folder. */
export function resolveKitDir(outputs: string, kitDir?: string): string {
  const dir = kitDir ?? dirname(outputs);
  if (!existsSync(join(dir, "kit.json"))) {
    throw new KitError(dir, `no kit.json here${kitDir ? "" : " (pass --kit DIR)"}`);
  }
  return dir;
}

export async function compareAgainstKit(outputsPath: string, kitDir: string): Promise<ParityReport> {
  const t0 = performance.now();
  const kit = await readKitManifest(kitDir);
  const expected = await openSafetensors(join(kitDir, "expected.safetensors"));
  const theirs = await openSafetensors(outputsPath);
  const seed = 0;
  const features = new Check(), codes = new Check(), audio = new Check();
  let featuresSeen = 0;
  try {
    for (const clip of kit.clips) {
      // features (optional in their outputs)
      const ef = await readFloat(expected, kitTensor.features(clip.name));
      const tf = await readFloat(theirs, kitTensor.features(clip.name));
      if (ef && tf) {
        featuresSeen++;
        features.tally.cases++;
        features.maxAbs(clip.name, tf, ef, featureTolerance(clip.kind), "values");
      }
      // codes (required)
      codes.tally.cases++;
      const ec = (await readInt(expected, kitTensor.codes(clip.name)))!;
      const tc = await readInt(theirs, kitTensor.codes(clip.name));
      if (!tc) {
        codes.fail(`${clip.name}: missing ${kitTensor.codes(clip.name)}`);
      } else {
        const ties = new Set<number>();
        for (
          const fsq of [
            await readFloat(expected, kitTensor.fsqInput(clip.name)),
            await readFloat(theirs, kitTensor.fsqInput(clip.name)),
          ]
        ) {
          if (fsq) {
            for (const t of tieFrames(fsq, kit.model.quantization_levels, TOLERANCES.fsqTieMargin)) ties.add(t);
          }
        }
        codes.tally.ties += ties.size;
        let equal = 0;
        const bad: number[] = [];
        for (let t = 0; t < ec.length; t++) {
          if (tc[t] === ec[t]) equal++;
          else if (!ties.has(t)) bad.push(t);
        }
        codes.tally.codes(ec.length, equal);
        codes.tally.error(ec.length - equal);
        if (tc.length !== ec.length) {
          codes.fail(`${clip.name}: ${tc.length} codes, expected ${ec.length}`);
        } else if (bad.length) {
          codes.fail(
            `${clip.name}: codes differ at ${bad.length} non-tie frame(s), first ${bad[0]} (${tc[bad[0]]} vs ${
              ec[bad[0]]
            })`,
          );
        }
      }
      // audio (required)
      audio.tally.cases++;
      const ea = (await readFloat(expected, kitTensor.audio(clip.name)))!;
      const ta = await readFloat(theirs, kitTensor.audio(clip.name));
      if (!ta) {
        audio.fail(`${clip.name}: missing ${kitTensor.audio(clip.name)}`);
        continue;
      }
      const e = audio.maxAbs(clip.name, ta, ea, TOLERANCES.audioAbs, "samples");
      audio.tally.offerWorst({ title: clip.name, a: ta, b: ea, aLabel: "theirs", bLabel: "expected", error: e });
    }
  } finally {
    await expected.close();
    await theirs.close();
  }
  const props = [
    featuresSeen
      ? fromTally("features", features.tally, seed, "max |Δ|", features.why())
      : notRun("features", "the outputs have no <clip>.input_features tensors", seed, "max |Δ|"),
    fromTally("codes", codes.tally, seed, "differing codes per clip", codes.why()),
    fromTally("audio (from expected codes)", audio.tally, seed, "max |Δ|", audio.why()),
  ];
  return makeReport("external", seed, props, {
    model: `${outputsPath} against kit ${kitDir}`,
    seconds: (performance.now() - t0) / 1000,
  });
}
