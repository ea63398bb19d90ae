/**
 * The XCodec2 family: one row per known member, with what its original code hard-codes and what its published files
 * look like. Everything else about a checkpoint (widths, layer counts) is read from its tensor shapes; the rows hold
 * what shapes cannot show (attention heads, the hidden state used, the output rate behind an ISTFT size, the feature
 * extractor's padding) and the facts member detection keys on. Each fact cites the original code it comes from
 * (repository @ commit : file : line); the family notes (FACTS.md of issue 15) hold the long form.
 *
 *   XC  zhenye234/X-Codec-2.0 @ e5d3b260 (and the Hub model HKUSTAudio/xcodec2)
 *   NC  neuphonic/neucodec @ 2454f320
 *   WC  Scicom-AI-Enterprise-Organization/neucodec-44k @ 441b8ad9 (WideCodec; a fork of NC)
 *   TP  malaysia-ai/X-Codec-2.0-25TPS-24k @ 755c9d06
 */
import type { WeightNormStyle } from "./tree.ts";

export type MemberName = "xcodec2" | "neucodec" | "widecodec" | "xcodec2-25tps-24k";
export const MEMBER_NAMES: readonly MemberName[] = ["xcodec2", "neucodec", "widecodec", "xcodec2-25tps-24k"];

/**
 * How the semantic branch's features are cut from a clip of n samples, right-padded to T = ⌊n/320⌋ + 1 encoder
 * frames (both flavours pad by 320 − n mod 320, always at least one sample):
 *  - "xcodec2": the padded clip gets 160 more zeros on each side before the fbank (XC inference.py:108, TP
 *    modeling_xcodec2.py:113-121): 2T fbank frames, T stacked rows, one per acoustic frame;
 *  - "neucodec": no side padding (NC model.py:146-148): 2T − 2 fbank frames, T − 1 rows; encode trims both branches
 *    to the shorter one (NC model.py:161-164), so a clip gets T − 1 = ⌊n/320⌋ codes and one shorter than 320 samples
 *    none (the original raises).
 */
export type FeatureFlavour = "xcodec2" | "neucodec";

/**
 * The arithmetic of the fbank the reference used: `"torchaudio"` (torchaudio's Kaldi fbank in float32, as upstream
 * transformers' `Xcodec2FeatureExtractor`, which made XCodec2's reference set) or `"seamless_m4t"` (transformers'
 * numpy `SeamlessM4TFeatureExtractor`, float64 spectrum: what the family's original code calls, NC model.py:146,
 * TP modeling_xcodec2.py:117). Same fbank; they differ by ~4e-5 (speech) to 2e-4 (noise) after normalisation.
 */
export type FbankArithmetic = "torchaudio" | "seamless_m4t";

/**
 * The converted layout a member is written in: transformers' `Xcodec2Model`, transformers' `NeuCodecModel` (same
 * tensor names, `model_type: "neucodec"`, `input_sampling_rate` / `output_sampling_rate`), or our documented
 * extension for pooled codes, which transformers has no class for (`model_type: "xcodec2_pooled"`, see config.ts).
 */
export type ConvertedLayout = "xcodec2" | "neucodec" | "xcodec2_pooled";

export interface FamilyMember {
  name: MemberName;
  title: string;
  /** the original code the member is checked against */
  original: string;
  /** published checkpoints */
  hub: readonly string[];
  /** licence of the published weights (the converted folder's model card carries it when the source does not say) */
  license: string;
  /** where that licence was read, or why it is a judgement */
  licenseNote: string;
  inputSampleRate: number;
  outputSampleRate: number;
  /** encoder frames averaged into one code: AvgPool1d(k, k) after fc_prior (TP modeling_xcodec2.py:42) */
  codePooling: number;
  /** output samples per code: the ISTFT hop (n_fft = 4 · hop, the head's Linear has n_fft + 2 rows) */
  decoderHop: number;
  features: FeatureFlavour;
  layout: ConvertedLayout;
  /** decoder depth of the published weights (the converter counts layers from the tensors) */
  publishedDepth: number;
  /** decoder attention heads: `heads=16` in every CodecDecoderVocos (XC/NC/TP codec_decoder_vocos.py) */
  decoderHeads: number;
  /** `hidden_states[16]` of Wav2Vec2-BERT (XC inference.py:119, NC model.py:156, TP modeling_xcodec2.py:125) */
  semanticHiddenState: number;
  /** the published file holds the w2v-BERT weights, or the original loads facebook/w2v-bert-2.0 (NC model.py:29-31) */
  semanticWeights: "checkpoint" | "facebook/w2v-bert-2.0";
  /** how the published file stores the acoustic encoder's weight norm */
  weightNorm: Exclude<WeightNormStyle, "plain">;
  /** SnakeBeta's log-beta parameter name: `beta`, or `bias` in TP (vq/activations.py:97-114) */
  snakeBeta: "beta" | "bias";
  /**
   * The decoder's convolutions (backbone embed, prior/post-net ResNet convs) are plain `nn.Conv1d` in every member;
   * NeuCodec's file also carries `weight_g`/`weight_v` for them, which its original never applies (CodecDecoderVocos
   * does not call `apply_weight_norm`, NC codec_decoder_vocos.py:337-371; `load_state_dict(strict=False)` drops them,
   * model.py:106). The converter writes the plain weight, as the original runs, and compares the fold with it.
   */
  decoderWeightNormBesidePlain: boolean;
  /** the published folder's files */
  files: string;
}

const W2V = "facebook/w2v-bert-2.0";

/** What every member keeps of XCodec2: 16 kHz in, the decoder's 16 heads, w2v-BERT's 17th hidden state. */
const SHARED = { inputSampleRate: 16_000, decoderHeads: 16, semanticHiddenState: 16 } as const;

export const MEMBERS: Readonly<Record<MemberName, FamilyMember>> = {
  xcodec2: {
    name: "xcodec2",
    title: "XCodec2",
    original: "zhenye234/X-Codec-2.0@e5d3b2601146b20da39fc2f7c5a1db1418292138",
    hub: ["HKUSTAudio/xcodec2"],
    license: "cc-by-nc-4.0",
    licenseNote: "HKUSTAudio/xcodec2 model card",
    ...SHARED,
    outputSampleRate: 16_000,
    codePooling: 1,
    decoderHop: 320,
    features: "xcodec2",
    layout: "xcodec2",
    publishedDepth: 12,
    semanticWeights: "checkpoint",
    weightNorm: "legacy",
    snakeBeta: "beta",
    decoderWeightNormBesidePlain: false,
    files: "model.safetensors + config.json (model_type xcodec2, three sizes)",
  },
  neucodec: {
    name: "neucodec",
    title: "NeuCodec",
    original: "neuphonic/neucodec@2454f320f1437325e5b72bf414c94f2dbfa9a48b",
    hub: ["neuphonic/neucodec"],
    license: "apache-2.0",
    licenseNote: "neuphonic/neucodec meta.yaml and model card",
    ...SHARED,
    outputSampleRate: 24_000,
    codePooling: 1,
    decoderHop: 480, // NC model.py:95: CodecDecoderVocos(hop_length=480)
    features: "neucodec",
    layout: "neucodec",
    publishedDepth: 12,
    semanticWeights: W2V,
    weightNorm: "legacy",
    snakeBeta: "beta",
    decoderWeightNormBesidePlain: true,
    files: "pytorch_model.bin (no semantic_model.*) + meta.yaml; w2v-BERT from facebook/w2v-bert-2.0",
  },
  widecodec: {
    name: "widecodec",
    title: "WideCodec",
    original: "Scicom-AI-Enterprise-Organization/neucodec-44k@441b8ad99f04981de965efa2118f653bfdf3c300",
    hub: ["Scicom-intl/neucodec-44k-d20", "Scicom-intl/WideCodec"],
    license: "apache-2.0",
    licenseNote: "judgement: the repository's LICENSE is Apache-2.0 (its pyproject says MIT) and the weights " +
      "finetune NeuCodec's (Apache-2.0); the Hub model card was not readable when this was written",
    ...SHARED,
    outputSampleRate: 44_100,
    codePooling: 1,
    decoderHop: 882, // WC model.py:87: cls(44_100, 882, decoder_depth)
    features: "neucodec",
    layout: "neucodec",
    publishedDepth: 20, // WC README: the d20 weights need decoder_depth=20 (the constructor's default is 12)
    semanticWeights: "checkpoint",
    weightNorm: "legacy",
    snakeBeta: "beta",
    decoderWeightNormBesidePlain: false,
    files: "pytorch_model.bin (NeuCodec.state_dict(), semantic_model.* included)",
  },
  "xcodec2-25tps-24k": {
    name: "xcodec2-25tps-24k",
    title: "X-Codec-2.0-25TPS-24k",
    original: "malaysia-ai/X-Codec-2.0-25TPS-24k@755c9d06f97aa2958d93eaeec860ef5e52dcea42",
    hub: ["malaysia-ai/xcodec2-25TPS-24k", "Scicom-intl/xcodec2-25TPS-24k"],
    license: "cc-by-nc-4.0",
    licenseNote: "judgement: the code is MIT (repository LICENSE); the weights finetune HKUSTAudio/xcodec2 " +
      "(CC-BY-NC-4.0) and the Hub model card was not readable when this was written",
    ...SHARED,
    outputSampleRate: 24_000,
    codePooling: 2,
    decoderHop: 960, // TP vq/codec_decoder_vocos.py:377
    features: "xcodec2",
    layout: "xcodec2_pooled",
    publishedDepth: 12,
    semanticWeights: "checkpoint",
    weightNorm: "parametrizations",
    snakeBeta: "bias",
    decoderWeightNormBesidePlain: false,
    files: "model.safetensors + config.json (model_type xcodec, BigCodecConfig sizes)",
  },
};

/** n_fft of a member's ISTFT head (the head's Linear has n_fft + 2 rows). */
export function memberNFft(m: FamilyMember): number {
  return 4 * m.decoderHop;
}

/** The member whose ISTFT head has `nFft` points, if any: the one fact that tells the members apart by itself. */
export function memberByNFft(nFft: number): FamilyMember | undefined {
  return Object.values(MEMBERS).find((m) => memberNFft(m) === nFft);
}

export function isMemberName(s: string): s is MemberName {
  return (MEMBER_NAMES as readonly string[]).includes(s);
}
