/**
 * The parity kit: what another implementation needs to prove it matches ours.
 *   <kit>/clips/<name>.wav        inputs (16 kHz mono float32 WAV: reading them as float32 gives the exact samples)
 *   <kit>/expected.safetensors    per clip: features, FSQ inputs, codes, and audio decoded from those codes (ours)
 *   <kit>/kit.json                clip list, model identity, tolerances
 *   <kit>/README.md               tensor names, shapes, tolerances, how to compare
 * The kit is written to a temporary sibling folder and renamed into place.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { FEATURE_DIM, HOP_LENGTH, minClipSamples, SAMPLE_RATE, writeSafetensors } from "../convert/mod.ts";
import { claimTempPath } from "../common/temp_files.ts";
import { writeWav } from "../runtime/audio/mod.ts";
import { extractFeatures } from "../runtime/features/mod.ts";
import { codecFacts, type ParityCodec } from "./codec_handle.ts";
import { readReferenceClip, referenceIndex, referenceRoot } from "./reference.ts";
import { float32Bytes, int32Bytes } from "./tensor_data.ts";
import { TOLERANCES } from "./tolerances.ts";
import { Xcodec2Error } from "../common/errors.ts";

export const KIT_FORMAT = "xcodec2-kit/parity-kit/1";

export interface KitClip {
  name: string;
  kind: string;
  samples: number;
  codes: number;
  file: string;
}
export interface KitManifest {
  format: string;
  model: {
    dir: string;
    weightsSha256: string;
    quantization_levels: number[];
    /** input samples per encoder frame and the input rate */
    hop_length: number;
    sample_rate: number;
    /** the decoded audio's rate and samples per code (absent in kits written before the family: 16 kHz, 320) */
    output_sample_rate?: number;
    samples_per_code?: number;
  };
  device: string;
  clips: KitClip[];
  tolerances: typeof TOLERANCES;
}

/** Tensor names in expected.safetensors (and in the outputs compared by `--against`). */
export const kitTensor = {
  features: (clip: string) => `${clip}.input_features`,
  fsqInput: (clip: string) => `${clip}.fsq_input`,
  codes: (clip: string) => `${clip}.audio_codes`,
  audio: (clip: string) => `${clip}.audio_values`,
};

/** Synthetic clips every kit has: edge lengths (1 sample, one hop ± 1) and signals speech does not cover. */
export function syntheticKitClips(): { name: string; kind: string; samples: Float32Array }[] {
  const tone = new Float32Array(4800).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / SAMPLE_RATE));
  const clipped = new Float32Array(8001).map((_, i) =>
    Math.max(-1, Math.min(1, 6 * Math.sin((2 * Math.PI * 150 * i) / SAMPLE_RATE)))
  );
  return [
    { name: "one_sample", kind: "silence", samples: new Float32Array([0.25]) },
    { name: "silence_321", kind: "silence", samples: new Float32Array(HOP_LENGTH + 1) },
    { name: "tone_440_4800", kind: "tone", samples: tone },
    { name: "clipped_8001", kind: "clipped", samples: clipped },
  ];
}

async function kitClips(): Promise<{ name: string; kind: string; samples: Float32Array }[]> {
  const out = [];
  if (referenceRoot()) {
    const index = referenceIndex();
    for (const [name, c] of Object.entries(index.clips)) {
      out.push({ name, kind: c.kind, samples: await readReferenceClip(index, name) });
    }
  }
  return [...out, ...syntheticKitClips()];
}

export async function writeParityKit(kitDir: string, codec: ParityCodec, modelDir: string): Promise<KitManifest> {
  const target = resolve(kitDir);
  if (existsSync(target) && !existsSync(join(target, "kit.json"))) {
    const { readdir } = await import("node:fs/promises");
    if ((await readdir(target)).length) {
      throw new KitError(target, "exists and is not a parity kit; choose an empty or new folder");
    }
  }
  const tmp = await claimTempPath(target);
  await mkdir(join(tmp, "clips"), { recursive: true });
  try {
    const facts = codecFacts(codec);
    const min = minClipSamples(facts);
    // clips too short for one code of this model (NeuCodec's 320 samples) have nothing to check
    const clips = (await kitClips()).filter((c) => c.samples.length >= min);
    const D = codec.config.quantization_levels.length;
    const tensors: { name: string; dtype: "F32" | "I32"; shape: number[]; data: Uint8Array }[] = [];
    const entries: KitClip[] = [];
    for (const c of clips) {
      const file = `clips/${c.name}.wav`;
      await writeWav(join(tmp, file), c.samples, { sampleRate: facts.inputSampleRate });
      const feats = extractFeatures(c.samples, 0, facts);
      const enc = await codec.encodeBatch([c.samples]);
      const [audio] = await codec.decodeBatch([enc.codes[0]]);
      const T = enc.codes[0].length;
      tensors.push({
        name: kitTensor.features(c.name),
        dtype: "F32",
        shape: [feats.frames, FEATURE_DIM],
        data: float32Bytes(feats.features),
      });
      if (enc.fsqInput[0].length) {
        tensors.push({
          name: kitTensor.fsqInput(c.name),
          dtype: "F32",
          shape: [T, D],
          data: float32Bytes(enc.fsqInput[0]),
        });
      }
      tensors.push({ name: kitTensor.codes(c.name), dtype: "I32", shape: [T], data: int32Bytes(enc.codes[0]) });
      tensors.push({ name: kitTensor.audio(c.name), dtype: "F32", shape: [audio.length], data: float32Bytes(audio) });
      entries.push({ name: c.name, kind: c.kind, samples: c.samples.length, codes: T, file });
    }
    await writeSafetensors(join(tmp, "expected.safetensors"), tensors, { metadata: { format: KIT_FORMAT } });
    const manifest: KitManifest = {
      format: KIT_FORMAT,
      model: {
        dir: resolve(modelDir),
        weightsSha256: await fileSha256(join(modelDir, "model.safetensors")).catch(() => "unknown"),
        quantization_levels: codec.config.quantization_levels,
        hop_length: facts.encoderHop,
        sample_rate: facts.inputSampleRate,
        output_sample_rate: facts.sampleRate,
        samples_per_code: facts.decoderHop,
      },
      device: codec.device,
      clips: entries,
      tolerances: TOLERANCES,
    };
    await writeFile(join(tmp, "kit.json"), JSON.stringify(manifest, null, 2) + "\n");
    await writeFile(join(tmp, "README.md"), kitReadme(manifest));
    await rm(target, { recursive: true, force: true });
    await mkdir(dirname(target), { recursive: true });
    await rename(tmp, target);
    return manifest;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

export class KitError extends Xcodec2Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
  }
}

export async function readKitManifest(kitDir: string): Promise<KitManifest> {
  const p = join(kitDir, "kit.json");
  let json: KitManifest;
  try {
    json = JSON.parse(await readFile(p, "utf8"));
  } catch (e) {
    throw new KitError(p, `not a readable parity kit manifest (${(e as Error).message})`);
  }
  if (json.format !== KIT_FORMAT) {
    throw new KitError(p, `format is ${JSON.stringify(json.format)}, expected ${KIT_FORMAT}`);
  }
  if (!Array.isArray(json.clips)) throw new KitError(p, "has no clip list");
  return json;
}

function fileSha256(file: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash("sha256");
    createReadStream(file).on("data", (d) => h.update(d)).on("error", rej).on("end", () => res(h.digest("hex")));
  });
}

function kitReadme(m: KitManifest): string {
  const t = m.tolerances;
  return `# XCodec2 parity kit

Made by \`xcodec2 parity kit\` (xcodec2-kit) from the converted checkpoint \`${basename(m.model.dir)}\`
(model.safetensors sha256 \`${m.model.weightsSha256}\`), on ${m.device}, fp32.
Run YOUR implementation of the same checkpoint on the clips here, save what it produces under the tensor names
below in one safetensors file, and compare:

    xcodec2 parity --against outputs.safetensors --kit ${"<this folder>"}

## Inputs

\`clips/<name>.wav\`: ${m.clips.length} clips, 16 kHz mono IEEE-float WAV. Reading one as float32 gives exactly the samples
we fed our encoder. Encode each clip ALONE (batch of 1), or batched if your implementation is per-sample exact.

| clip | kind | samples | codes |
| --- | --- | --- | --- |
${m.clips.map((c) => `| ${c.name} | ${c.kind} | ${c.samples} | ${c.codes} |`).join("\n")}

A clip of n samples gives ceil((n + 1) / ${m.model.hop_length}) codes (the waveform is padded by ${m.model.hop_length} − n mod ${m.model.hop_length} samples, at least one).

## Tensors (\`expected.safetensors\`; write yours under the same names)

| name | dtype | shape | meaning | required in your outputs |
| --- | --- | --- | --- | --- |
| \`<clip>.input_features\` | F32 | [T, 160] | w2v-bert input: Kaldi fbank (80 mel), per-clip mean/var normalised, 2 frames stacked | no (compared when present) |
| \`<clip>.fsq_input\` | F32 | [T, ${m.model.quantization_levels.length}] | quantizer \`project_in\` output before the tanh bounds (used to find ties) | no (its ties are added when present) |
| \`<clip>.audio_codes\` | I32 or I64 | [T] (any shape with T values) | codes in 0…${
    m.model.quantization_levels.reduce((a, b) => a * b, 1) - 1
  } | yes |
| \`<clip>.audio_values\` | F32 | [T·${m.model.hop_length}] (any shape with that many values) | audio decoded from the EXPECTED codes in this file (not from yours) | yes |

## Tolerances

- features: max |Δ| ≤ ${t.featuresAbs} (${t.featuresAbsNoise} for \`noise\` clips);
- codes: exact, except tie frames: a frame where some FSQ value, after the double tanh bound and before rounding, lies
  within ${t.fsqTieMargin} of x.5 (computed from the expected \`fsq_input\`, and from yours when given). Ties are counted and shown;
- audio: max |Δ| ≤ ${t.audioAbs}, decoded from the expected codes.

The same gates compare our runtime with the upstream transformers port (\`xcodec2 parity\`, property 4).
`;
}
