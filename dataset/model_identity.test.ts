/**
 * The model identity a dataset records: for a folder made by `xcodec2 convert`, the converter's own source sha256 (the
 * figure its model card shows); for any other folder, a digest of its weights and config that changes with them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { convertCheckpoint } from "../convert/mod.ts";
import { TINY_CONVERTED, TINY_ORIGINAL } from "../fixtures/support/reference.ts";
import { tempDir } from "../fixtures/support/temp_dir.ts";
import { modelIdentity } from "./model_identity.ts";

test("a converted folder is identified by its source checkpoint's sha256, as its model card states it", async () => {
  const out = join(await tempDir("xcodec2-identity-"), "converted");
  await convertCheckpoint({ source: TINY_ORIGINAL, out });
  const id = await modelIdentity(out);
  assert.equal(id.of, "source checkpoint");
  const card = await readFile(join(out, "README.md"), "utf8");
  assert.ok(card.includes(`Source sha256 \`${id.sha256}\``), `the card does not state ${id.sha256}`);
});

test("any other folder: a digest of config.json and the weights, which changes with either", async () => {
  const dir = join(await tempDir("xcodec2-identity-"), "other");
  await cp(TINY_CONVERTED, dir, { recursive: true });
  await rm(join(dir, "conversion.json"), { force: true });
  const a = await modelIdentity(dir);
  assert.equal(a.of, "converted weights");
  assert.match(a.sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(await modelIdentity(dir), a);
  const config = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
  await writeFile(join(dir, "config.json"), JSON.stringify({ ...config, note: "edited" }));
  assert.notEqual((await modelIdentity(dir)).sha256, a.sha256);
});
