/**
 * What `xcodec2 demo` reads, relative to the reference set (`fixtures/reference/` in a checkout): the tiny original
 * checkpoint, four clips of mixed lengths, and upstream's codes for them. The build copies exactly these into the
 * package (`dist/demo/`, keeping only DEMO_TENSORS of each reference tensor file), so that the demo runs from an
 * installed package, which ships no test fixtures.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Xcodec2Error } from "../common/errors.ts";

export const DEMO_CLIPS = ["espeak_en", "speech_36817", "speech_1000", "noise_16123"];
export const DEMO_CHECKPOINT = "checkpoints/tiny-a/original";
/** The reference tensors the demo compares with (upstream's codes). */
export const DEMO_TENSORS = ["enc.audio_codes"];
export const demoClip = (clip: string): string => `clips/${clip}.wav`;
export const demoReference = (clip: string): string => `tensors/tiny-a/single_${clip}.safetensors`;

/** Every file the demo reads, relative to its data folder. */
export const DEMO_FILES: readonly string[] = [
  `${DEMO_CHECKPOINT}/config.json`,
  `${DEMO_CHECKPOINT}/model.safetensors`,
  "cases.json",
  ...DEMO_CLIPS.map(demoClip),
  ...DEMO_CLIPS.map(demoReference),
];

/** The demo's data folder: `dist/demo/` in the package, else the checkout's reference set. */
export function demoDataRoot(): string {
  const candidates = ["../demo/", "../fixtures/reference/"].map((u) => fileURLToPath(new URL(u, import.meta.url)));
  const root = candidates.find((dir) => existsSync(join(dir, "cases.json")));
  if (!root) throw new DemoDataError(`the demo's data is missing (looked in ${candidates.join(" and ")})`);
  return root;
}

export class DemoDataError extends Xcodec2Error {}
