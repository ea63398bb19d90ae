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
import type { ModuleCursor } from "../module.ts";
import { conv1d, samePadding, zeroPast } from "../layers.ts";

/** `m` = semantic_adapter: x [B, Hs, K] → [B, Hs, K]. `lengths`: int64 [B] valid frames, or null (unmasked graph). */
export function semanticAdapter(m: ModuleCursor, x: string, lengths: string | null): string {
  const g = m.g;
  return m.scope(() => {
    const conv = (name: string, v: string) => {
      const c = m.pp(name);
      const padding = samePadding(c);
      return conv1d(c, lengths ? zeroPast(g, v, lengths, 2) : v, { padding });
    };
    const r = g.relu(conv("conv1", x));
    const h = conv("conv3", g.relu(conv("conv2", r)));
    return conv("conv4", g.add(h, r));
  });
}
