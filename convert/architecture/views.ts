/**
 * Views of the architecture walk: the converted tensor table, the original checkpoint's tensors (for the synthetic
 * generator), and the lookup from any stored name to what becomes of it (for the converter's plan). Each is a
 * projection of `walkArchitecture`; none spells a tensor name of its own.
 */
import { buildXcodec2Config } from "../converted_config.ts";
import type { OriginalArchitecture } from "../original_config.ts";
import type { Xcodec2Config } from "./config.ts";
import type { ArchTensor, ConvertedTensor, OriginalForm, TensorRole } from "./tree.ts";
import { walkArchitecture } from "./walk.ts";

export type ExpectedTensor = ConvertedTensor;

/** The converted checkpoint's tensors (name, shape, role, rate) in walk order: what the converter must write. */
export function expectedConvertedTensors(cfg: Xcodec2Config): ConvertedTensor[] {
  const seen = new Set<string>();
  const out: ConvertedTensor[] = [];
  for (const t of walkArchitecture(cfg, { buffers: false }).tensors) {
    for (const o of t.outputs) {
      if (!seen.has(o.name)) {
        seen.add(o.name);
        out.push(o);
      }
    }
  }
  return out;
}

/** An original checkpoint's tensor, as a generator writes it. */
export interface OriginalTensor {
  name: string;
  shape: number[];
  role: TensorRole;
  /** for g, v and plain weights of weight-normed convs: the module */
  module?: string;
  /** buffers (not parameters) */
  buffer?: boolean;
  trainingOnly?: boolean;
}

export type OriginalLayoutOptions = OriginalForm;

/** The original checkpoint's tensors for an architecture in a stored form, sorted by name (safetensors order). */
export function originalTensors(arch: OriginalArchitecture, opts: OriginalLayoutOptions = {}): OriginalTensor[] {
  const form = { ...opts, semanticLayers: opts.semanticLayers ?? arch.semanticModel.num_hidden_layers };
  return walkArchitecture(buildXcodec2Config(arch), form).tensors
    .map((t) => ({
      name: t.original,
      shape: t.shape,
      role: t.role,
      ...(t.weightNormOf === undefined ? {} : { module: t.weightNormOf }),
      ...(t.presence === "buffer" || t.presence === "unsaved_buffer" ? { buffer: true } : {}),
      ...(t.presence === "training" ? { trainingOnly: true } : {}),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Every name a source checkpoint may store for this config, and what becomes of it: the original tensors in every
 * stored form (each weight-norm style, stale weights, training keys, buffers, `semanticLayers` semantic layers), and
 * the converted names themselves (an already converted checkpoint converts to itself). A name has two entries only
 * for a weight-normed conv's plain `weight`: the weight itself, or stale beside g/v, as the file decides.
 */
export function sourceLookup(cfg: Xcodec2Config, semanticLayers: number): Map<string, ArchTensor[]> {
  const form: OriginalForm = {
    style: "any",
    staleWeights: true,
    trainingKeys: true,
    buffers: true,
    unsavedBuffers: true,
    semanticLayers,
  };
  const lookup = new Map<string, ArchTensor[]>();
  const add = (t: ArchTensor) => lookup.set(t.original, [...(lookup.get(t.original) ?? []), t]);
  for (const t of walkArchitecture(cfg, form).tensors) add(t);
  for (const o of expectedConvertedTensors(cfg)) {
    add({
      original: o.name,
      shape: o.shape,
      role: o.role,
      transform: { kind: "copy" },
      outputs: [o],
      presence: "always",
    });
  }
  return lookup;
}
