/**
 * What `xcodec2 demo` reads: the tiny original checkpoint, four clips of mixed lengths and upstream's codes for them,
 * all found through the reference set's `cases.json` (`parity/reference.ts`, its one reader). In a checkout that is
 * `fixtures/reference/`; an installed package ships no test fixtures, so the build copies exactly `demoFiles()` into
 * `dist/demo/` (keeping only the tensors it reads of each case's tensor file), where `demoDataRoot()` finds them.
 */
import { existsSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { Xcodec2Error } from "../common/errors.ts";
import {
  caseTensorsPath,
  referenceClipPath,
  type ReferenceIndex,
  referenceRoot,
  TINY_VARIANT,
  variantDirs,
} from "../parity/reference.ts";

export const DEMO_CLIPS = ["espeak_en", "speech_36817", "speech_1000", "noise_16123"];
/** The reference case of a clip alone through the tiny checkpoint. */
export const demoCase = (clip: string): string => `${TINY_VARIANT}/single/${clip}`;
/** Upstream's codes in a case's tensor file: what the demo compares with. */
export const DEMO_CODES_TENSOR = "enc.audio_codes";
/** The tensors the demo reads of a case's file (the build keeps only these). */
const DEMO_TENSORS = [DEMO_CODES_TENSOR];
/** The files of the tiny original checkpoint folder. */
const CHECKPOINT_FILES = ["config.json", "model.safetensors"];

/** A file the demo reads, relative to the reference root (forward slashes); `tensors`: the only ones it reads there. */
export interface DemoFile {
  file: string;
  tensors?: readonly string[];
}

/** Every file the demo reads. */
export function demoFiles(index: ReferenceIndex): DemoFile[] {
  const rel = (path: string) => relative(index.root, path).split(sep).join("/");
  const original = variantDirs(index, TINY_VARIANT).original;
  return [
    { file: "cases.json" },
    ...CHECKPOINT_FILES.map((f) => ({ file: rel(join(original, f)) })),
    ...DEMO_CLIPS.map((c) => ({ file: rel(referenceClipPath(index, c)) })),
    ...DEMO_CLIPS.map((c) => ({ file: rel(caseTensorsPath(index, demoCase(c))), tensors: DEMO_TENSORS })),
  ];
}

/** The demo's data folder: `dist/demo/` in the package, else the checkout's reference set. */
export function demoDataRoot(): string {
  const shipped = fileURLToPath(new URL("../demo/", import.meta.url));
  if (existsSync(join(shipped, "cases.json"))) return shipped;
  const root = referenceRoot();
  if (!root) throw new DemoDataError(`the demo's data is missing: neither ${shipped} nor the reference set is there`);
  return root;
}

export class DemoDataError extends Xcodec2Error {}
