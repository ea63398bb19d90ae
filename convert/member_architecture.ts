/**
 * Which family member a checkpoint is, and its architecture, from its tensors. None of the published files says
 * which member it is (NeuCodec ships a bare state dict, WideCodec too, the 25TPS model a config with three sizes), so
 * the member is detected from the tensors with the table of known members (members.ts): the ISTFT head's Linear has
 * n_fft + 2 rows and n_fft = 4 · the decoder hop, which differs between every pair of members. The rest of what the
 * file shows (decoder depth, a missing semantic encoder, SnakeBeta's `bias`, the weight-norm form) is reported as
 * evidence; `--family <name>` overrides the detection. Sizes come from the shapes; what shapes cannot show (decoder
 * heads, the hidden state used, the output rate behind the hop) from the member's facts.
 */
import { MAX_COUNT, MAX_WIDTH } from "./architecture/constants.ts";
import type { SemanticModelConfig } from "./architecture/config.ts";
import {
  type FamilyMember,
  MEMBER_NAMES,
  memberByNFft,
  type MemberName,
  memberNFft,
  MEMBERS,
} from "./architecture/members.ts";
import { ConversionError } from "./errors.ts";
import { type OriginalArchitecture, W2V_BERT_2_0_CONFIG } from "./original_config.ts";
import type { TensorInfo } from "./tensor_source.ts";

/** The head's projection, by its original and its converted name. */
const HEAD = ["generator.head.out.weight", "acoustic_decoder.head.linear.weight"] as const;

export interface DetectedMember {
  member: FamilyMember;
  /** `--family` named it (the tensors still have to fit) */
  forced: boolean;
  /** what the tensors show, one line each (conversion.json `member.evidence`) */
  evidence: string[];
}

/** The member a checkpoint's tensors belong to (or `forced`, checked against the head). */
export function detectMember(infos: readonly TensorInfo[], file: string, forced?: MemberName): DetectedMember {
  const byName = new Map(infos.map((t) => [t.name, t]));
  const head = HEAD.map((n) => byName.get(n)).find((t) => t !== undefined);
  if (!head || head.shape.length !== 2) {
    throw new ConversionError(
      `no ISTFT head (${HEAD.join(" or ")}, [n_fft + 2, hidden]): not an XCodec2-family checkpoint`,
      { file },
    );
  }
  const nFft = head.shape[0]! - 2;
  const evidence = [`${head.name} has ${head.shape[0]} rows: n_fft ${nFft}`];
  let member: FamilyMember;
  if (forced !== undefined) {
    member = MEMBERS[forced];
    if (memberNFft(member) !== nFft) {
      throw new ConversionError(
        `--family ${forced}: ${member.title}'s head has n_fft ${memberNFft(member)} (${
          memberNFft(member) + 2
        } rows), this one ${nFft}`,
        { file, tensor: head.name },
      );
    }
  } else {
    const found = memberByNFft(nFft);
    if (!found) {
      const known = MEMBER_NAMES.map((n) => `${n} ${memberNFft(MEMBERS[n])}`).join(", ");
      throw new ConversionError(
        `n_fft ${nFft} is no known member's (${known}); pass --family <name> if the checkpoint is one of them`,
        { file, tensor: head.name },
      );
    }
    member = found;
  }
  evidence[0] += ` → ${member.title} (decoder hop ${member.decoderHop}, ${member.outputSampleRate} Hz)`;
  const depth = countIndexed(infos, /^(?:generator\.backbone\.transformers|acoustic_decoder\.layers)\.(\d+)\./);
  evidence.push(`${depth} decoder layers (the published ${member.title} has ${member.publishedDepth})`);
  const semantic = infos.some((t) => /^(semantic_model|semantic_encoder)\./.test(t.name));
  evidence.push(
    semantic
      ? "semantic encoder (Wav2Vec2-BERT) stored in the file"
      : "no semantic encoder in the file (NeuCodec's original loads facebook/w2v-bert-2.0)",
  );
  const bias = infos.some((t) => /\.act\.bias$/.test(t.name));
  const beta = infos.some((t) => /\.act\.beta$/.test(t.name));
  if (bias || beta) evidence.push(`SnakeBeta's log-beta stored as \`${bias ? "bias" : "beta"}\``);
  const param = infos.some((t) => t.name.includes(".parametrizations.weight.original"));
  const legacy = infos.some((t) => /^CodecEnc\..*\.weight_[gv]$/.test(t.name));
  if (param || legacy) {
    evidence.push(`acoustic encoder weight norm in ${param ? "parametrizations" : "legacy (weight_g/weight_v)"} form`);
  }
  const beside = infos.filter((t) => /^generator\.backbone\..*\.weight_g$/.test(t.name)).length;
  if (beside > 0) evidence.push(`weight_g/weight_v beside ${beside} decoder convs`);
  if (forced !== undefined) evidence.push(`--family ${forced}`);
  return { member, forced: forced !== undefined, evidence };
}

/**
 * The original architecture of a non-XCodec2 member's checkpoint: sizes from the shapes, the rest from the member's
 * facts. `semantic`: the w2v-BERT config read beside the semantic weights (NeuCodec's second source); without it the
 * semantic model's sizes come from its shapes and the rest is facebook/w2v-bert-2.0's config, which every member's
 * original loads (`Wav2Vec2BertModel.from_pretrained("facebook/w2v-bert-2.0")`).
 */
export function memberArchitecture(
  member: FamilyMember,
  infos: readonly TensorInfo[],
  file: string,
  semantic?: SemanticModelConfig,
): OriginalArchitecture {
  const byName = new Map(infos.map((t) => [t.name, t]));
  const shapeOf = (names: string[], what: string): number[] => {
    for (const n of names) {
      const t = byName.get(n);
      if (t) return t.shape;
    }
    throw new ConversionError(`not a ${member.title} checkpoint: no ${what} (${names[0]})`, { file });
  };
  /** A conv's weight shape in any stored form (legacy g/v, parametrizations, plain). */
  const conv = (m: string) =>
    shapeOf([`${m}.weight_v`, `${m}.parametrizations.weight.original1`, `${m}.weight`], `convolution ${m}`);

  const ngf = conv("CodecEnc.conv_blocks.0")[0]!;
  const upRatios: number[] = [];
  for (let i = 1; byName.has(`CodecEnc.conv_blocks.${i}.block.4.bias`); i++) {
    const k = conv(`CodecEnc.conv_blocks.${i}.block.4`)[2]!; // the strided conv: kernel 2·stride
    upRatios.push(k / 2);
  }
  const encoderHiddenDim = conv("CodecEnc.conv_final_block.1")[0]!;
  const decoderHiddenDim = shapeOf(["generator.backbone.embed.weight", "generator.backbone.embed.weight_v"], "decoder")[
    0
  ]!;
  const depth = countIndexed(infos, /^generator\.backbone\.transformers\.(\d+)\.att\.c_attn\.weight$/);
  const heads = member.decoderHeads;
  const vqDim = shapeOf(["fc_prior.weight"], "fc_prior")[0]!;
  const levels = shapeOf(["generator.quantizer.project_in.weight"], "FSQ projection")[0]!;
  const nFft = shapeOf(["generator.head.out.weight"], "ISTFT head")[0]! - 2;
  if (decoderHiddenDim % heads !== 0 || (decoderHiddenDim / heads) % 2 !== 0) {
    throw new ConversionError(
      `decoder width ${decoderHiddenDim} does not split into ${member.title}'s ${heads} attention heads of even size ` +
        "(its original hard-codes the heads)",
      { file, tensor: "generator.backbone.embed.weight" },
    );
  }
  const semanticModel = semantic ?? semanticFromShapes(member, infos, file);
  return {
    member: member.name,
    samplingRate: member.inputSampleRate,
    outputSamplingRate: member.outputSampleRate,
    codePooling: member.codePooling,
    hopLength: upRatios.reduce((a, b) => a * b, 1),
    ngf,
    upRatios,
    dilations: [1, 3, 9],
    encoderHiddenDim,
    decoderHiddenDim,
    depth,
    heads,
    posMebDim: decoderHiddenDim / heads,
    vqDim,
    // FSQ levels [4]×D in every member (vector-quantize-pytorch ResidualFSQ(levels=[4]*8)); D from project_in
    fsqLevels: Array.from({ length: levels }, () => 4),
    nFft,
    semanticModel,
    semanticHiddenStatesIndex: member.semanticHiddenState,
  };
}

/** facebook/w2v-bert-2.0's config with the sizes the stored semantic_model.* tensors show. */
function semanticFromShapes(member: FamilyMember, infos: readonly TensorInfo[], file: string): SemanticModelConfig {
  const byName = new Map(infos.map((t) => [t.name, t]));
  const p = "semantic_model.";
  const shape = (n: string) => {
    const t = byName.get(p + n);
    if (!t) {
      throw new ConversionError(
        `not a ${member.title} checkpoint: no semantic encoder tensor ${p + n} (a NeuCodec file without ` +
          "semantic_model.* takes them from a second source, see --semantic-encoder)",
        { file },
      );
    }
    return t.shape;
  };
  const [hidden, inputDim] = shape("feature_projection.projection.weight") as [number, number];
  const layers = countIndexed(infos, /^semantic_model\.encoder\.layers\.(\d+)\.ffn1\.intermediate_dense\.weight$/);
  const intermediate = shape("encoder.layers.0.ffn1.intermediate_dense.weight")[0]!;
  const headDim = shape("encoder.layers.0.self_attn.distance_embedding.weight")[1]!;
  const kernel = shape("encoder.layers.0.conv_module.depthwise_conv.weight")[2]!;
  if (hidden % headDim !== 0 || hidden > MAX_WIDTH || layers > MAX_COUNT) {
    throw new ConversionError(`semantic encoder hidden ${hidden} does not split into heads of ${headDim}`, {
      file,
      tensor: `${p}encoder.layers.0.self_attn.distance_embedding.weight`,
    });
  }
  return {
    ...W2V_BERT_2_0_CONFIG,
    hidden_size: hidden,
    output_hidden_size: hidden,
    feature_projection_input_dim: inputDim,
    num_hidden_layers: layers,
    num_attention_heads: hidden / headDim,
    intermediate_size: intermediate,
    conv_depthwise_kernel_size: kernel,
  };
}

/** 1 + the largest index a pattern's first group captures (0 when nothing matches). */
function countIndexed(infos: readonly TensorInfo[], re: RegExp): number {
  let n = 0;
  for (const t of infos) {
    const m = re.exec(t.name);
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}
