/**
 * The converter on the family's other members: each tiny checkpoint, in its published layout (fixtures/gen/member.ts),
 * is detected from its tensors, converted to transformers' NeuCodecModel layout (NeuCodec, WideCodec; the files equal
 * what transformers itself writes back after loading them, fixtures/family/<member>/transformers.json) or to our
 * pooled extension (25TPS), and its facts are right; NeuCodec's semantic encoder comes from a second source or the
 * conversion says where to put it; NeuCodec's decoder convs keep the plain weight its original runs.
 */
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileDigest } from "../common/checksums.ts";
import { generateMemberCheckpoint } from "../fixtures/gen/member.ts";
import { cleanupMemberFixtures, memberFixture, OTHER_MEMBERS } from "../fixtures/support/family.ts";
import { modelFacts, readXcodec2Config } from "./architecture/mod.ts";
import { convertCheckpoint } from "./convert.ts";
import { ConversionError } from "./errors.ts";
import { detectMember } from "./member_architecture.ts";
import { openSafetensors } from "./safetensors/mod.ts";
import { openTensorSource } from "./source.ts";

const work = await mkdtemp(join(tmpdir(), "convert-family-"));
after(async () => {
  await rm(work, { recursive: true, force: true });
  await cleanupMemberFixtures();
});

const EXPECTED = {
  neucodec: { type: "neucodec", out: 24000, hop: 480, codesPerSecond: 50, layers: 2, features: "neucodec" },
  widecodec: { type: "neucodec", out: 44100, hop: 882, codesPerSecond: 50, layers: 3, features: "neucodec" },
  "xcodec2-25tps-24k": {
    type: "xcodec2_pooled",
    out: 24000,
    hop: 960,
    codesPerSecond: 25,
    layers: 2,
    features: "xcodec2",
  },
} as const;

describe("each member converts from its published layout", () => {
  for (const member of OTHER_MEMBERS) {
    test(`${member}: the generated files are the ones its original ran on; detected, converted, facts right`, async () => {
      const f = await memberFixture(member);
      for (const [file, sha] of Object.entries(f.reference.checkpoint.sha256)) {
        assert.equal((await fileDigest(join(f.checkpoint.dir, file))).hex, sha, `${file} differs from the reference's`);
      }
      assert.equal(f.report.member.name, member);
      assert.equal(f.report.member.forced, false);
      const cfg = await readXcodec2Config(join(f.converted, "config.json"));
      const facts = modelFacts(cfg);
      const e = EXPECTED[member];
      assert.equal(cfg.model_type, e.type);
      assert.equal(cfg.num_hidden_layers, e.layers);
      assert.deepEqual(
        [facts.inputSampleRate, facts.sampleRate, facts.decoderHop, facts.nFft, facts.codesPerSecond, facts.features],
        [16000, e.out, e.hop, 4 * e.hop, e.codesPerSecond, e.features],
      );
      // the walk's table was checked by the plan; the head is the member's
      const w = await openSafetensors(join(f.converted, "model.safetensors"));
      assert.deepEqual(w.info("acoustic_decoder.head.linear.weight")?.shape, [4 * e.hop + 2, cfg.hidden_size]);
      assert.equal(w.list().filter((t) => t.name.startsWith("semantic_encoder.encoder.layers.")).length % 16, 0);
      await w.close();
      const sidecar = JSON.parse(await readFile(join(f.converted, "conversion.json"), "utf8"));
      assert.equal(sidecar.member.name, member);
      assert.ok(sidecar.member.evidence[0].includes(`n_fft ${4 * e.hop}`), sidecar.member.evidence[0]);
    });
  }

  for (const member of ["neucodec", "widecodec"] as const) {
    test(`${member}: config.json and preprocessor_config.json equal what transformers' NeuCodecModel writes back`, async () => {
      const f = await memberFixture(member);
      const tf = JSON.parse(await readFile(join(f.reference.root, "transformers.json"), "utf8"));
      // recorded in the chroot: NeuCodecModel.from_pretrained(our folder) loads every tensor bit for bit
      assert.deepEqual([tf.from_pretrained.missing, tf.from_pretrained.unexpected], [[], []]);
      for (const file of ["config.json", "preprocessor_config.json"]) {
        assert.equal(await readFile(join(f.converted, file), "utf8"), tf.save_pretrained[file].text, file);
      }
    });
  }

  test("25TPS: SnakeBeta's `bias` and the parametrized weight norm become transformers' names", async () => {
    const f = await memberFixture("xcodec2-25tps-24k");
    const side = JSON.parse(await readFile(join(f.converted, "conversion.json"), "utf8"));
    const rec = (name: string) => side.tensors.find((t: { source: string }) => t.source === name);
    assert.deepEqual(rec("CodecEnc.conv_blocks.1.block.0.block.0.act.bias").targets, [
      "acoustic_encoder.block.0.res_unit1.snake1.act.beta",
    ]);
    assert.equal(rec("CodecEnc.conv_blocks.0.parametrizations.weight.original1").action, "fold_weight_norm");
    assert.ok(side.member.evidence.includes("SnakeBeta's log-beta stored as `bias`"));
    const cfg = JSON.parse(await readFile(join(f.converted, "config.json"), "utf8"));
    assert.deepEqual([cfg.code_pooling, cfg.input_sampling_rate, cfg.output_sampling_rate], [2, 16000, 24000]);
    assert.equal(cfg.architectures, undefined);
  });
});

describe("NeuCodec's decoder: the plain weight its original runs, the unused weight norm compared", () => {
  test("g/v drawn apart from the plain weight: the plain weight is written, 9 disagreements reported", async () => {
    const f = await memberFixture("neucodec");
    const src = await openTensorSource(f.checkpoint.file);
    const out = await openSafetensors(join(f.converted, "model.safetensors"));
    try {
      assert.deepEqual(
        await out.read("acoustic_decoder.embed.weight"),
        await src.read("generator.backbone.embed.weight"),
      );
      assert.deepEqual(
        await out.read("acoustic_decoder.post_net.1.conv2.weight"),
        await src.read("generator.backbone.post_net.1.conv2.weight"),
      );
    } finally {
      await src.close();
      await out.close();
    }
    const beside = f.report.weightNorm.beside_plain!;
    assert.equal(beside.length, 9);
    assert.ok(beside.every((b) => b.maxRelDiff > 0.1));
    assert.equal(f.report.warnings.length, 9);
    assert.match(f.report.warnings[0]!, /the plain weight is used \(transformers' converter folds g\/v instead\)/);
    const side = JSON.parse(await readFile(join(f.converted, "conversion.json"), "utf8"));
    const g = side.tensors.find((t: { source: string }) => t.source === "generator.backbone.embed.weight_g");
    assert.equal(g.action, "drop");
    assert.match(g.reason, /the original runs/);
    assert.equal(side.weight_norm.folded, 37); // the acoustic encoder's, as XCodec2's
  });

  test("g/v equal to the plain weight (stored as torch folds it): no warning, the same plain bytes", async () => {
    const g = await generateMemberCheckpoint({
      member: "neucodec",
      out: join(work, "nc-equal"),
      decoderWeightNorm: "equal",
    });
    const r = await convertCheckpoint({ source: g.dir, out: join(work, "nc-equal-out"), log: () => {} });
    assert.deepEqual(r.warnings, []);
    assert.ok(r.weightNorm.beside_plain!.every((b) => b.maxRelDiff === 0), JSON.stringify(r.weightNorm.beside_plain));
  });
});

describe("NeuCodec's semantic encoder from a second source", () => {
  test("none beside it and no --semantic-encoder: the error says both ways", async () => {
    const dir = join(work, "nc-bare");
    const f = await memberFixture("neucodec");
    await cp(f.checkpoint.file, join(dir, "pytorch_model.bin"), { recursive: true });
    await assert.rejects(
      convertCheckpoint({ source: dir, out: join(work, "nc-bare-out"), log: () => {} }),
      (e: Error) => {
        assert.ok(e instanceof ConversionError);
        assert.match(e.message, /holds no semantic encoder \(semantic_model\.\*\): NeuCodec's original loads/);
        assert.ok(e.message.includes(join(dir, "w2v-bert-2.0")), e.message);
        assert.match(e.message, /--semantic-encoder <folder \| hf:\/\/facebook\/w2v-bert-2\.0\[@revision\]>/);
        return true;
      },
    );
    // --semantic-encoder <folder> converts it to the same weights as the folder beside it
    const out = join(work, "nc-flag-out");
    const r = await convertCheckpoint({
      source: dir,
      out,
      semanticEncoder: f.checkpoint.semanticDir,
      log: () => {},
    });
    assert.equal(r.member.semantic_encoder, f.checkpoint.semanticDir);
    assert.deepEqual(
      await readFile(join(out, "model.safetensors")),
      await readFile(join(f.converted, "model.safetensors")),
    );
    // conversion.json hashes both sources
    assert.deepEqual(
      r.source.files.map((d) => d.sha256).sort(),
      [
        f.reference.checkpoint.sha256["pytorch_model.bin"],
        f.reference.checkpoint.sha256["w2v-bert-2.0/model.safetensors"],
      ].sort(),
    );
  });

  test("a checkpoint that holds its semantic encoder refuses --semantic-encoder", async () => {
    const f = await memberFixture("widecodec");
    await assert.rejects(
      convertCheckpoint({
        source: f.checkpoint.dir,
        out: join(work, "wc-flag"),
        semanticEncoder: (await memberFixture("neucodec")).checkpoint.semanticDir,
        log: () => {},
      }),
      /already holds its semantic encoder/,
    );
  });
});

describe("member detection", () => {
  test("--family naming another member fails on the head's size; an unknown n_fft is named", async () => {
    const f = await memberFixture("widecodec");
    await assert.rejects(
      convertCheckpoint({ source: f.checkpoint.dir, out: join(work, "wc-as-nc"), family: "neucodec", log: () => {} }),
      /--family neucodec: NeuCodec's head has n_fft 1920 \(1922 rows\), this one 3528/,
    );
    const forced = await convertCheckpoint({
      source: f.checkpoint.dir,
      out: join(work, "wc-forced"),
      family: "widecodec",
      log: () => {},
    });
    assert.equal(forced.member.forced, true);
  });

  test("an n_fft no member has is named with the known ones; a checkpoint without a head is no family member", () => {
    const head = (
      rows: number,
    ) => [{ name: "generator.head.out.weight", dtype: "F32" as const, shape: [rows, 8], byteLength: 0 }];
    assert.throws(
      () => detectMember(head(1002), "x.bin"),
      /x\.bin: tensor "generator\.head\.out\.weight": n_fft 1000 is no known member's \(xcodec2 1280, neucodec 1920, widecodec 3528, xcodec2-25tps-24k 3840\); pass --family/,
    );
    assert.equal(detectMember(head(1922), "x.bin").member.name, "neucodec");
    assert.throws(() => detectMember([], "x.bin"), /no ISTFT head .*not an XCodec2-family checkpoint/);
  });

  test("a 25TPS config.json whose sizes contradict the tensors is refused", async () => {
    const f = await memberFixture("xcodec2-25tps-24k");
    const dir = join(work, "tps-badcfg");
    await cp(f.checkpoint.dir, dir, { recursive: true });
    const cfg = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
    await writeFile(join(dir, "config.json"), JSON.stringify({ ...cfg, codec_decoder_hidden_size: 1024 }));
    await assert.rejects(
      convertCheckpoint({ source: dir, out: join(work, "tps-badcfg-out"), log: () => {} }),
      /codec_decoder_hidden_size is 1024, but the tensors have 128/,
    );
  });
});
