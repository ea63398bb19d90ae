/**
 * config.json, original and converted: missing fields, wrong types and absurd sizes, then everything the converter
 * derives from a config (the converted config, the original and converted tensor tables) must succeed or throw a
 * ConversionError naming the file.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildXcodec2Config,
  checkArchitecture,
  ConfigError,
  ConversionError,
  expectedConvertedTensors,
  loadOriginalArchitecture,
  originalTensors,
  readXcodec2Config as readConvertedConfig,
} from "../../../convert/mod.ts";
import { referenceIndex, variantDirs } from "../../reference.ts";
import { FuzzContractError, type FuzzInput, type FuzzTarget } from "../harness.ts";
import { applyMutations, mutationArb } from "../mutate.ts";

/**
 * Tensor tables grow with layer counts, so an accepted absurd count would make them allocate without bound (the
 * process is killed, nothing can catch it). A config the loaders accept must stay under this; checked before the
 * tables are built so the fuzz run reports it instead of dying.
 */
const MAX_LAYERS = 100_000;

const VALUES: unknown[] = [
  null,
  true,
  false,
  "",
  "16000",
  "xcodec2",
  0,
  -1,
  1,
  2,
  3,
  7,
  0.5,
  1e-300,
  1e308,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  1e9,
  65536,
  Number.MAX_SAFE_INTEGER,
  [],
  [0],
  [1, 2],
  [4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4],
  ["4"],
  [-2, 2],
  [1e6, 1e6],
  {},
  { a: 1 },
];

type Json = unknown;

/** Every path to a value in the JSON tree. */
function paths(v: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      out.push(...paths(x, [...prefix, k]));
    }
  }
  return out;
}

function applyEdit(root: Json, path: Array<string | number>, action: "delete" | "set", value: unknown): Json {
  if (path.length === 0) return action === "delete" ? {} : value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  if (!parent || typeof parent !== "object") return copy;
  const last = path[path.length - 1];
  if (action === "delete") {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else {
    parent[last] = structuredClone(value);
  }
  return copy;
}

export const configTarget: FuzzTarget = {
  name: "config",
  description: "convert/ config loaders (original + converted config.json) and the tensor tables derived from them",
  typedErrors: [ConversionError, ConfigError],
  prepare(): fc.Arbitrary<FuzzInput> {
    const tiny = variantDirs(referenceIndex());
    const read = (dir: string) => JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Json;
    const bases = [
      { name: "original.config.json", json: read(tiny.original) },
      { name: "converted.config.json", json: read(tiny.converted) },
    ];
    const edit = fc.record({
      path: fc.nat(),
      action: fc.constantFrom<"delete" | "set">("delete", "set", "set"),
      value: fc.constantFrom(...VALUES),
    });
    return fc
      .record({
        base: fc.nat({ max: bases.length - 1 }),
        edits: fc.array(edit, { minLength: 0, maxLength: 4 }),
        bytes: fc.oneof({ weight: 5, arbitrary: fc.constant([]) }, {
          weight: 1,
          arbitrary: fc.array(mutationArb(4096), { maxLength: 2 }),
        }),
      })
      .map(({ base, edits, bytes }) => {
        let json = bases[base].json;
        for (const e of edits) {
          const ps = paths(json); // of the tree as edited so far
          json = applyEdit(json, ps[e.path % ps.length], e.action, e.value);
        }
        const text = new TextEncoder().encode(JSON.stringify(json, null, 2));
        return { name: bases[base].name, bytes: applyMutations(text, bytes) };
      });
  },
  async run(path: string, input: FuzzInput): Promise<void> {
    if (input.name.startsWith("original")) {
      const { arch } = await loadOriginalArchitecture(path);
      checkArchitecture(arch, path);
      const counts = {
        depth: arch.depth,
        "semantic num_hidden_layers": arch.semanticModel.num_hidden_layers,
        up_ratios: arch.upRatios.length,
      };
      for (const [what, n] of Object.entries(counts)) {
        if (!(n <= MAX_LAYERS)) throw new FuzzContractError(`${path}: absurd ${what} ${n} passed checkArchitecture`);
      }
      originalTensors(arch);
      expectedConvertedTensors(buildXcodec2Config(arch));
    } else {
      const cfg = await readConvertedConfig(path);
      for (const what of ["num_hidden_layers", "downsampling_ratios"] as const) {
        const n = what === "num_hidden_layers" ? cfg.num_hidden_layers : cfg.downsampling_ratios.length;
        if (!(n <= MAX_LAYERS)) throw new FuzzContractError(`${path}: absurd ${what} ${n} passed readConvertedConfig`);
      }
      if (!(cfg.semantic_model_config.num_hidden_layers <= MAX_LAYERS)) {
        throw new FuzzContractError(`${path}: absurd semantic num_hidden_layers passed readConvertedConfig`);
      }
      expectedConvertedTensors(cfg);
    }
  },
};
