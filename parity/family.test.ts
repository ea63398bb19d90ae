/**
 * The family's other members against their ORIGINAL code (fixtures/family/<member>: NeuCodec, WideCodec, the 25TPS
 * model, each run by its own repository's code on a checkpoint our generator wrote), with the base model's gates
 * (fixtures/reference/README.md): features 1e-4 absolute (3e-4 noise), encoder intermediates and latents 1e-5
 * relative L2, codes exact except fragile frames, audio 1e-5 absolute; and batch = per-sample on each.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import * as ort from "onnxruntime-node";
import { codesForClip, FEATURE_DIM, modelFacts, paddedClipSamples, readXcodec2Config } from "../convert/mod.ts";
import { buildEncoder, POOLED_INTERMEDIATE } from "../convert/onnx/encoder/encoder.ts";
import { Weights } from "../convert/onnx/weights.ts";
import { InputError } from "../runtime/validate.ts";
import type { Xcodec2 } from "../runtime/codec.ts";
import { readAudio, writeWav } from "../runtime/audio/mod.ts";
import { runDecodeCommand, runEncodeCommand } from "../runtime/cli.ts";
import { runParityCommand } from "./cli.ts";
import { cleanupMemberFixtures, memberFixture, OTHER_MEMBERS } from "../fixtures/support/family.ts";
import { session } from "../fixtures/support/graph_session.ts";
import { openCodec, type ParityCodec } from "./codec_handle.ts";
import { familyReference, identifyFamilyReference, readFamilyCase } from "./family_reference.ts";
import { relL2 } from "./metrics.ts";
import { batchDecodeProperty, batchEncodeProperty, runtimeOriginalProperty } from "./properties/mod.ts";
import { readReferenceClip, referenceIndex } from "./reference.ts";
import type { PropertyResult } from "./result.ts";
import { loadSources } from "./sources.ts";
import { CI_SIZES } from "./arbitraries.ts";
import { TOLERANCES } from "./tolerances.ts";

const SEED = 20261129;
const codecs: ParityCodec[] = [];
after(async () => {
  for (const c of codecs) await c.dispose?.();
  await cleanupMemberFixtures();
});
const explain = (r: PropertyResult) => `${r.name}: ${r.reason ?? ""} ${r.counterexample ?? ""}`;

async function memberCodec(member: (typeof OTHER_MEMBERS)[number]) {
  const f = await memberFixture(member);
  const dir = await f.exported();
  const codec = await openCodec(dir, { device: "cpu" });
  codecs.push(codec);
  return { f, dir, codec };
}

for (const member of OTHER_MEMBERS) {
  describe(`${member} against its original code`, () => {
    test("runtime = original: features, FSQ inputs, latents, codes and audio within the base gates", async () => {
      const { dir, codec } = await memberCodec(member);
      assert.equal((await identifyFamilyReference(dir))?.member, member, "the folder is recognised");
      const r = await runtimeOriginalProperty(codec, {
        seed: SEED,
        index: referenceIndex(),
        reference: familyReference(member),
      });
      assert.equal(r.status, "pass", explain(r));
      assert.equal(r.cases, Object.keys(familyReference(member).cases).length);
      assert.ok(r.maxError !== undefined && r.maxError <= 1, `worst error ÷ gate ${r.maxError}`);
    });

    test("encoder intermediates on the original's own features: each within 1e-5 relative L2", async () => {
      const { f } = await memberCodec(member);
      const cfg = await readXcodec2Config(join(f.converted, "config.json"));
      const facts = modelFacts(cfg);
      const w = await Weights.open(f.converted);
      const { s, close } = await session(
        "float32",
        (g) => buildEncoder(g, w, cfg, { masks: true, intermediates: true }),
      );
      try {
        for (const clip of Object.keys(f.reference.cases)) {
          const ref = await readFamilyCase(f.reference, clip);
          const audio = await readReferenceClip(referenceIndex(), clip);
          const feats = ref.tensor("fe.input_features").data as Float32Array;
          const rows = feats.length / FEATURE_DIM, L = paddedClipSamples(facts, audio.length);
          const values = new Float32Array(L);
          values.set(audio);
          const out = await s.run({
            input_values: new ort.Tensor("float32", values, [1, 1, L]),
            padding_mask: new ort.Tensor("int64", new BigInt64Array(L).fill(1n, 0, audio.length + 1), [1, L]),
            input_features: new ort.Tensor("float32", feats, [1, rows, FEATURE_DIM]),
            input_features_mask: new ort.Tensor("int64", new BigInt64Array(rows).fill(1n), [1, rows]),
          });
          const names = [
            "semantic_last_hidden_state",
            "semantic_adapter_out",
            "acoustic_encoder_out",
            "fc_encoder_out",
            ...(facts.codePooling > 1 ? [POOLED_INTERMEDIATE] : []),
            "fsq_input",
            "latents",
          ];
          for (const name of names) {
            const theirs = ref.tensor(`enc.${name}`);
            const ours = out[name]!;
            assert.deepEqual(ours.dims, theirs.shape, `${clip} ${name}: shape`);
            const e = relL2(ours.data as Float32Array, theirs.data as Float32Array);
            assert.ok(e <= TOLERANCES.latentsRelL2, `${clip} ${name}: rel L2 ${e.toExponential(2)}`);
          }
          assert.deepEqual(
            Array.from(out.audio_codes!.data as BigInt64Array, Number),
            Array.from(ref.tensor("enc.audio_codes").data),
            `${clip}: codes`,
          );
        }
      } finally {
        await close();
        w.close();
      }
    });

    test("codes per clip as the original at the hop edges; a clip too short for one code is refused", async () => {
      const { codec } = await memberCodec(member);
      const x = codec as ParityCodec & { encode(c: Float32Array[]): Promise<Int32Array[]> };
      for (const [len, r] of Object.entries(familyReference(member).edge_lengths)) {
        const n = Number(len);
        if (r.error !== undefined) {
          assert.equal(codesForClip(codec.facts!, n), 0, `${n} samples: the original refuses`);
          await assert.rejects(x.encode([new Float32Array(n).fill(0.1)]), (e: Error) => {
            assert.ok(e instanceof InputError);
            assert.match(e.message, new RegExp(`clip 0: ${n} samples; this model needs at least 320`));
            return true;
          });
        } else {
          assert.equal(codesForClip(codec.facts!, n), r.codes, `${n} samples`);
          const [codes] = await x.encode([new Float32Array(n).map((_, i) => 0.1 * Math.sin(i))]);
          assert.equal(codes.length, r.codes, `${n} samples through the graphs`);
        }
      }
    });

    test("audio of any length: windowed encode lines up with the whole clip; windowed decode and the stream", async () => {
      const { codec } = await memberCodec(member);
      const x = codec as Xcodec2;
      const speech = await readReferenceClip(referenceIndex(), "speech_36817");
      const clip = new Float32Array(4 * 16000).map((_, i) => speech[i % speech.length]);
      const grid = { window: 20, left: 8, right: 4 };
      const whole = await x.encodeDetailed([clip]);
      const windowed = await x.encodeDetailed([clip], { singlePassLimit: 20, ...grid });
      const T = codesForClip(x.facts, clip.length);
      assert.equal(windowed.codes[0].length, T);
      assert.equal(windowed.latents[0].length, whole.latents[0].length);
      let same = 0;
      for (let t = 0; t < T; t++) same += windowed.codes[0][t] === whole.codes[0][t] ? 1 : 0;
      // measured on the tiny members: 0.84 (NeuCodec, WideCodec), 0.96 (25TPS) of 200 / 100 codes; a window misaligned
      // by one encoder frame (or a pooling pair cut in two) agrees on about 1/65536 of its codes. The features of a
      // window are checked exactly in runtime/features/windowed.test.ts (the tiny models barely react to them).
      assert.ok(same / T >= 0.75, `${member}: only ${same} of ${T} codes agree with the whole clip's`);

      const codes = whole.codes[0];
      const [single] = await x.decode([codes], { singlePassLimit: Infinity });
      const [cut] = await x.decode([codes], { singlePassLimit: 0, ...grid });
      assert.equal(cut.length, T * x.samplesPerCode);
      // measured 0.23 for each member with 20-code windows (XCodec2's tiny model: 0.11–0.2, runtime/long_audio.test.ts)
      assert.ok(relL2(cut, single) < 0.5, `${member}: windowed decode rel L2 ${relL2(cut, single)}`);
      const [offline] = await x.decode([codes], { streaming: true, ...grid });
      const pieces: Float32Array[] = [];
      const input = [codes.subarray(0, 7), codes.subarray(7, 30), codes.subarray(30)];
      for await (const p of x.decodeStream(input, grid)) pieces.push(p);
      const streamed = new Float32Array(pieces.reduce((a, p) => a + p.length, 0));
      pieces.reduce((at, p) => (streamed.set(p, at), at + p.length), 0);
      assert.deepEqual(streamed, offline, `${member}: the stream equals its offline twin`);
    });

    test("batch = per-sample: encode and decode (properties 1 and 2)", async () => {
      const { codec } = await memberCodec(member);
      const sources = await loadSources();
      const sizes = { ...CI_SIZES, maxClipSamples: 20_000, maxBatch: 5, maxCodes: 80, minCodes: 2 };
      const enc = await batchEncodeProperty(codec, { runs: 5, seed: SEED, sources, sizes });
      assert.equal(enc.status, "pass", explain(enc));
      const dec = await batchDecodeProperty(codec, { runs: 5, seed: SEED, sources, sizes });
      assert.equal(dec.status, "pass", explain(dec));
    });
  });
}

test("WideCodec's encoder is NeuCodec's, frozen: the same codes for every clip (their originals, same weights)", async () => {
  const nc = familyReference("neucodec"), wc = familyReference("widecodec");
  for (const clip of Object.keys(nc.cases)) {
    const a = (await readFamilyCase(nc, clip)).tensor("enc.audio_codes").data;
    const b = (await readFamilyCase(wc, clip)).tensor("enc.audio_codes").data;
    assert.deepEqual(Array.from(a), Array.from(b), clip);
  }
});

test("the command line: `xcodec2 parity` checks the 25TPS folder against its original; encode/decode write 24 kHz WAVs", async () => {
  const { dir, codec } = await memberCodec("xcodec2-25tps-24k");
  const work = await mkdtemp(join(tmpdir(), "xcodec2-family-cli-"));
  try {
    const json = join(work, "report.json");
    const code = await runParityCommand([dir, "--only", "4", "--seed", String(SEED), "--json", json, "--quiet"]);
    assert.equal(code, 0);
    const report = JSON.parse(await readFile(json, "utf8"));
    assert.deepEqual(report.properties.map((p: PropertyResult) => [p.name, p.status]), [[
      "4 runtime=original",
      "pass",
    ]]);

    const clip = await readReferenceClip(referenceIndex(), "speech_16001");
    await mkdir(join(work, "in"));
    await writeWav(join(work, "in", "a.wav"), clip);
    assert.equal(await runEncodeCommand([dir, join(work, "in"), "--out", join(work, "codes.jsonl")]), 0);
    assert.equal(await runDecodeCommand([dir, join(work, "codes.jsonl"), "--out", join(work, "wav")]), 0);
    const out = await readAudio(join(work, "wav", "a.wav"), { sampleRate: 24000 });
    assert.equal(out.sourceRate, 24000);
    const codes = codesForClip(codec.facts!, clip.length); // 25 codes of 960 samples, trimmed to 16001·1.5
    assert.equal(codes, 25);
    assert.equal(out.samples.length, Math.min(codes * 960, Math.round(clip.length * 1.5)));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test("Xcodec2.load on an original NeuCodec file converts it into the cache, its semantic encoder named by option", async () => {
  const f = await memberFixture("neucodec");
  const work = await mkdtemp(join(tmpdir(), "xcodec2-family-load-"));
  try {
    const { Xcodec2 } = await import("../runtime/codec.ts");
    await mkdir(join(work, "bare"));
    await copyFile(f.checkpoint.file, join(work, "bare", "pytorch_model.bin"));
    const source = join(work, "bare", "pytorch_model.bin");
    await assert.rejects(Xcodec2.load(source, { cacheDir: work, log: () => {} }), /--semantic-encoder/);
    const codec = await Xcodec2.load(source, {
      cacheDir: work,
      device: "cpu",
      semanticEncoder: f.checkpoint.semanticDir,
      log: () => {},
    });
    try {
      assert.deepEqual(
        [
          codec.inputSampleRate,
          codec.outputSampleRate,
          codec.samplesPerCode,
          codec.codesPerSecond,
          codec.minClipSamples,
        ],
        [16000, 24000, 480, 50, 320],
      );
      const clip = await readReferenceClip(referenceIndex(), "speech_1600");
      const [codes] = await codec.encode([clip]);
      assert.deepEqual(
        Array.from(codes),
        Array.from((await readFamilyCase(f.reference, "speech_1600")).tensor("enc.audio_codes").data),
      );
    } finally {
      await codec.dispose();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
