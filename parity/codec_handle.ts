/**
 * The slice of the runtime the parity suite drives. The properties take this interface, not the `Xcodec2` class, so
 * they can be checked on a pure-TS stand-in (fixtures/support/test_codec.ts) as well as on the real ONNX runtime.
 */
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { exportOnnx, ONNX_DIR } from "../convert/mod.ts";
import type { DeviceRequest, EncodeResult } from "../runtime/types.ts";

export interface ParityCodec {
  readonly config: { quantization_levels: number[] };
  readonly device: string;
  /** exactly one graph call over the clips as given */
  encodeBatch(clips: Float32Array[]): Promise<EncodeResult>;
  /** exactly one graph call over the code sequences as given */
  decodeBatch(codes: Int32Array[]): Promise<Float32Array[]>;
  dispose?(): Promise<void>;
}

export interface OpenOptions {
  device?: string;
  threads?: number;
  log?: (msg: string) => void;
}

/**
 * Load the real runtime on a converted folder. The runtime module is imported lazily so that the parts of the suite
 * that need no model (reports, kits compared offline) work without onnxruntime.
 */
export async function openCodec(dir: string, opts: OpenOptions = {}): Promise<ParityCodec> {
  const { Xcodec2 } = await import("../runtime/codec.ts");
  return await Xcodec2.load(dir, {
    device: (opts.device ?? "cpu") as DeviceRequest,
    precision: "fp32",
    threads: opts.threads,
    log: opts.log ?? (() => {}),
  });
}

/** Files of a converted folder that an exported copy links to. */
const CONVERTED_FILES = [
  "config.json",
  "model.safetensors",
  "model.safetensors.index.json",
  "preprocessor_config.json",
];

/**
 * A fresh folder that looks like `convertedDir` (its files linked, or copied where links are not allowed) with
 * graphs exported into its own `onnx/`: used for the read-only reference checkpoint and for the mask-free twin of
 * property 6. Returns the folder and a cleanup function.
 */
export async function exportedCopy(
  convertedDir: string,
  opts: { masks: boolean; fp16?: boolean; parent?: string },
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const parent = opts.parent ?? tmpdir();
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, opts.masks ? "xcodec2-parity-" : "xcodec2-parity-nomask-"));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    for (const f of CONVERTED_FILES) {
      const src = resolve(convertedDir, f);
      if (!existsSync(src)) continue;
      await symlink(src, join(dir, f)).catch(() => copyFile(src, join(dir, f)));
    }
    // sharded checkpoints: link every shard named by the index
    const { readdir } = await import("node:fs/promises");
    for (const f of await readdir(convertedDir)) {
      if (/^model-\d+-of-\d+\.safetensors$/.test(f)) {
        await symlink(resolve(convertedDir, f), join(dir, f)).catch(() =>
          copyFile(resolve(convertedDir, f), join(dir, f))
        );
      }
    }
    await exportOnnx(dir, { masks: opts.masks, fp16: opts.fp16 ?? false, out: join(dir, ONNX_DIR) });
    return { dir, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
