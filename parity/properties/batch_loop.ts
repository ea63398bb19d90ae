/**
 * What properties 1 and 2 (batch = loop, encode and decode) share: a batch is drawn as specs, each distinct input is
 * run alone, then the whole batch runs as one call twice, in order and shuffled (duplicates included: `batchRuns`),
 * and every batched item is compared with the same input alone. The properties say how to run and compare.
 */
import type fc from "fast-check";
import { batchRuns, describeBatch, type Sizes, type Sources } from "../arbitraries.ts";
import { runFcProperty, type RunOptions } from "../fc_runner.ts";
import type { PropertyResult, Tally } from "../result.ts";

export interface BatchPropertyOptions extends RunOptions {
  sources: Sources;
  sizes?: Sizes;
  name?: string;
}

/** Item `j` of a batch's output beside its input run alone. */
export interface BatchedItem<Item, In, Alone, Out> {
  out: Out;
  j: number;
  /** the input's spec and its rendering */
  item: Item;
  input: In;
  alone: Alone;
  /** "shuffled batch item 3 (clip 1, 1600 samples)", for messages */
  where: string;
}

export interface BatchLoop<Spec extends { duplicates: number[]; shuffle: number }, Item, In, Alone, Out> {
  name: string;
  errorMetric: string;
  arbitrary: fc.Arbitrary<Spec>;
  /** the spec's distinct inputs */
  items(spec: Spec): Item[];
  render(item: Item): In;
  /** an input's spec as a report names it ("speech from espeak_en@12000, 321 samples") */
  describe(item: Item): string;
  /** input `i` as messages name it ("clip 1, 1600 samples") */
  label(input: In, i: number): string;
  /** runs input `i` alone; a string fails the case */
  alone(input: In, i: number): Promise<Alone | string>;
  batch(inputs: In[]): Promise<Out>;
  /**
   * Compares one batched item with its input alone, into `tally`. A returned string fails the case at once; `fail`
   * fails it after the remaining items are compared (and tallied) too.
   */
  compare(item: BatchedItem<Item, In, Alone, Out>, tally: Tally, fail: (why: string) => void): string | undefined;
}

export function batchLoopProperty<Spec extends { duplicates: number[]; shuffle: number }, Item, In, Alone, Out>(
  loop: BatchLoop<Spec, Item, In, Alone, Out>,
  maxBatch: number,
  opts: RunOptions,
): Promise<PropertyResult> {
  return runFcProperty(
    loop.name,
    loop.errorMetric,
    loop.arbitrary,
    async (spec, tally) => {
      const items = loop.items(spec);
      const inputs = items.map((it) => loop.render(it));
      const alone: Alone[] = [];
      for (const [i, input] of inputs.entries()) {
        const a = await loop.alone(input, i);
        if (typeof a === "string") return { ok: false, why: a };
        alone.push(a);
      }
      const { items: batchOf, runs } = batchRuns(spec, inputs.length, maxBatch);
      let failure: string | undefined;
      const fail = (why: string) => void (failure ??= why);
      for (const { name, order } of runs) {
        const out = await loop.batch(order.map((j) => inputs[batchOf[j]]));
        for (let j = 0; j < order.length; j++) {
          const i = batchOf[order[j]];
          const where = `${name} item ${j} (${loop.label(inputs[i], i)})`;
          const why = loop.compare({ out, j, item: items[i], input: inputs[i], alone: alone[i], where }, tally, fail);
          if (why) return { ok: false, why };
        }
      }
      return failure ? { ok: false, why: failure } : { ok: true };
    },
    (spec) => {
      const items = loop.items(spec);
      return describeBatch(spec, items.length, maxBatch, (i) => loop.describe(items[i]));
    },
    opts,
  );
}
