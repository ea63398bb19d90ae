/**
 * Smoke test of the benchmark's quick mode on the tiny synthetic checkpoint: every piece runs (generate, convert,
 * export, MatMul peak, encode/decode at batch 1 and 8 in child processes) and the JSON has the documented shape with
 * finite, positive figures. No timing assertions: this machine's speed is not under test.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BenchResult, clipLengths, formatTable, type PhaseFigures, runBench } from "./bench.ts";

test("clip lengths are seeded and within range", () => {
  const a = clipLengths(8, 3, 10), b = clipLengths(8, 3, 10);
  assert.deepEqual(a, b);
  assert.equal(a.length, 8);
  for (const s of a) assert.ok(s >= 3 && s <= 10, `${s} outside [3, 10]`);
  assert.notDeepEqual(clipLengths(8, 3, 10, 1), a);
});

test("quick bench runs every phase and writes well-formed JSON", { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "xc2-bench-"));
  try {
    const outFile = join(dir, "bench.json");
    const r = await runBench({
      quick: true,
      cacheDir: join(dir, "cache"),
      outFile,
      clipSeconds: [0.6, 1.3, 0.9],
      log: () => {},
    });
    const j = JSON.parse(await readFile(outFile, "utf8")) as BenchResult;
    assert.deepEqual(j, JSON.parse(JSON.stringify(r)));
    assert.equal(j.quick, true);
    const positive = (v: number, what: string) => assert.ok(Number.isFinite(v) && v > 0, `${what} = ${v}`);
    positive(j.weightsBytes, "weightsBytes");
    positive(j.convert.seconds, "convert.seconds");
    positive(j.convert.peakRssBytes, "convert.peakRssBytes");
    assert.equal(j.export.graphs.length, 4);
    assert.deepEqual(j.export.graphs.map((g) => g.precision).sort(), ["fp16", "fp16", "fp32", "fp32"]);
    for (const g of j.export.graphs) {
      positive(g.bytes, `${g.file} bytes`);
      assert.ok(g.seconds >= 0);
    }
    positive(j.export.peakRssBytes, "export.peakRssBytes");
    positive(j.matmul.gflopsMedian, "matmul.gflopsMedian");
    assert.ok(j.matmul.gflopsBest >= j.matmul.gflopsMedian);
    positive(j.flopsPerAudioSecond.encoder, "encoder FLOPs");
    positive(j.flopsPerAudioSecond.decoder, "decoder FLOPs");
    assert.deepEqual(j.clips.seconds, [0.6, 1.3, 0.9]);
    for (const kind of ["encode", "decode"] as const) {
      for (const b of ["batch1", "batch8", "batch8Bucketed"] as const) {
        const p: PhaseFigures = j[kind][b];
        for (
          const k of ["wallSeconds", "secondsPer10s", "usefulGflop", "gflops", "peakRssBytes", "loadSeconds"] as const
        ) positive(p[k], `${kind}.${b}.${k}`);
        assert.ok(Math.abs(p.audioSeconds - 2.8) < 1e-9);
      }
      positive(j[kind].batchedSpeedup, `${kind}.batchedSpeedup`);
      assert.equal(
        j[kind].batch1.usefulGflop,
        j[kind].batch8.usefulGflop,
        "useful FLOPs do not depend on the batching",
      );
    }
    for (const k of Object.keys(j.pass)) assert.equal(typeof (j.pass as Record<string, unknown>)[k], "boolean");
    // long audio and streaming: the default grids really window the 35 s runs; every figure finite and positive
    for (const kind of ["decode", "encode"] as const) {
      const p = j.long[kind];
      assert.equal(p.seconds, 35);
      for (const k of ["clipSecondsPer10s", "longSecondsPer10s", "ratio", "peakRssBytes"] as const) {
        positive(p[k], `long.${kind}.${k}`);
      }
    }
    positive(j.long.stream.firstAudioSeconds, "long.stream.firstAudioSeconds");
    positive(j.long.stream.rtf, "long.stream.rtf");
    assert.equal(j.long.hour, undefined);
    assert.deepEqual(Object.keys(j.long.pass).sort(), [
      "decodeRss",
      "decodeSpeed",
      "encodeRss",
      "encodeSpeed",
      "firstAudio",
      "rtf",
    ]);
    for (const v of Object.values(j.long.pass)) assert.equal(typeof v, "boolean");
    const table = formatTable(j);
    assert.match(table, /encode batch 8/);
    assert.match(table, /decode batched \/ loop/);
    assert.match(table, /decode 35 s \(windowed\).*target ≤ 1\.3× (PASS|FAIL)/);
    assert.match(table, /stream 20 s .* ms to first audio .*(PASS|FAIL)/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
