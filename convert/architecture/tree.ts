/**
 * The vocabulary of the architecture walk (walk.ts). A `Cursor` stands at one module and carries its path in the
 * ORIGINAL checkpoint and in the CONVERTED (transformers `Xcodec2Model`) layout at once, as candle's
 * `vb.pp("block").pp(i)` carries a prefix and llama.cpp's tensor maps pair names: `m.pp("conv_blocks.1.block",
 * "block.0")` moves both. The module kinds below (conv, weight-normed conv, linear, norm, SnakeBeta, fused q/k/v,
 * buffers) declare their tensors through a cursor, so every tensor name is spelled once, where its module is declared,
 * with its shape, its role, and what the conversion does with it.
 *
 * A cursor also carries the rate its module runs at (steps per second of input audio), which is all a FLOP count
 * needs besides the shapes, and it can be marked dropped (training-only modules, semantic layers past the used
 * hidden state): what is declared under it is then dropped with that reason.
 */
import { AA_KERNEL, AA_RATIO } from "./constants.ts";

/** What a tensor is, so a generator can give it plausible values and a FLOP count can find the matrices. */
export type TensorRole =
  | "conv"
  | "linear"
  | "bias"
  | "wn_g"
  | "wn_v"
  | "snake"
  | "norm_weight"
  | "norm_bias"
  | "embedding"
  | "spec_embed"
  | "lowpass_filter"
  | "istft_window"
  | "fsq_buffer";

/** What the conversion does with an original tensor. */
export type Transform =
  /** copied under its converted name (renamed; cast when asked) */
  | { kind: "copy" }
  /** one half of a weight-normed weight, w = g·v/‖v‖ per output channel, in one of the two g/v styles */
  | { kind: "fold_weight_norm"; part: "g" | "v"; style: "legacy" | "parametrizations" }
  /** a fused q/k/v projection: rows split, q and k permuted per head for transformers' RoPE */
  | { kind: "split_qkv"; heads: number }
  | { kind: "drop"; reason: string };

/** Which stored forms of an original checkpoint hold a tensor (`OriginalForm` says which are wanted). */
export type Presence =
  /** every checkpoint */
  | "always"
  /** a persistent buffer: saved by the original code, rebuilt at load by transformers */
  | "buffer"
  /** a buffer today's libraries do not save, which some versions did */
  | "unsaved_buffer"
  /** training checkpoints only */
  | "training"
  /** a plain `weight` left beside a weight norm's g/v */
  | "stale";

export type WeightNormStyle = "legacy" | "parametrizations" | "plain";

/** The stored form of an original checkpoint, for the tensors that vary between files of the same architecture. */
export interface OriginalForm {
  /**
   * How weight norm is stored: `weight_g`/`weight_v` (torch.nn.utils.weight_norm),
   * `parametrizations.weight.original0/1` (torch.nn.utils.parametrizations.weight_norm), or a plain `weight` (weight
   * norm already removed). `"any"` declares every form at once, for looking names up.
   */
  style?: WeightNormStyle | "any";
  /** a stale plain `weight` beside each weight-normed conv's g/v */
  staleWeights?: boolean;
  /** fc_post_s and SemanticDecoder_module (present in training checkpoints) */
  trainingKeys?: boolean;
  /** the persistent buffers (resampling filters, ISTFT window; default true) */
  buffers?: boolean;
  /** the buffers current libraries do not save (FSQ levels, basis, codebook, scales) */
  unsavedBuffers?: boolean;
  /** semantic-model layers stored (default: the converted config's, i.e. the ones the codec uses) */
  semanticLayers?: number;
}

/** A tensor of the converted layout. */
export interface ConvertedTensor {
  name: string;
  shape: number[];
  role: TensorRole;
  /** steps per second of input audio at which its module runs */
  rate: number;
}

/** A tensor of the original checkpoint and what becomes of it. */
export interface ArchTensor {
  original: string;
  /** shape as stored in the original */
  shape: number[];
  role: TensorRole;
  transform: Transform;
  /** the converted tensors it makes (g and v both name their folded weight); empty when dropped */
  outputs: ConvertedTensor[];
  presence: Presence;
  /** the weight-normed module (original path) whose weight this tensor stores, in one of its forms */
  weightNormOf?: string;
}

/** Computation without weights of its own, for the FLOP count. `module` is the converted path. */
export type ComputeOp =
  /** scores and weighted sum over as many keys as steps (2·2·width·T per step), plus relative-position scores */
  | { kind: "attention"; module: string; width: number; relativePositions: number; rate: number }
  /** an anti-aliased activation: upsample by `ratio` and low-pass back down, `kernel`-tap filters per channel */
  | { kind: "anti_alias"; module: string; channels: number; kernel: number; ratio: number; rate: number }
  /** the ISTFT head's inverse real DFT of size nFft per frame */
  | { kind: "inverse_dft"; module: string; nFft: number; rate: number };

export interface Walk {
  tensors: ArchTensor[];
  ops: ComputeOp[];
}

interface Dropped {
  reason: string;
  presence: Presence;
}

const join = (path: string, seg: string | number) => (path === "" ? String(seg) : `${path}.${seg}`);

/** Collects what the cursors declare, keeping what the form stores. */
export class Tree {
  readonly tensors: ArchTensor[] = [];
  readonly ops: ComputeOp[] = [];
  readonly form: Required<OriginalForm>;

  constructor(form: OriginalForm, semanticLayers: number) {
    this.form = {
      style: form.style ?? "legacy",
      staleWeights: form.staleWeights ?? false,
      trainingKeys: form.trainingKeys ?? false,
      buffers: form.buffers ?? true,
      unsavedBuffers: form.unsavedBuffers ?? false,
      semanticLayers: form.semanticLayers ?? semanticLayers,
    };
  }

  root(rate: number): Cursor {
    return new Cursor(this, "", "", rate, undefined);
  }

  stores(presence: Presence): boolean {
    const f = this.form;
    return presence === "always" || (presence === "buffer" && f.buffers) ||
      (presence === "unsaved_buffer" && f.unsavedBuffers) || (presence === "training" && f.trainingKeys) ||
      (presence === "stale" && f.staleWeights);
  }

  add(t: ArchTensor): void {
    if (this.stores(t.presence)) this.tensors.push(t);
  }

  walk(): Walk {
    return { tensors: this.tensors, ops: this.ops };
  }
}

export class Cursor {
  constructor(
    private readonly tree: Tree,
    /** path in the original checkpoint */
    readonly original: string,
    /** path in the converted layout */
    readonly converted: string,
    /** steps per second of input audio at which this module runs */
    readonly rate: number,
    private readonly dropped: Dropped | undefined,
  ) {}

  get form(): Required<OriginalForm> {
    return this.tree.form;
  }

  /** A child module; `original` and `converted` may be several dotted segments, `converted` defaults to `original`. */
  pp(original: string | number, converted: string | number = original): Cursor {
    return new Cursor(
      this.tree,
      join(this.original, original),
      join(this.converted, converted),
      this.rate,
      this.dropped,
    );
  }

  /** The same module running at another rate. */
  at(rate: number): Cursor {
    return new Cursor(this.tree, this.original, this.converted, rate, this.dropped);
  }

  /** What is declared under the returned cursor is dropped for `reason`, and stored only in forms with `presence`. */
  drop(reason: string, presence: Presence = "always"): Cursor {
    return new Cursor(this.tree, this.original, this.converted, this.rate, { reason, presence });
  }

  /** The converted tensor `name` of this module. */
  output(name: string, shape: number[], role: TensorRole): ConvertedTensor {
    return { name: join(this.converted, name), shape, role, rate: this.rate };
  }

  /** An original tensor `name` of this module, copied under the same name below the converted path. */
  param(name: string, shape: number[], role: TensorRole): void {
    this.declare(name, shape, role, { kind: "copy" }, [this.output(name, shape, role)]);
  }

  /** An original-only buffer, dropped at conversion because transformers rebuilds it at load. */
  buffer(name: string, shape: number[], role: TensorRole, reason: string, presence: Presence = "buffer"): void {
    this.declare(name, shape, role, { kind: "drop", reason }, [], presence);
  }

  /** Weight-free computation of this module, for the FLOP count. */
  op(op: DistributiveOmit<ComputeOp, "module" | "rate">): void {
    if (!this.dropped) this.tree.ops.push({ ...op, module: this.converted, rate: this.rate } as ComputeOp);
  }

  /** Declares an original tensor `name` of this module (under a dropped cursor: dropped, whatever `transform` says). */
  declare(
    name: string,
    shape: number[],
    role: TensorRole,
    transform: Transform,
    outputs: ConvertedTensor[],
    presence: Presence = "always",
    weightNormOf?: string,
  ): void {
    const d = this.dropped;
    this.tree.add({
      original: join(this.original, name),
      shape,
      role,
      transform: d ? { kind: "drop", reason: d.reason } : transform,
      outputs: d ? [] : outputs,
      presence: d && presence === "always" ? d.presence : presence,
      ...(weightNormOf === undefined ? {} : { weightNormOf }),
    });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

// ---- module kinds ----

/** torch Conv1d: weight [cout, cin / groups, k] (`cinPerGroup` is that second dim), bias [cout]. */
export function conv(m: Cursor, cout: number, cinPerGroup: number, k: number, o: { bias?: boolean } = {}): void {
  m.param("weight", [cout, cinPerGroup, k], "conv");
  if (o.bias ?? true) m.param("bias", [cout], "bias");
}

/** nn.Linear: weight [out, in], bias [out]. */
export function linear(m: Cursor, out: number, inp: number, o: { bias?: boolean } = {}): void {
  m.param("weight", [out, inp], "linear");
  if (o.bias ?? true) m.param("bias", [out], "bias");
}

/** LayerNorm / RMSNorm / GroupNorm: weight (and bias) per channel. */
export function norm(m: Cursor, channels: number, o: { bias?: boolean } = {}): void {
  m.param("weight", [channels], "norm_weight");
  if (o.bias ?? true) m.param("bias", [channels], "norm_bias");
}

/**
 * A weight-normed Conv1d (`WNConv1d`): the bias as is, the weight stored in the form's style and folded at conversion.
 * A stale plain weight beside g/v is dropped (the folded value wins; the converter compares the two).
 */
export function wnConv(m: Cursor, cout: number, cin: number, k: number): void {
  m.param("bias", [cout], "bias");
  const shape = [cout, cin, k];
  const g = [cout, 1, 1];
  const weight = [m.output("weight", shape, "conv")];
  const style = m.form.style;
  const fold = (part: "g" | "v", style: "legacy" | "parametrizations") =>
    ({ kind: "fold_weight_norm", part, style }) as const;
  if (style === "legacy" || style === "any") {
    m.declare("weight_g", g, "wn_g", fold("g", "legacy"), weight, "always", m.original);
    m.declare("weight_v", shape, "wn_v", fold("v", "legacy"), weight, "always", m.original);
  }
  if (style === "parametrizations" || style === "any") {
    const p = "parametrizations.weight";
    m.declare(`${p}.original0`, g, "wn_g", fold("g", "parametrizations"), weight, "always", m.original);
    m.declare(`${p}.original1`, shape, "wn_v", fold("v", "parametrizations"), weight, "always", m.original);
  }
  if (style === "plain" || style === "any") {
    m.declare("weight", shape, "conv", { kind: "copy" }, weight, "always", m.original);
  }
  if (style !== "plain") {
    const reason = "stale plain weight beside weight norm's g/v: the folded value wins";
    m.declare("weight", shape, "conv", { kind: "drop", reason }, [], "stale", m.original);
  }
}

/**
 * SnakeBeta inside the anti-aliased `Activation1d`: log-alpha and log-beta per channel, and the Kaiser-sinc filters
 * of its ×ratio upsampler and low-pass decimator, persistent buffers in the original that transformers rebuilds.
 */
export function snake(m: Cursor, channels: number): void {
  const act = m.pp("act");
  act.param("alpha", [channels], "snake");
  act.param("beta", [channels], "snake");
  const filter = [1, 1, AA_KERNEL];
  m.pp("upsample").buffer(
    "filter",
    filter,
    "lowpass_filter",
    "buffer: anti-aliasing upsampling filter, rebuilt at load",
  );
  m.pp("downsample.lowpass").buffer(
    "filter",
    filter,
    "lowpass_filter",
    "buffer: anti-aliasing low-pass filter, rebuilt at load",
  );
  m.op({ kind: "anti_alias", channels, kernel: AA_KERNEL, ratio: AA_RATIO });
}

/**
 * A fused q/k/v projection `fused` ([q + k + v rows, in], rows q | k | v) of attention module `att`, split into the
 * converted `parts` (q and k rows permuted per head from torchtune's interleaved RoPE pairs to rotate_half order).
 */
export function fusedQkv(
  att: Cursor,
  fused: string,
  parts: readonly [string, string, string],
  heads: number,
  rows: readonly [number, number, number],
  inp: number,
  o: { bias?: boolean } = {},
): void {
  const m = att.pp(fused);
  const total = rows[0] + rows[1] + rows[2];
  const split = { kind: "split_qkv" as const, heads };
  const at = (p: string, name: string, shape: number[], role: TensorRole) => att.pp(p).output(name, shape, role);
  m.declare("weight", [total, inp], "linear", split, parts.map((p, i) => at(p, "weight", [rows[i]!, inp], "linear")));
  if (o.bias) m.declare("bias", [total], "bias", split, parts.map((p, i) => at(p, "bias", [rows[i]!], "bias")));
}
