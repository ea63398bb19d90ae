/**
 * `xcodec2 parity --against outputs.safetensors`: another implementation's tensors on a parity kit, compared with the
 * kit's expected tensors under the same gates, reported as three properties (features, codes, audio).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { openSafetensors, type SafetensorsFile } from "../convert/mod.ts";
import { tieFrames } from "./fsq_ties.ts";
import { KitError, kitTensor, readKitManifest } from "./kit.ts";
import { maxAbsDiff } from "./metrics.ts";
import { makeReport, type ParityReport } from "./report.ts";
import { fromTally, notRun, Tally } from "./result.ts";
import { bytesToFloat32, bytesToInt32 } from "./tensor_data.ts";
import { featureTolerance, TOLERANCES } from "./tolerances.ts";

async function readFloat(f: SafetensorsFile, name: string): Promise<Float32Array | undefined> {
  const info = f.info(name);
  return info ? bytesToFloat32(await f.read(name), info.dtype, `${f.path}: ${name}`) : undefined;
}
async function readInt(f: SafetensorsFile, name: string): Promise<Int32Array | undefined> {
  const info = f.info(name);
  return info ? bytesToInt32(await f.read(name), info.dtype, `${f.path}: ${name}`) : undefined;
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
  const features = new Tally(), codes = new Tally(), audio = new Tally();
  const problems = { features: [] as string[], codes: [] as string[], audio: [] as string[] };
  let featuresSeen = 0;
  try {
    for (const clip of kit.clips) {
      // features (optional in their outputs)
      const ef = await readFloat(expected, kitTensor.features(clip.name));
      const tf = await readFloat(theirs, kitTensor.features(clip.name));
      if (ef && tf) {
        featuresSeen++;
        features.cases++;
        const e = maxAbsDiff(tf, ef);
        features.error(e);
        if (!(e <= featureTolerance(clip.kind))) {
          features.failures++;
          problems.features.push(
            `${clip.name}: max |Δ| ${e.toExponential(2)} > ${featureTolerance(clip.kind)}${
              tf.length !== ef.length ? ` (${tf.length} values, expected ${ef.length})` : ""
            }`,
          );
        }
      }
      // codes (required)
      codes.cases++;
      const ec = (await readInt(expected, kitTensor.codes(clip.name)))!;
      const tc = await readInt(theirs, kitTensor.codes(clip.name));
      if (!tc) {
        codes.failures++;
        problems.codes.push(`${clip.name}: missing ${kitTensor.codes(clip.name)}`);
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
        codes.ties += ties.size;
        let equal = 0;
        const bad: number[] = [];
        for (let t = 0; t < ec.length; t++) {
          if (tc[t] === ec[t]) equal++;
          else if (!ties.has(t)) bad.push(t);
        }
        codes.codes(ec.length, equal);
        codes.error(ec.length - equal);
        if (tc.length !== ec.length) {
          codes.failures++;
          problems.codes.push(`${clip.name}: ${tc.length} codes, expected ${ec.length}`);
        } else if (bad.length) {
          codes.failures++;
          problems.codes.push(
            `${clip.name}: codes differ at ${bad.length} non-tie frame(s), first ${bad[0]} (${tc[bad[0]]} vs ${
              ec[bad[0]]
            })`,
          );
        }
      }
      // audio (required)
      audio.cases++;
      const ea = (await readFloat(expected, kitTensor.audio(clip.name)))!;
      const ta = await readFloat(theirs, kitTensor.audio(clip.name));
      if (!ta) {
        audio.failures++;
        problems.audio.push(`${clip.name}: missing ${kitTensor.audio(clip.name)}`);
        continue;
      }
      const e = maxAbsDiff(ta, ea);
      audio.error(e);
      audio.offerWorst({ title: clip.name, a: ta, b: ea, aLabel: "theirs", bLabel: "expected", error: e });
      if (!(e <= TOLERANCES.audioAbs)) {
        audio.failures++;
        problems.audio.push(
          `${clip.name}: max |Δ| ${e.toExponential(2)} > ${TOLERANCES.audioAbs}${
            ta.length !== ea.length ? ` (${ta.length} samples, expected ${ea.length})` : ""
          }`,
        );
      }
    }
  } finally {
    await expected.close();
    await theirs.close();
  }
  const why = (
    p: string[],
  ) => (p.length
    ? { reason: p.slice(0, 4).join("; ") + (p.length > 4 ? ` (+${p.length - 4} more)` : ""), counterexample: p[0] }
    : {});
  const props = [
    featuresSeen
      ? fromTally("features", features, seed, "max |Δ|", why(problems.features))
      : notRun("features", "the outputs have no <clip>.input_features tensors", seed, "max |Δ|"),
    fromTally("codes", codes, seed, "differing codes per clip", why(problems.codes)),
    fromTally("audio (from expected codes)", audio, seed, "max |Δ|", why(problems.audio)),
  ];
  return makeReport("external", seed, props, {
    model: `${outputsPath} against kit ${kitDir}`,
    seconds: (performance.now() - t0) / 1000,
  });
}
