/** Every fuzz target, by name. */
import type { FuzzTarget } from "../harness.ts";
import { audioTarget } from "./audio.ts";
import { codesTarget } from "./codes.ts";
import { configTarget } from "./config.ts";
import { pickleTarget, zipTarget } from "./pickle.ts";
import { safetensorsTarget } from "./safetensors.ts";

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
