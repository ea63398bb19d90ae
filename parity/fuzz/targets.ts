/** Every fuzz target, by name. */
import type { FuzzTarget } from "./harness.ts";
import { audioTarget } from "./targets/audio.ts";
import { codesTarget } from "./targets/codes.ts";
import { configTarget } from "./targets/config.ts";
import { pickleTarget, zipTarget } from "./targets/pickle.ts";
import { safetensorsTarget } from "./targets/safetensors.ts";

export const TARGETS: readonly FuzzTarget[] = [
  safetensorsTarget,
  pickleTarget,
  zipTarget,
  audioTarget,
  codesTarget,
  configTarget,
];

/** Fixed seed: CI runs the same cases every time; `--seed` explores others. */
export const DEFAULT_SEED = 20_260_816;
