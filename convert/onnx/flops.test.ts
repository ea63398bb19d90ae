import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readXcodec2Config } from "../architecture/mod.ts";
import { decoderFlops, encoderFlops, totalFlops } from "./flops.ts";
import { TINY_CONVERTED } from "../../fixtures/support/reference.ts";

const TINY = join(TINY_CONVERTED, "config.json");

test("FLOP counts scale with length: linear parts linearly, attention quadratically", async () => {
  const cfg = await readXcodec2Config(TINY);
  const d1 = decoderFlops(cfg, 1), d2 = decoderFlops(cfg, 2);
  assert.ok(Math.abs(d2.convs / d1.convs - 2) < 1e-12);
  assert.ok(d2.transformer / d1.transformer > 2, "attention's T² term makes the transformer superlinear");
  const e1 = encoderFlops(cfg, 1), e2 = encoderFlops(cfg, 2);
  assert.ok(Math.abs(e2.acoustic_encoder / e1.acoustic_encoder - 2) < 1e-12);
  for (const v of [...Object.values(e1), ...Object.values(d1)]) assert.ok(Number.isFinite(v) && v > 0);
});

test("decoder FLOPs match a hand count for the tiny config", async () => {
  const cfg = await readXcodec2Config(TINY);
  const k = 50, h = cfg.hidden_size;
  // embed k7 + 4 ResNet blocks × 2 k3 convs, H→H, per frame
  assert.equal(decoderFlops(cfg, 1).convs, k * (2 * h * h * 7 + 8 * 2 * h * h * 3));
  const perLayer = k * (4 * 2 * h * h + 2 * 2 * h * cfg.intermediate_size) + 4 * h * k * k;
  assert.equal(decoderFlops(cfg, 1).transformer, cfg.num_hidden_layers * perLayer);
  assert.equal(totalFlops({ a: 1, b: 2 }), 3);
});
