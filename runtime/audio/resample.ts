/**
 * Sample-rate conversion with libsamplerate (Secret Rabbit Code) compiled to WASM, via
 * @alexanderolsen/libsamplerate-js, best-quality sinc converter. Loaded on first use so that programs that never
 * resample do not pay for instantiating the WASM module.
 */
import { AudioError } from "./errors.ts";

interface Src {
  simple(data: Float32Array): Float32Array;
  destroy(): void;
}
interface LibSampleRate {
  create(channels: number, fromRate: number, toRate: number, opts: { converterType: number }): Promise<Src>;
  ConverterType: { SRC_SINC_BEST_QUALITY: number };
}

async function loadLibSampleRate(): Promise<LibSampleRate> {
  // A webpack UMD bundle: Bun exposes its named exports, Deno only `default`.
  const m = (await import("@alexanderolsen/libsamplerate-js")) as unknown as Partial<LibSampleRate> & {
    default?: LibSampleRate;
  };
  return typeof m.create === "function" ? (m as LibSampleRate) : (m.default as LibSampleRate);
}

/** Mono `samples` from `fromRate` to `toRate`. Returns the input unchanged when the rates are equal. */
export async function resampleMono(
  samples: Float32Array,
  fromRate: number,
  toRate: number,
  file: string,
): Promise<Float32Array> {
  if (fromRate === toRate) return samples;
  let src: Src | undefined;
  try {
    const lib = await loadLibSampleRate();
    src = await lib.create(1, fromRate, toRate, { converterType: lib.ConverterType.SRC_SINC_BEST_QUALITY });
    // simple() copies its result out of WASM memory, and switches to chunked streaming above 4 MB by itself.
    return src.simple(samples);
  } catch (e) {
    throw new AudioError(
      file,
      "decode-failed",
      `resampling ${fromRate} Hz → ${toRate} Hz failed: ${(e as Error)?.message ?? e}`,
      { cause: e },
    );
  } finally {
    src?.destroy();
  }
}
