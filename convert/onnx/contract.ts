/**
 * The contract between the exporter and every runtime that loads its graphs (ours, transformers.js): file names,
 * graph input / output names and symbolic axes, the export manifest, and which precision each device gets. The graph
 * builders and `export.ts` write what this module names; `runtime/` reads by the same names. Light on purpose (no
 * protobufjs, no graph builder): the runtime imports it on every load.
 *
 * File layout (transformers.js): `<converted>/onnx/<part>_model<suffix>.onnx`, its external weights beside it in
 * `<file>_data`, and `export.json`; the suffixes are transformers.js's `DEFAULT_DTYPE_SUFFIX_MAPPING`
 * (`utils/dtypes.js`).
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "../architecture/mod.ts";

/** Folder of the graphs inside a converted model. */
export const ONNX_DIR = "onnx";

export type GraphPart = "encoder" | "decoder";
export const GRAPH_PARTS: readonly GraphPart[] = ["encoder", "decoder"];

/**
 * Graph precisions, with transformers.js's file suffixes. `int8`: fp32 graphs whose large linear layers run as
 * onnxruntime's DynamicQuantizeMatMul over int8 weights (`quantize.ts`); exported for the parts in `PRECISION_PARTS`.
 */
export type Precision = "fp32" | "fp16" | "int8";
export const PRECISIONS: readonly Precision[] = ["fp32", "fp16", "int8"];
export const PRECISION_SUFFIX: Readonly<Record<Precision, string>> = { fp32: "", fp16: "_fp16", int8: "_int8" };
/** The ONNX element type of a precision's float tensors. */
export const PRECISION_DTYPE: Readonly<Record<Precision, "float32" | "float16">> = {
  fp32: "float32",
  fp16: "float16",
  int8: "float32",
};
/**
 * The parts each precision has a graph for. No int8 encoder: codes are exact-match outputs, and int8 linear layers
 * changed 13 of 501 codes (2.6%) of 10 s on the full-size synthetic checkpoint (the latents moved by 8% relative L2),
 * for 15% less CPU time. A part without a graph in the requested precision runs in fp32.
 */
export const PRECISION_PARTS: Readonly<Record<Precision, readonly GraphPart[]>> = {
  fp32: GRAPH_PARTS,
  fp16: GRAPH_PARTS,
  int8: ["decoder"],
};

/** `encoder_model.onnx`, `decoder_model_fp16.onnx`, … */
export function graphFileName(part: GraphPart, precision: Precision): string {
  return `${part}_model${PRECISION_SUFFIX[precision]}.onnx`;
}

/** A graph's external weights file, beside it: `encoder_model.onnx` → `encoder_model.onnx_data`. */
export function externalDataFileName(graphFile: string): string {
  return `${graphFile}_data`;
}

/** The devices a session runs on, and what a caller may ask for (`auto` picks one of them). */
export type Device = "cpu" | "webgpu" | "cuda";
export type DeviceChoice = Device | "auto";
export const DEVICES: readonly Device[] = ["cpu", "webgpu", "cuda"];
export const DEVICE_CHOICES: readonly DeviceChoice[] = [...DEVICES, "auto"];

/**
 * The precision each graph gets on each device when the caller asks for `auto` (transformers.js keeps the same kind
 * of table, `DEFAULT_DEVICE_DTYPE_MAPPING`). Codes are exact-match outputs and the fp16 encoder flips some (11% on
 * the tiny reference checkpoint, whose activations reach the hundreds), so the encoder stays fp32 everywhere; the
 * decoder's audio moves by ~1e-3 relative in fp16, so GPUs get the faster fp16 decoder.
 */
export const AUTO_PRECISION: Readonly<Record<Device, Readonly<Record<GraphPart, Precision>>>> = {
  cpu: { encoder: "fp32", decoder: "fp32" },
  webgpu: { encoder: "fp32", decoder: "fp16" },
  cuda: { encoder: "fp32", decoder: "fp16" },
};

/** The precision a part runs in: an explicit request (fp32 where that precision has no graph of the part), else the
 * device's `auto` entry where that graph was exported. */
export function graphPrecision(
  part: GraphPart,
  device: Device,
  requested: Precision | "auto",
  hasFp16: boolean,
): Precision {
  if (requested !== "auto") return PRECISION_PARTS[requested].includes(part) ? requested : "fp32";
  const p = AUTO_PRECISION[device][part];
  return p === "fp16" && !hasFp16 ? "fp32" : p;
}

/**
 * Symbolic axes (ONNX `dim_param`) of the graphs. One name per quantity across both graphs: the code axis is
 * `num_codes` in the encoder's outputs and in the decoder's inputs, the audio axis `num_samples` in the encoder's input
 * and in the decoder's output.
 */
export const AXIS = {
  batch: "batch_size",
  samples: "num_samples",
  frames: "num_frames",
  codes: "num_codes",
} as const;

/**
 * Graph inputs and outputs (names as upstream's `Xcodec2Model` and its feature extractor):
 *   encoder: input_values [B,1,T] f32, padding_mask [B,T] i64, input_features [B,F,160] f32,
 *            input_features_mask [B,F] i64 → audio_codes [B,1,K] i64, audio_codes_mask [B,1,K] i64,
 *            latents [B,Q,K] f32, fsq_input [B,K,D] f32;
 *   decoder: audio_codes [B,1,K] i64, audio_codes_mask [B,1,K] i64 → audio_values [B,1,hop·K] f32.
 */
export const ENCODER_INPUTS = {
  values: "input_values",
  paddingMask: "padding_mask",
  features: "input_features",
  featuresMask: "input_features_mask",
} as const;
export const ENCODER_OUTPUTS = {
  codes: "audio_codes",
  codesMask: "audio_codes_mask",
  latents: "latents",
  fsqInput: "fsq_input",
} as const;
export const DECODER_INPUTS = { codes: ENCODER_OUTPUTS.codes, codesMask: ENCODER_OUTPUTS.codesMask } as const;
export const DECODER_OUTPUTS = { audio: "audio_values" } as const;

/** The export manifest, `onnx/export.json`, and its format id (also written into every graph's metadata). */
export const EXPORT_MANIFEST = "export.json";
export const EXPORT_FORMAT = "xcodec2-kit/onnx/1";

export interface ExportManifest {
  format: string;
  /** false for graphs exported with `--no-masks` (upstream's leaking batch) */
  masks: boolean;
  [k: string]: unknown;
}

/** The export manifest of a graph folder, or undefined when it has none. */
export async function readExportManifest(onnxDir: string): Promise<ExportManifest | undefined> {
  const p = join(onnxDir, EXPORT_MANIFEST);
  if (!(await stat(p).then(() => true, () => false))) return undefined;
  let m: unknown;
  try {
    m = JSON.parse(await readFile(p, "utf8"));
  } catch (e) {
    throw new ConfigError(p, `not a readable export manifest (${(e as Error).message}); export the graphs again`);
  }
  if (typeof m !== "object" || m === null || typeof (m as ExportManifest).masks !== "boolean") {
    throw new ConfigError(p, "not an export manifest (no boolean `masks`); export the graphs again");
  }
  return m as ExportManifest;
}
