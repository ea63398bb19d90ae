/**
 * Inputs and planning: every input form the command reads (folder, NeMo JSONL, X-Codec-2.0 TSV, WebDataset tar),
 * malformed manifests named by file and line, header lengths, and shards cut the same way every time.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readAudio } from "../runtime/mod.ts";
import { tempDir } from "../fixtures/support/temp_dir.ts";
import { buildCorpus, type Corpus, LONG_KEY } from "../fixtures/support/dataset/corpus.ts";
import { buildTar } from "../fixtures/support/dataset/tar_writer.ts";
import { DatasetError, ManifestError } from "./errors.ts";
import { readInputs, webDatasetKey } from "./inputs.ts";
import { cutShards, planShards } from "./plan.ts";
import { probeSeconds } from "./probe.ts";
import { indexTar } from "./tar.ts";
import type { InputItem } from "./item.ts";

let corpus: Corpus;
let dir: string;

before(async () => {
  dir = await tempDir("xcodec2-inputs-");
  corpus = await buildCorpus(join(dir, "corpus"));
});

describe("inputs", () => {
  test("every form, in input order, with keys, texts, lengths and locations", async () => {
    const { items, errors } = await readInputs(corpus.inputs);
    assert.deepEqual(items.map((i) => i.key), [
      "a",
      "broken",
      "c",
      "d",
      "empty",
      "sub/b",
      "m/e",
      "utt-f",
      "m/g",
      "h",
      "sub/i",
      "spk1/utt1",
      "spk1/utt2",
      LONG_KEY,
    ]);
    const by = new Map(items.map((i) => [i.key, i]));
    assert.equal(by.get("a")!.text, "first words"); // .txt sidecar, trailing newline dropped
    assert.equal(by.get("m/e")!.text, "e text");
    assert.equal(by.get("m/e")!.seconds, 0.6);
    assert.equal(by.get("utt-f")!.text, null);
    assert.equal(by.get("m/e")!.source, "m/e.wav"); // as the manifest wrote it
    assert.equal(by.get("h")!.seconds, 0.5); // 8000 samples, get_tsv.py's unit
    assert.equal(by.get("spk1/utt1")!.text, "tar one");
    assert.equal(by.get("spk1/utt1")!.seconds, 0.5);
    assert.equal(by.get("spk1/utt2")!.text, "tar two");
    const tarItem = by.get("spk1/utt1")!.audio;
    assert.ok("tar" in tarItem && tarItem.member === "spk1/utt1.flac");
    assert.deepEqual(errors.map((e) => [e.key, e.reason]), [["orphan", "no audio member (wav, flac, mp3)"]]);
  });

  test("a malformed manifest line is an error naming the file and the line", async () => {
    const cases: [string, RegExp][] = [
      ['{"audio_filepath": "a.wav"}\nnot json\n', /:2: not JSON/],
      ['{"audio_filepath": "a.wav"}\n\n{"text": "no path"}\n', /:3: needs "audio_filepath" \(or "path"\)/],
      ['{"audio_filepath": "a.wav", "duration": "3 s"}\n', /:1: "duration" must be a number/],
      ['{"audio_filepath": "a.wav", "offset": 2.5, "duration": 1}\n', /:1: "offset" .* not supported/],
      ['["a.wav"]\n', /:1: not a JSON object/],
      ['{"audio_filepath": "a.wav", "text": 5}\n', /:1: "text" must be a string or null/],
    ];
    for (const [i, [text, pattern]] of cases.entries()) {
      const file = join(dir, `bad${i}.jsonl`);
      await writeFile(file, text);
      await assert.rejects(readInputs([file]), (e: Error) => {
        assert.ok(e instanceof ManifestError, String(e));
        assert.ok(e.message.startsWith(`${file}:`), e.message);
        assert.match(e.message, pattern);
        return true;
      });
    }
  });

  test("a malformed TSV line names the file and the line", async () => {
    const file = join(dir, "bad.tsv");
    await writeFile(file, "root\na.wav\t16000\nb.wav\tlong\n");
    await assert.rejects(readInputs([file]), /bad\.tsv:3: the length "long" is not a number/);
    await writeFile(file, "a.wav\t1\t2\n");
    await assert.rejects(readInputs([file]), /bad\.tsv:1: expected "path<TAB>length in samples", got 3 columns/);
  });

  test("a key used twice is refused with both sources; unknown inputs and missing paths are named", async () => {
    const m = join(corpus.root, "manifest.jsonl");
    await assert.rejects(
      readInputs([m, m]),
      (e: Error) => e instanceof DatasetError && /key "m\/e" is used twice/.test(e.message),
    );
    await assert.rejects(readInputs([join(dir, "nope")]), /nope: no such file or folder/);
    const other = join(dir, "notes.md");
    await writeFile(other, "x");
    await assert.rejects(readInputs([other]), /notes\.md: not an input this command reads/);
  });
});

describe("tar", () => {
  test("ustar and pax names, member offsets that hold the bytes", async () => {
    const data = new TextEncoder().encode("hello");
    const long = `${"d".repeat(120)}/f.txt`;
    const path = join(dir, "t.tar");
    await writeFile(path, buildTar([{ name: "a/b.txt", data }, { name: long, data: new Uint8Array(600) }]));
    const members = await indexTar(path);
    assert.deepEqual(members.map((m) => [m.name, m.size]), [["a/b.txt", 5], [long, 600]]);
    const bytes = await readFile(path);
    assert.equal(new TextDecoder().decode(bytes.subarray(members[0].offset, members[0].offset + 5)), "hello");
  });

  test("a corrupt header and a truncated member are errors naming the tar and the offset", async () => {
    const good = buildTar([{ name: "a.wav", data: new Uint8Array(1000) }, { name: "b.wav", data: new Uint8Array(10) }]);
    const bad = good.slice();
    bad[1536 + 10] ^= 0xff; // inside the second header (after 512 + 1024 bytes)
    const p1 = join(dir, "bad.tar");
    await writeFile(p1, bad);
    await assert.rejects(indexTar(p1), /bad\.tar:1536: not a tar header \(bad checksum\)/);
    const p2 = join(dir, "short.tar");
    await writeFile(p2, good.subarray(0, 700));
    await assert.rejects(indexTar(p2), /short\.tar:0: member declares 1000 bytes but the file ends first/);
    await assert.rejects(indexTar(join(dir, "x.tar.gz")), /compressed tar files cannot be read/);
  });

  test("WebDataset keys: the name up to the first dot of the last component", () => {
    assert.deepEqual(webDatasetKey("spk/utt.seg1.flac"), { key: "spk/utt", suffix: "seg1.flac" });
    assert.deepEqual(webDatasetKey("a.b/c.json"), { key: "a.b/c", suffix: "json" });
    assert.deepEqual(webDatasetKey("noext"), { key: "noext", suffix: "" });
  });
});

describe("lengths and planning", () => {
  test("header lengths equal decoded lengths for WAV and FLAC; MP3 from its bitrate; bad files say why", async () => {
    for (const key of ["a", "sub/b", "m/e"]) {
      const ref = corpus.items.get(key)!.ref;
      const decoded = (await readAudio(ref)).samples.length / 16000;
      assert.ok(Math.abs((await probeSeconds({ file: ref })) - decoded) < 1e-9, key);
    }
    assert.ok(Math.abs((await probeSeconds({ file: corpus.items.get("c")!.ref })) - 20 * 576 / 16000) < 1e-9);
    await assert.rejects(probeSeconds({ file: join(corpus.root, "folder/empty.wav") }), /empty \(0 bytes\)/);
    await assert.rejects(probeSeconds({ file: join(dir, "missing.wav") }), /cannot read file/);
    await writeFile(join(dir, "text.wav"), "not audio at all");
    await assert.rejects(probeSeconds({ file: join(dir, "text.wav") }), /not a WAV, FLAC or MP3/);
  });

  test("shards by items and by hours, in input order; unreadable items set aside", async () => {
    const item = (key: string, seconds: number): InputItem => ({
      key,
      source: key,
      audio: { file: key },
      text: null,
      seconds,
    });
    const items = [item("a", 1800), item("b", 1800), item("c", 3600), item("d", 10)];
    assert.deepEqual(cutShards(items, { items: 3 }).map((s) => s.map((i) => i.key)), [["a", "b", "c"], ["d"]]);
    assert.deepEqual(cutShards(items, { hours: 1 }).map((s) => s.map((i) => i.key)), [["a", "b"], ["c"], ["d"]]);
    const { items: all } = await readInputs(corpus.inputs);
    const p1 = await planShards(all, { items: 4 });
    const p2 = await planShards(all, { items: 4 });
    assert.deepEqual(p1, p2);
    assert.deepEqual(p1.errors.map((e) => e.key), ["empty"]);
    assert.deepEqual(p1.shards.map((s) => s.length), [4, 4, 4, 1]);
    assert.ok(p1.shards.flat().every((i) => typeof i.seconds === "number" && i.seconds > 0));
  });
});
