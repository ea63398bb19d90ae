/**
 * A cursor over the converted model's module tree while a graph is built, as candle's `vb.pp("block").pp(i)`: one
 * value names a module's weights (`acoustic_encoder.block.0.conv1.weight`) AND scopes the node names built inside it
 * (`acoustic_encoder/block/0/conv1/Conv_17`), so the two cannot drift apart. Weights are read through the
 * checkpoint's `Weights`, on which the root declares the architecture walk's tensors: a read of anything the walk
 * does not declare, or a checkpoint whose shapes differ from it, is refused.
 */
import { expectedConvertedTensors, type Xcodec2Config } from "../architecture/mod.ts";
import type { GraphBuilder } from "./graph.ts";
import type { Weights } from "./weights.ts";

export class ModuleCursor {
  private constructor(readonly g: GraphBuilder, readonly w: Weights, readonly path: readonly string[]) {}

  /** The model's root, with the walk's tensors for `cfg` declared on `w`. */
  static root(g: GraphBuilder, w: Weights, cfg: Xcodec2Config): ModuleCursor {
    w.declareShapes(expectedConvertedTensors(cfg));
    return new ModuleCursor(g, w, []);
  }

  /** The module at a dotted path (`acoustic_decoder.prior_net.0.norm1`). */
  static at(g: GraphBuilder, w: Weights, path: string): ModuleCursor {
    return new ModuleCursor(g, w, path === "" ? [] : path.split("."));
  }

  /** A child module. */
  pp(segment: string | number): ModuleCursor {
    return new ModuleCursor(this.g, this.w, [...this.path, String(segment)]);
  }

  /** The module's dotted name, the prefix of its weights. */
  get name(): string {
    return this.path.join(".");
  }

  /** The full name of this module's tensor `t` (also the initializer's name in the graph). */
  tensor(t: string): string {
    return this.path.length === 0 ? t : `${this.name}.${t}`;
  }

  shape(t: string): number[] {
    return this.w.shape(this.tensor(t));
  }

  has(t: string): boolean {
    return this.w.has(this.tensor(t));
  }

  /** Tensor `t` as float32, its shape checked when `expect` is given. */
  f32(t: string, expect?: number[]): Float32Array {
    return this.w.f32(this.tensor(t), expect);
  }

  /** Runs `fn` with the nodes it adds named under this module. */
  scope<T>(fn: () => T): T {
    return this.g.scopeAt(this.path, fn);
  }
}
