/**
 * The architecture walk is the one source of names, shapes and FLOPs: each view derived from it is checked here
 * against what upstream produced (the tiny-a reference manifests) or against a count by hand, and the family's
 * per-model facts are shown to be config values.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { buildXcodec2Config } from "../converted_config.ts";
import { decoderFlops, encoderFlops } from "../onnx/flops.ts";
import { loadOriginalArchitecture } from "../original_config.ts";
import {
  AA_KERNEL,
  expectedConvertedTensors,
  modelFacts,
  originalTensors,
  readXcodec2Config,
  sourceLookup,
  walkArchitecture,
  type Xcodec2Config,
} from "./mod.ts";

const TINY = join(import.meta.dirname!, "..", "..", "fixtures", "reference", "checkpoints", "tiny-a");
type Manifest = Record<string, { shape: number[]; sha256: string }>;
const manifest = async (f: string) =>
  (JSON.parse(await readFile(join(TINY, f), "utf8")) as { tensors: Manifest }).tensors;
const converted = await manifest("converted_manifest.json");
const original = await manifest("original_manifest.json");
const cfg = await readXcodec2Config(join(TINY, "converted", "config.json"));
const { arch } = await loadOriginalArchitecture(join(TINY, "original", "config.json"));
const shapes = (m: Manifest) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.shape]));

describe("views of the walk", () => {
  test("converted names and shapes equal upstream's converted tiny-a", () => {
    const ours = expectedConvertedTensors(cfg);
    assert.equal(ours.length, 283);
    assert.deepEqual(Object.fromEntries(ours.map((t) => [t.name, t.shape])), shapes(converted));
  });

  test("original names and shapes equal the original tiny-a (buffers included)", () => {
    const ours = originalTensors(arch);
    assert.equal(ours.length, 453);
    assert.deepEqual(Object.fromEntries(ours.map((t) => [t.name, t.shape])), shapes(original));
  });

  test("the rename: every copied tensor's bytes are where upstream's conversion put them", () => {
    const lookup = sourceLookup(cfg, arch.semanticModel.num_hidden_layers);
    const kinds = new Map<string, number>();
    for (const [name, t] of Object.entries(original)) {
      const entries = lookup.get(name);
      assert.ok(entries?.length === 1, `${name}: one walk entry`);
      const e = entries[0]!;
      kinds.set(e.transform.kind, (kinds.get(e.transform.kind) ?? 0) + 1);
      if (e.transform.kind === "copy") assert.equal(converted[e.outputs[0]!.name]?.sha256, t.sha256, name);
      if (e.transform.kind === "drop") assert.equal(e.outputs.length, 0, name);
      else for (const o of e.outputs) assert.ok(converted[o.name], `${name} → ${o.name}`);
    }
    // 283 outputs = 170 copies + 37 folded (74 g/v) + 2 × 3 split; 72 filters + 1 window + 2 × 32 semantic dropped
    assert.deepEqual(Object.fromEntries(kinds), { copy: 240, fold_weight_norm: 74, split_qkv: 2, drop: 137 });
  });

  test("every stored form is looked up: weight-norm styles, plain and stale weights, training keys, buffers", () => {
    const lookup = sourceLookup(cfg, 4);
    const one = (n: string) => lookup.get(n)!.map((e) => e.transform.kind);
    const conv = "CodecEnc.conv_blocks.1.block.4";
    assert.deepEqual(one(`${conv}.weight_g`), ["fold_weight_norm"]);
    assert.deepEqual(one(`${conv}.parametrizations.weight.original1`), ["fold_weight_norm"]);
    assert.deepEqual(one(`${conv}.weight`), ["copy", "drop"]); // the weight alone, or stale beside g/v
    assert.deepEqual(one("fc_post_s.weight"), ["drop"]);
    assert.deepEqual(one("generator.quantizer.layers.0.implicit_codebook"), ["drop"]);
    assert.deepEqual(one("acoustic_encoder.block.0.conv1.weight"), ["copy"]); // a converted checkpoint is a source too
    const ambiguous = [...lookup].filter(([, e]) => e.length > 1);
    assert.ok(ambiguous.every(([, e]) => e.every((x) => x.weightNormOf !== undefined)));
  });
});

describe("FLOPs from the walk", () => {
  /** By hand, from the config's widths and the kernel sizes of upstream's modules. */
  function byHand(c: Xcodec2Config, seconds: number) {
    const frames = 50 * seconds, samples = 16000 * seconds;
    const s = c.semantic_model_config, S = s.hidden_size, I = s.intermediate_size;
    const positions = s.left_max_position_embeddings + s.right_max_position_embeddings + 1;
    const layer = 2 * (2 * 2 * S * I) + 4 * 2 * S * S + 2 * 2 * S * frames + 2 * S * positions +
      2 * 2 * S * S + 2 * S * s.conv_depthwise_kernel_size + 2 * S * S;
    const semantic = frames * (2 * 160 * S + s.num_hidden_layers * layer);
    const adapter = frames * 4 * 2 * S * S * 3;
    const aa = (ch: number, rate: number) => rate * (2 * 2 * ch * (AA_KERNEL / 2 + 1) + 2 * ch * AA_KERNEL);
    let rate = samples, ch = c.encoder_hidden_size;
    let acoustic = rate * 2 * ch * 7;
    for (const stride of c.downsampling_ratios) {
      acoustic += 3 * (2 * aa(ch, rate) + rate * 2 * ch * ch * 7 + rate * 2 * ch * ch) + aa(ch, rate);
      rate /= stride;
      acoustic += rate * 2 * 2 * ch * ch * 2 * stride;
      ch *= 2;
    }
    acoustic += aa(ch, rate) + rate * 2 * c.hidden_size * ch * 3;
    const Q = c.quantization_dim, L = c.quantization_levels.length, H = c.hidden_size;
    const head = frames * 2 * (Q * (H + S) + L * Q + Q * L);
    return { semantic_encoder: semantic, semantic_adapter: adapter, acoustic_encoder: acoustic, fc_encoder_fsq: head };
  }

  test("encoder FLOPs equal a count by hand for tiny-a, at 1 s and 7 s", () => {
    for (const seconds of [1, 7]) assert.deepEqual(encoderFlops(cfg, seconds), byHand(cfg, seconds));
  });

  test("decoder FLOPs equal a count by hand: embed and 2 × 2 ResNet blocks, FSQ and fc, the head's inverse DFT", () => {
    const k = 50, H = cfg.hidden_size, nFft = 1280;
    const d = decoderFlops(cfg, 1);
    assert.equal(d.convs, k * (2 * H * H * 7 + 2 * 2 * 2 * 2 * H * H * 3)); // embed + 2 stages × 2 blocks × 2 convs
    assert.equal(d.istft_head, k * (2 * (nFft + 2) * H + 2 * (nFft + 2) * nFft));
    const L = cfg.quantization_levels.length, Q = cfg.quantization_dim;
    assert.equal(d.fsq_fc, k * 2 * (Q * L + H * Q));
  });
});

describe("the family's per-model facts are config values", () => {
  // Configs the validator does not accept yet (issue 15): the walk and its views take them as they are.
  const member = (o: Partial<Xcodec2Config>): Xcodec2Config => ({ ...cfg, ...o });

  test("24 kHz out (NeuCodec): decoder hop 480 and n_fft 1920 in the head, the encoder unchanged", () => {
    const neu = member({ sampling_rate: 24000, input_sampling_rate: 16000 });
    const f = modelFacts(neu);
    assert.deepEqual([f.encoderHop, f.decoderHop, f.nFft, f.codesPerSecond], [320, 480, 1920, 50]);
    const shape = (c: Xcodec2Config, n: string) => expectedConvertedTensors(c).find((t) => t.name === n)?.shape;
    assert.deepEqual(shape(neu, "acoustic_decoder.head.linear.weight"), [1922, cfg.hidden_size]);
    const window = walkArchitecture(neu).tensors.find((t) => t.original === "generator.head.istft.window");
    assert.deepEqual(window?.shape, [1920]);
    assert.equal(encoderFlops(neu, 1).acoustic_encoder, encoderFlops(cfg, 1).acoustic_encoder);
  });

  test("44.1 kHz and 20 decoder layers (WideCodec): hop 882, n_fft 3528, 20 layers", () => {
    const wide = member({ sampling_rate: 44100, input_sampling_rate: 16000, num_hidden_layers: 20 });
    assert.deepEqual([modelFacts(wide).decoderHop, modelFacts(wide).nFft], [882, 3528]);
    const layers = new Set(
      expectedConvertedTensors(wide).map((t) => /^acoustic_decoder\.layers\.(\d+)\./.exec(t.name)?.[1]),
    );
    layers.delete(undefined);
    assert.equal(layers.size, 20);
  });

  test("pooled codes (25TPS): half the code rate, hop 960, the decoder runs at 25 steps a second", () => {
    const pooled = member({ sampling_rate: 24000, input_sampling_rate: 16000, code_pooling: 2 });
    const f = modelFacts(pooled);
    assert.deepEqual([f.codesPerSecond, f.decoderHop, f.nFft], [25, 960, 3840]);
    const rate = (n: string) => expectedConvertedTensors(pooled).find((t) => t.name === n)?.rate;
    assert.equal(rate("fc_encoder.weight"), 50);
    assert.equal(rate("quantizer.project_in.weight"), 25);
    assert.equal(rate("acoustic_decoder.embed.weight"), 25);
  });
});

test("the config the converter builds from the original facts walks to the same converted table", () => {
  const again = buildXcodec2Config(arch);
  assert.deepEqual(
    expectedConvertedTensors(again).map((t) => [t.name, t.shape]),
    expectedConvertedTensors(cfg).map((t) => [t.name, t.shape]),
  );
});
