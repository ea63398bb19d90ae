/**
 * The semantic adapter (original `SemanticEncoder_module`): four k=3 "same" convolutions over the semantic states.
 *
 *   h = conv1(x);  r = relu(h);  y = conv4(conv3(relu(conv2(r))) + r)
 *
 * The residual is taken AFTER the first ReLU: the original applies `nn.ReLU(inplace=True)` to the tensor it has
 * just saved as the residual, so the saved tensor is rectified too (the reference README states this; upstream's port
 * keeps the in-place ReLU and hence the same result).
 *
 * With per-item `lengths`, every position at or past the item's length is zeroed before each conv, so an item's last
 * frames read the same zero padding as when it runs alone (the convs are stride 1, the lengths do not change).
 */
import type { GraphBuilder } from "../graph.ts";
import type { Weights } from "../weights.ts";
import { conv1d, zeroPast } from "../layers.ts";

const P = "semantic_adapter";

/** x [B, Hs, K] → [B, Hs, K]. `lengths`: int64 [B] valid frames, or null for the unmasked graph. */
export function semanticAdapter(g: GraphBuilder, w: Weights, x: string, lengths: string | null): string {
  return g.scope("semantic_adapter", () => {
    const conv = (name: string, v: string) => {
      const [, , k] = w.shape(`${P}.${name}.weight`);
      const pad = (k - 1) >> 1;
      return conv1d(g, w, `${P}.${name}`, lengths ? zeroPast(g, v, lengths, 2) : v, { padding: [pad, pad] });
    };
    const r = g.relu(conv("conv1", x));
    const h = conv("conv3", g.relu(conv("conv2", r)));
    return conv("conv4", g.add(h, r));
  });
}
