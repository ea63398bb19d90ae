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
import { type BenchResult, clipLengths, formatTable, type PhaseFigures, runBench, TARGETS } from "./bench.ts";
import { machineIdentity, parseCpuinfo, spread } from "./bench_machine.ts";
import { parseUpstreamOutput, shellQuote, upstreamArgs } from "./bench_upstream.ts";

test("clip lengths are seeded and within range", () => {
  const a = clipLengths(8, 3, 10), b = clipLengths(8, 3, 10);
  assert.deepEqual(a, b);
  assert.equal(a.length, 8);
  for (const s of a) assert.ok(s >= 3 && s <= 10, `${s} outside [3, 10]`);
  assert.notDeepEqual(clipLengths(8, 3, 10, 1), a);
});

test("cpuinfo: the first processor's identity and the flags of interest", () => {
  const text = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n" +
    "model name\t: AMD EPYC 9R14\nstepping\t: 1\nflags\t\t: fpu avx2 fma avx512f avx512_vnni avx512_bf16 sha_ni\n\n" +
    "processor\t: 1\nmodel name\t: other\n";
  assert.equal(parseCpuinfo(text)["model name"], "AMD EPYC 9R14");
  const m = machineIdentity(text);
  assert.equal(m.family, 25);
  assert.equal(m.model, 17);
  assert.equal(m.vendor, "AuthenticAMD");
  assert.deepEqual(m.flags, ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "sha_ni"]);
  assert.equal(m.avx512, true);
  assert.equal(machineIdentity("flags : avx2 fma\n").avx512, false);
});

test("spread: median of odd and even lists, min and max", () => {
  assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3, values: [3, 1, 2] });
  assert.equal(spread([4, 1, 3, 2]).median, 2.5);
  assert.ok(Number.isNaN(spread([]).median));
});

test("upstream protocol: arguments, quoting, and the timing line among other output", () => {
  assert.deepEqual(upstreamArgs("decode", "/work/m", 10, 3, 2, 50), [
    "decode",
    "--model",
    "/work/m",
    "--frames",
    "500",
    "--repeats",
    "3",
    "--warmup",
    "same",
    "--threads",
    "2",
  ]);
  assert.equal(shellQuote("/a b/it's"), `'/a b/it'\\''s'`);
  const t = parseUpstreamOutput('loading\n{"mode":"encode","runs_s":[9.1,8.7,9.9],"VmHWM_kB":2048}\n');
  assert.deepEqual(t, { runs: [9.1, 8.7, 9.9], median: 9.1, peakRssBytes: 2048 * 1024 });
  assert.throws(() => parseUpstreamOutput('{"runs_s":[]}\nTraceback\n'), /no timing line/);
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
      // a stand-in for upstream: prints a timing line and ignores the arguments the bench appends
      upstream: `echo '{"runs_s":[0.5,0.25,0.75]}' #`,
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
    assert.equal(j.machine.cpus > 0, true);
    assert.ok(j.machine.description.length > 0);
    assert.ok(Array.isArray(j.machine.flags));
    assert.equal(typeof j.machine.loadAvg.start, "number");
    for (const kind of ["encode", "decode"] as const) {
      const s = j.solo[kind]!;
      assert.equal(s.oursRuns.length, 1);
      assert.equal(s.oursRuns[0].runs.length, 3);
      positive(s.ours.median, `solo.${kind}.ours`);
      positive(s.shareOfMatmul, `solo.${kind}.shareOfMatmul`);
      assert.equal(s.upstream!.upstream.median, 0.5);
      assert.ok(Math.abs(s.upstream!.ratio.median - 0.5 / s.ours.median) < 1e-9);
    }
    assert.deepEqual(j.targets.map((t) => t.id), Object.keys(TARGETS));
    for (const t of j.targets) {
      assert.equal(t.pass, t.kind === "min" ? t.value! >= t.target : t.value! <= t.target, t.id);
    }
    for (const kind of ["encode", "decode"] as const) {
      for (const b of ["batch1", "batch8", "batch8Bucketed"] as const) {
        const p: PhaseFigures = j[kind]![b];
        for (
          const k of ["wallSeconds", "secondsPer10s", "usefulGflop", "gflops", "peakRssBytes", "loadSeconds"] as const
        ) positive(p[k], `${kind}.${b}.${k}`);
        assert.ok(Math.abs(p.audioSeconds - 2.8) < 1e-9);
      }
      positive(j[kind]!.batchedSpeedup, `${kind}.batchedSpeedup`);
      assert.equal(
        j[kind]!.batch1.usefulGflop,
        j[kind]!.batch8.usefulGflop,
        "useful FLOPs do not depend on the batching",
      );
    }
    for (const k of Object.keys(j.pass)) assert.equal(typeof j.pass[k], "boolean", k);
    // long audio and streaming: the default grids really window the 35 s runs; every figure finite and positive
    for (const kind of ["decode", "encode"] as const) {
      const p = j.long![kind];
      assert.equal(p.seconds, 35);
      for (const k of ["clipSecondsPer10s", "longSecondsPer10s", "ratio", "peakRssBytes"] as const) {
        positive(p[k], `long.${kind}.${k}`);
      }
    }
    positive(j.long!.stream.firstAudioSeconds, "long.stream.firstAudioSeconds");
    positive(j.long!.stream.rtf, "long.stream.rtf");
    assert.equal(j.long!.hour, undefined);
    assert.deepEqual(Object.keys(j.long!.pass).sort(), [
      "decodeRss",
      "decodeSpeed",
      "encodeRss",
      "encodeSpeed",
      "firstAudio",
      "rtf",
    ]);
    for (const [k, v] of Object.entries(j.long!.pass)) assert.equal(j.pass[`long.${k}`], v, k);
    const table = formatTable(j);
    assert.match(table, /encode batch 8/);
    assert.match(table, /decode batched \/ loop/);
    assert.match(table, /upstream\/ours/);
    assert.match(table, /targets:\n/);
    assert.match(table, /decode 35 s \(windowed\).*target ≤ 1\.3× (PASS|FAIL)/);
    assert.match(table, /stream 20 s .* ms to first audio .*(PASS|FAIL)/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
