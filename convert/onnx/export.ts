/**
 * Export a converted checkpoint to the transformers.js layout that `contract.ts` names:
 *   <dir>/onnx/encoder_model.onnx, decoder_model.onnx (+ fp16 variants, + decoder_model_int8.onnx when asked),
 *   external data beside each, export.json.
 * The graphs are built in TypeScript from the converted weights (`encoder/`, `decoder/`), not traced.
 *
 * WHY the fp32 graphs have their own `*.onnx_data` instead of pointing into `../model.safetensors` (which would
 * store the fp32 weights once, 2.5 GB less at full size): measured with onnxruntime-node 1.30, a graph in `onnx/`
 * whose external data location is `../model.safetensors` is refused ("External data path escapes model directory";
 * pinned by a test in `graph.test.ts`), and transformers.js fetches only the `onnx/` files of a repository. Unaligned
 * offsets would have been fine (accepted, read instead of mapped). Sharing would need the graphs at the top level,
 * which is not the transformers.js layout, so each graph carries its own weights.
 */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { GraphBuilder } from "./graph.ts";
import { INT8_MIN_DIM } from "./quantize.ts";
import { WeightError, Weights } from "./weights.ts";
import { buildEncoder } from "./encoder/encoder.ts";
import { buildDecoder } from "./decoder/decoder.ts";
import { modelFacts, readXcodec2Config, type Xcodec2Config } from "../architecture/mod.ts";
import { claimTempPath } from "../../common/temp_files.ts";
import {
  EXPORT_FORMAT,
  EXPORT_MANIFEST,
  GRAPH_PARTS,
  graphFileName,
  type Precision,
  PRECISION_DTYPE,
  PRECISION_PARTS,
  PRECISIONS,
} from "./contract.ts";

export interface ExportOptions {
  /** per-item masks (default true); false writes the naive, leaking batch graphs (upstream's behaviour) */
  masks?: boolean;
  /** also write the fp16 graphs (default true) */
  fp16?: boolean;
  /** also write the int8 graphs (`PRECISION_PARTS.int8`: the decoder) (default false) */
  int8?: boolean;
  /** output folder (default `<convertedDir>/onnx`) */
  out?: string;
  log?: (msg: string) => void;
}

export interface ExportedGraph {
  file: string;
  precision: Precision;
  modelBytes: number;
  dataBytes: number;
  seconds: number;
}
export interface ExportReport {
  dir: string;
  masks: boolean;
  graphs: ExportedGraph[];
}

/** Tensors of a converted checkpoint that no inference graph reads (kept by upstream for training). */
const UNUSED_AT_INFERENCE = (name: string) => name === "semantic_encoder.masked_spec_embed";

export async function exportOnnx(convertedDir: string, opts: ExportOptions = {}): Promise<ExportReport> {
  const masks = opts.masks ?? true;
  const out = opts.out ?? join(convertedDir, "onnx");
  const cfg = await readXcodec2Config(join(convertedDir, "config.json"));
  const w = await Weights.open(convertedDir);
  try {
    // All graphs go to a temporary sibling folder that replaces `out` only once every file is written, so a failed
    // or interrupted export never leaves a mix of old and new graphs (external data paths are relative: the folder
    // can move).
    const tmp = await claimTempPath(out, opts.log);
    try {
      const report = await exportWith(w, cfg, tmp, masks, opts);
      await rm(out, { recursive: true, force: true });
      await rename(tmp, out);
      (opts.log ?? (() => {}))(`exported ONNX graphs to ${out}`);
      return {
        ...report,
        dir: out,
        graphs: report.graphs.map((g) => ({ ...g, file: join(out, g.file.slice(tmp.length + 1)) })),
      };
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  } finally {
    w.close();
  }
}

async function exportWith(
  w: Weights,
  cfg: Xcodec2Config,
  out: string,
  masks: boolean,
  opts: ExportOptions,
): Promise<ExportReport> {
  const log = opts.log ?? (() => {});
  await mkdir(out, { recursive: true });
  const precisions = PRECISIONS.filter((
    p,
  ) => (p === "fp16" ? opts.fp16 !== false : p === "int8" ? opts.int8 === true : true));
  const graphs: ExportedGraph[] = [];
  const f = modelFacts(cfg);
  // hop_length: input samples per encoder frame (as before the family); samples_per_code: the decoder's output hop
  const metadata = {
    format: EXPORT_FORMAT,
    masks: String(masks),
    hop_length: String(f.encoderHop),
    input_sample_rate: String(f.inputSampleRate),
    output_sample_rate: String(f.sampleRate),
    samples_per_code: String(f.decoderHop),
  };
  for (const part of GRAPH_PARTS) {
    for (const precision of precisions.filter((p) => PRECISION_PARTS[p].includes(part))) {
      const t0 = performance.now();
      const g = new GraphBuilder(`xcodec2_${part}`, PRECISION_DTYPE[precision]);
      if (precision === "int8") g.int8MinDim = INT8_MIN_DIM;
      if (part === "encoder") buildEncoder(g, w, cfg, { masks });
      else buildDecoder(g, w, cfg, { masks });
      const file = join(out, graphFileName(part, precision));
      const sizes = await g.save(file, { metadata });
      const seconds = (performance.now() - t0) / 1000;
      graphs.push({ file, precision, ...sizes, seconds });
      log(
        `built ${basename(file)} (${((sizes.modelBytes + sizes.dataBytes) / 1e6).toFixed(1)} MB, ${
          seconds.toFixed(1)
        } s)`,
      );
    }
  }
  const unused = w.unused(UNUSED_AT_INFERENCE);
  if (unused.length) {
    throw new WeightError(
      `${w.path}: the exported graphs do not use ${unused.length} tensor(s): ${unused.slice(0, 8).join(", ")}`,
    );
  }
  const manifest = {
    format: EXPORT_FORMAT,
    masks,
    config: configSummary(cfg),
    graphs: graphs.map((g) => ({ ...g, file: g.file.slice(out.length + 1) })),
  };
  const manifestPath = join(out, EXPORT_MANIFEST);
  const tmp = await claimTempPath(manifestPath);
  await writeFile(tmp, JSON.stringify(manifest, null, 2) + "\n");
  await rename(tmp, manifestPath);
  return { dir: out, masks, graphs };
}

function configSummary(cfg: Xcodec2Config) {
  const f = modelFacts(cfg);
  return {
    model_type: cfg.model_type,
    input_sample_rate: f.inputSampleRate,
    output_sample_rate: f.sampleRate,
    codes_per_second: f.codesPerSecond,
    samples_per_code: f.decoderHop,
    hidden_size: cfg.hidden_size,
    num_hidden_layers: cfg.num_hidden_layers,
    quantization_dim: cfg.quantization_dim,
    quantization_levels: cfg.quantization_levels,
    semantic_layers: cfg.semantic_model_config.num_hidden_layers,
  };
}
