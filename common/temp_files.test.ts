/**
 * Temporary names and the sweep of stale temporaries: what is removed (temporaries of this output whose process no
 * longer runs, in this version's names and 0.1.0's) and what is kept. The writers that use them are tested killed
 * mid-write in `convert/killed_writers.test.ts` and `runtime/killed_writers.test.ts`.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { claimTempPath, isStaleTempName, isTempName, removeStaleTemps, tempPathFor } from "./temp_files.ts";
import { deadPid } from "../fixtures/support/stale_temps.ts";
import { tempDir } from "../fixtures/support/temp_dir.ts";

const work = await tempDir("xcodec2-temps-");

describe("stale temporaries", () => {
  test("the sweep removes temporaries of dead processes only, of this output only", async () => {
    const dir = join(work, "sweep");
    await mkdir(dir);
    const out = join(dir, "out");
    const dead = await deadPid();
    const stale = [
      `.out.tmp-${dead}-0a1b2c3d0`, // this version's name
      `.out.tmp-${dead}`, // 0.1.0 conversion folder
      `out.tmp-${dead}`, // 0.1.0 file writers
      `out.tmp-${dead}-1764424242424`, // 0.1.0 model cache
      `.out.tmp-${process.pid}-ffffffff0`, // our pid, but not this process's nonce: an earlier process with our pid
    ];
    const kept = [
      `.out.tmp-1-0a1b2c3d0`, // pid 1 always runs
      `.other.tmp-${dead}-0a1b2c3d0`, // another output's: its own writer sweeps it
      `.out.tmp-${dead}-x.bak`, // not a temporary name
      basename(tempPathFor(out)), // ours, in use
    ];
    for (const n of [...stale, ...kept]) {
      if (n.startsWith(".out.tmp-") && n.endsWith(`${dead}`)) {
        await mkdir(join(dir, n));
        await writeFile(join(dir, n, "model.safetensors"), new Uint8Array(1024));
      } else {
        await writeFile(join(dir, n), "x");
      }
    }
    const removed = await removeStaleTemps(out);
    assert.deepEqual(removed.map((p) => basename(p)).sort(), [...stale].sort());
    assert.deepEqual((await readdir(dir)).sort(), [...kept].sort());
    // nothing to sweep where the folder does not exist
    assert.deepEqual(await removeStaleTemps(join(work, "missing", "out")), []);
  });

  test("claimTempPath names a hidden sibling carrying this pid, unique per call", async () => {
    const out = join(work, "claim", "codes.npy");
    const a = await claimTempPath(out);
    const b = await claimTempPath(out);
    assert.notEqual(a, b);
    assert.equal(dirname(a), dirname(out));
    assert.match(basename(a), new RegExp(`^\\.codes\\.npy\\.tmp-${process.pid}-[0-9a-z]+$`));
  });

  test("names with the machine in them (folders several machines write): another machine's are never stale here", async () => {
    const host = hostname().replace(/[^\w.-]/g, "_");
    const ours = basename(tempPathFor(join(work, "shard.parquet"), { host: true }));
    assert.match(
      ours,
      new RegExp(`^\\.shard\\.parquet\\.tmp-${host.replace(/[.]/g, "\\.")}-${process.pid}-[0-9a-z]+$`),
    );
    const dead = await deadPid();
    const elsewhere = `.shard.parquet.tmp-ip-10-0-0-1-${dead}-0a1b2c`; // a host name with dashes and digits
    for (const name of [ours, elsewhere, `.shard.parquet.tmp-${host}-${dead}-0a1b2c`, `.shard.parquet.tmp-${dead}-0`]) {
      assert.ok(isTempName(name), name);
    }
    assert.ok(!isTempName("shard.parquet") && !isTempName(`.shard.parquet.tmp-${dead}-x.bak`));
    assert.equal(isStaleTempName(ours), false, "this process's own");
    assert.equal(isStaleTempName(`.shard.parquet.tmp-${host}-${dead}-0a1b2c`), true, "this machine's, writer gone");
    assert.equal(isStaleTempName(elsewhere), false, "another machine's writer cannot be asked");
    assert.equal(isStaleTempName(elsewhere, { everyHost: true }), true, "unless no writer runs anywhere");
  });
});
