/**
 * The long-audio sweep (`xcodec2 parity --long`): its seam figure finds a step placed at a seam and only there, the
 * grids hold the defaults, and a small sweep on tiny-a gives a well-formed report and table.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { HOP_LENGTH } from "../convert/mod.ts";
import { Xcodec2 } from "../runtime/codec.ts";
import { preparedTinyModel } from "../fixtures/support/prepared_model.ts";
import { DECODE_GRID, ENCODE_GRID, STREAM_GRID, type WindowGrid } from "../runtime/windows.ts";
import { runParityCommand } from "./cli.ts";
import { formatSweep, runLongSweep, seamFigures, sweepGrids } from "./long_sweep.ts";

describe("seam figures", () => {
  const grid: WindowGrid = { first: 10, window: 10, left: 2, right: 2, crossfade: 0 };
  const whole = Float32Array.from({ length: 40 * HOP_LENGTH }, (_, i) => Math.sin(i * 0.01));

  test("a step in the error at a seam is the seam jump; the same step elsewhere is not", () => {
    const atSeam = whole.map((v, i) => (i >= 20 * HOP_LENGTH ? v + 0.5 : v));
    const f = seamFigures(atSeam, whole, 40, grid, HOP_LENGTH);
    const rms = Math.sqrt(whole.reduce((a, v) => a + v * v, 0) / whole.length);
    assert.ok(Math.abs(f.seamJump - 0.5 / rms) < 1e-6, `seam jump ${f.seamJump}`);
    assert.ok(f.offSeamP99 < 1e-5, `elsewhere only float32 rounding: ${f.offSeamP99}`);
    const offSeam = whole.map((v, i) => (i >= 15 * HOP_LENGTH ? v + 0.5 : v));
    const g = seamFigures(offSeam, whole, 40, grid, HOP_LENGTH);
    assert.ok(g.seamJump < 1e-5, `no step at a seam: ${g.seamJump}`);
  });

  test("the grids include every default, and the quick grid is short", () => {
    const full = sweepGrids(false), quick = sweepGrids(true);
    for (const g of [full, quick]) {
      assert.deepEqual(g.decode.slice(0, 2), [DECODE_GRID, STREAM_GRID]);
      assert.deepEqual(g.encode[0], { ...ENCODE_GRID, normalisation: "clip" });
    }
    assert.ok(quick.decode.length <= 10 && quick.encode.length <= 4);
    assert.ok(full.decode.length > 40);
  });
});

describe("a small sweep on tiny-a", () => {
  let codec: Xcodec2;
  before(async () => {
    codec = await Xcodec2.load(await preparedTinyModel(), { device: "cpu", log: () => {} });
  });
  after(async () => await codec?.dispose());

  test("report and table", { timeout: 180_000 }, async () => {
    const r = await runLongSweep(codec, "tiny-a", {
      seconds: 6,
      decodeGrid: [{ ...DECODE_GRID, first: 100, window: 100, left: 0, right: 0 }, {
        ...DECODE_GRID,
        first: 100,
        window: 100,
        left: 50,
        right: 50,
      }],
      encodeGrid: [{ first: 100, window: 100, left: 25, right: 25, crossfade: 0, normalisation: "clip" }],
    });
    assert.equal(r.seconds, 6);
    assert.equal(r.decode.length, 2);
    for (const p of r.decode) {
      assert.ok(p.relL2 > 0 && p.relL2 < 1, `rel L2 ${p.relL2}`);
      assert.ok(p.seamJump >= 0 && p.offSeamP99 > 0 && p.secondsPer10s > 0);
    }
    assert.ok(r.decode[1].relL2 < r.decode[0].relL2, "50 frames of context did not help on tiny-a");
    assert.equal(r.encode.length, 1);
    assert.ok(r.encode[0].agreement > 0.9 && r.encode[0].agreement <= 1);
    const table = formatSweep(r);
    assert.match(table, /\| 100 +\| 50 +\| 50 +\| 0 +\|/);
    assert.match(table, /codes equal/);
    assert.match(table, /Random weights do not behave like the trained model/);
  });

  test("usage errors exit 2", async () => {
    const quiet = console.error;
    console.error = () => {};
    try {
      assert.equal(await runParityCommand(["--long"]), 2);
      assert.equal(await runParityCommand(["--long", "x", "--seconds", "0"]), 2);
      assert.equal(await runParityCommand(["x", "--quick"]), 2, "--quick without --long");
    } finally {
      console.error = quiet;
    }
  });
});
