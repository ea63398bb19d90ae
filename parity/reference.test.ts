/**
 * The one reader of fixtures/reference: file-system paths (a folder name with a space works), every case and clip
 * readable, copies that callers may modify, and errors that name what is missing.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, mkdir } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { CLIP_NAMES } from "../fixtures/support/reference.ts";
import { tempDir } from "../fixtures/support/temp_dir.ts";
import {
  readCaseTensors,
  readReferenceClip,
  referenceClipPath,
  referenceIndex,
  referencePath,
  referenceRoot,
  TINY_VARIANT,
  tinyConvertedDir,
  variantDirs,
} from "./reference.ts";

const work = await tempDir("xcodec2-reference-");

describe("the reference set reader", () => {
  test("finds the bundled set by absolute file-system path", () => {
    const root = referenceRoot();
    assert.ok(root !== undefined && isAbsolute(root), `root ${root}`);
    assert.equal(root, referencePath());
    assert.ok(existsSync(join(root, "cases.json")));
    assert.equal(tinyConvertedDir(), variantDirs(referenceIndex()).converted);
    for (const dir of Object.values(variantDirs(referenceIndex(), TINY_VARIANT))) assert.ok(existsSync(dir), dir);
  });

  test("every clip, and every case's tensors, as cases.json lists them", async () => {
    const index = referenceIndex();
    assert.deepEqual(Object.keys(index.clips).sort(), [...CLIP_NAMES].sort(), "the tests' clip list is the set's");
    for (const [name, clip] of Object.entries(index.clips)) {
      assert.equal((await readReferenceClip(index, name)).length, clip.samples, name);
    }
    assert.equal(Object.keys(index.cases).length, 12);
    for (const [key, c] of Object.entries(index.cases)) {
      assert.equal(c.key, key);
      const tensors = await readCaseTensors(index, key);
      assert.deepEqual([...tensors.keys()].sort(), Object.keys(c.tensors).sort(), key);
      for (const [name, info] of Object.entries(c.tensors)) {
        const t = tensors.tensor(name);
        assert.deepEqual(t.shape, info.shape, `${key} ${name}`);
        assert.equal(t.data.length, info.shape.reduce((a, b) => a * b, 1), `${key} ${name}`);
        // floats as Float32Array, every integer dtype (I32, and I64 range-checked) as Int32Array
        assert.equal(t.data instanceof Float32Array, info.dtype.startsWith("float"), `${key} ${name}`);
      }
    }
  });

  test("a copy of the set under a folder name with spaces reads the same", async () => {
    const index = referenceIndex();
    const root = join(work, "reference set (copy) ü");
    const clip = "speech_1000", key = `${TINY_VARIANT}/single/${clip}`;
    const tensorsFile = join(variantDirs(index).tensors, index.cases[key].file);
    await mkdir(root, { recursive: true });
    await cp(referencePath("cases.json"), join(root, "cases.json"));
    await mkdir(join(root, dirname(index.clips[clip].file)), { recursive: true });
    await cp(referenceClipPath(index, clip), join(root, index.clips[clip].file));
    const copyTensors = join(root, index.variants[TINY_VARIANT].tensors_dir, index.cases[key].file);
    await mkdir(dirname(copyTensors), { recursive: true });
    await cp(tensorsFile, copyTensors);

    const copy = referenceIndex(root);
    assert.equal(copy.root, root);
    assert.deepEqual(await readReferenceClip(copy, clip), await readReferenceClip(index, clip));
    const [ours, theirs] = [await readCaseTensors(copy, key), await readCaseTensors(index, key)];
    assert.equal(ours.file, copyTensors);
    assert.deepEqual([...ours.entries()], [...theirs.entries()]);
  });

  test("each call returns its own copy of a clip", async () => {
    const index = referenceIndex();
    const a = await readReferenceClip(index, "speech_1600");
    const before = a[0];
    a[0] = 42;
    assert.equal((await readReferenceClip(index, "speech_1600"))[0], before);
  });

  test("missing clips, cases, variants and tensors are named", async () => {
    const index = referenceIndex();
    await assert.rejects(readReferenceClip(index, "nope"), /cases\.json: no clip named "nope"/);
    await assert.rejects(readCaseTensors(index, "tiny-a/single/nope"), /cases\.json: no case "tiny-a\/single\/nope"/);
    assert.throws(() => variantDirs(index, "tiny-z"), /cases\.json: no variant named "tiny-z"/);
    const t = await readCaseTensors(index, `${TINY_VARIANT}/single/speech_1600`);
    assert.throws(() => t.tensor("enc.nope"), /single_speech_1600\.safetensors: no tensor enc\.nope/);
    assert.throws(() => referenceIndex(join(work, "absent")), /absent.*cases\.json/);
  });
});
