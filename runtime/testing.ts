/**
 * Test support for the runtime and CLI tests: paths of the reference fixtures, the clips as float32, reference
 * tensors, and the tiny converted checkpoint with its ONNX graphs exported ONCE per process into a temporary folder
 * (so test files do not each rebuild the graphs). Temporary folders are removed when the process exits.
 * Used only by tests.
 */
import { cp, mkdtemp } from "node:fs/promises";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exportOnnx } from "../convert/mod.ts";
import { readAudio } from "./audio/mod.ts";
import { readReferenceTensors, type ReferenceTensor } from "./features/reference_tensors.ts";

export const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
export const REFERENCE = join(REPO_ROOT, "fixtures/reference");
export const TINY_CONVERTED = join(REFERENCE, "checkpoints/tiny-a/converted");
export const TINY_ORIGINAL = join(REFERENCE, "checkpoints/tiny-a/original");

/** The 8 reference clips (fixtures/reference/clips/<name>.wav). */
export const CLIP_NAMES = [
  "speech_1000",
  "speech_1600",
  "speech_15999",
  "speech_16000",
  "speech_16001",
  "noise_16123",
  "speech_36817",
  "espeak_en",
] as const;
export type ClipName = (typeof CLIP_NAMES)[number];

export const clipPath = (name: string) => join(REFERENCE, "clips", `${name}.wav`);

export async function readClip(name: string): Promise<Float32Array> {
  return (await readAudio(clipPath(name))).samples;
}

export function referenceTensors(clip: string): Promise<Map<string, ReferenceTensor>> {
  return readReferenceTensors(join(REFERENCE, "tensors/tiny-a", `single_${clip}.safetensors`));
}

interface CaseFacts {
  "fsq_fragile_frames_1e-4": number[];
}
let cases: Record<string, CaseFacts> | undefined;

/** Frames whose codes may legitimately flip (an FSQ value within 1e-4 of a rounding boundary). */
export function fragileFrames(clip: string): number[] {
  cases ??= JSON.parse(readFileSync(join(REFERENCE, "cases.json"), "utf8")).cases as Record<string, CaseFacts>;
  return cases[`tiny-a/single/${clip}`]["fsq_fragile_frames_1e-4"];
}

const tempDirs: string[] = [];
let cleanupHooked = false;

/** A fresh temporary folder, removed when the process exits. */
export async function tempDir(prefix = "xcodec2-test-"): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(d);
  if (!cleanupHooked) {
    cleanupHooked = true;
    const cleanup = () => {
      for (const t of tempDirs.splice(0)) rmSync(t, { recursive: true, force: true });
    };
    process.on("exit", cleanup);
    // Deno's test runner ends without Node's "exit" event; it does dispatch the web "unload" event.
    (globalThis as { addEventListener?: (type: string, fn: () => void) => void }).addEventListener?.("unload", cleanup);
  }
  return d;
}

let prepared: Promise<string> | undefined;

/** A temporary copy of the tiny converted checkpoint with `onnx/` (fp32 + fp16) exported into it, once per process. */
export function preparedTinyModel(): Promise<string> {
  prepared ??= (async () => {
    const dir = join(await tempDir("xcodec2-tiny-"), "tiny-a");
    await cp(TINY_CONVERTED, dir, { recursive: true });
    await exportOnnx(dir);
    return dir;
  })();
  return prepared;
}

/** The error figures the parity suite reports (Infinity when the lengths differ or a value is not finite). */
export { maxAbsDiff, relL2 } from "../parity/metrics.ts";

/** Fraction of equal positions (0 when the lengths differ). */
export function agreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) return 0;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}
