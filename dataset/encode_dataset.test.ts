/**
 * `xcodec2 encode-dataset` and `xcodec2 worker` as users run them (child processes, tiny reference checkpoint, a
 * small corpus in every input form): the one-machine run against `xcodec2 encode` of each file, read back by an
 * independent Parquet reader; a rerun that has nothing to do; `kill -9` mid-run and the same command again; the npy
 * tree; refusals; and the many-machine fault test: three NATS workers, one killed with SIGKILL mid-shard, the server
 * restarted mid-run, and the same bytes as the one-machine run.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { readAudio, readCodesFile } from "../runtime/mod.ts";
import { preparedTinyModel } from "../fixtures/support/prepared_model.ts";
import { tempDir } from "../fixtures/support/temp_dir.ts";
import { buildCorpus, type Corpus, LONG_KEY } from "../fixtures/support/dataset/corpus.ts";
import { CliProcess, type Ran, xcodec2 } from "../fixtures/support/cli_process.ts";
import { NatsServer, natsServerBinary } from "../fixtures/dataset/nats_server.ts";
import { type ReadRow, readShard } from "../fixtures/support/dataset/parquet_reader.ts";
import { isTempName } from "../common/temp_files.ts";
import { modelIdentity } from "./model_identity.ts";

const SLOW = { timeout: 300_000 };
const SHARDS = 7; // 13 planned items (the empty file is set aside while planning), 2 per shard
const VALID = 12; // the broken file fails while encoding
let model: string;
let work: string;
let corpus: Corpus;
/** `xcodec2 encode` of each valid item's file, by key */
const reference = new Map<string, Int32Array>();
let base: string;
let baseRun: Ran;

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function args(out: string, ...extra: string[]): string[] {
  return ["encode-dataset", model, ...corpus.inputs, "--out", out, "--shard-items", "2", "--resample", ...extra];
}

function ok(r: Ran, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code} (${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  await walk(dir);
  return out.sort();
}

/** The dataset's files (shards, card, errors), byte for byte, keyed by path. */
async function datasetBytes(out: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const f of await files(out)) {
    if (!f.startsWith(".xcodec2")) m.set(f, sha256(new Uint8Array(await readFile(join(out, f)))));
  }
  return m;
}

async function allRows(out: string): Promise<ReadRow[]> {
  const rows: ReadRow[] = [];
  for (const f of (await readdir(join(out, "data"))).sort()) rows.push(...(await readShard(join(out, "data", f))).rows);
  return rows;
}

async function ledgerLines(out: string): Promise<string[]> {
  try {
    return (await readFile(join(out, ".xcodec2/ledger.jsonl"), "utf8")).split("\n").filter((l) => l.endsWith("}"));
  } catch {
    return [];
  }
}

async function noTemporaries(out: string): Promise<void> {
  const temps = (await files(out)).filter((f) => isTempName(f));
  assert.deepEqual(temps, [], "temporary files left behind");
}

/**
 * `out` holds the one-machine run's dataset: the same files byte for byte, no temporary left behind, and (given the
 * run `r` that finished it) the same summary.
 */
async function assertSameDataset(out: string, r?: Ran): Promise<void> {
  assert.deepEqual(await datasetBytes(out), await datasetBytes(base));
  await noTemporaries(out);
  if (r) assert.equal(r.stdout.replaceAll(out, "<out>"), baseRun.stdout.replaceAll(base, "<out>"));
}

/** The records of a dataset's errors.jsonl. */
async function errorRecords(out: string) {
  return (await readFile(join(out, "errors.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
}

/** Shard 2's file can then never be written: a folder stands where it must be renamed to (EISDIR). */
async function blockShard2(out: string): Promise<string> {
  const blocked = join(out, "data", `train-00002-of-0000${SHARDS}.parquet`);
  await mkdir(blocked, { recursive: true });
  return blocked;
}

async function until(cond: () => Promise<boolean>, what: string, ms = 240_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  model = await preparedTinyModel();
  work = await tempDir("xcodec2-dataset-");
  corpus = await buildCorpus(join(work, "corpus"));
  const r = await xcodec2(
    "encode",
    model,
    corpus.refDir,
    "--out",
    join(work, "refcodes"),
    "--resample",
    "--device",
    "cpu",
  );
  ok(r, "xcodec2 encode");
  for (const [key, it] of corpus.items) {
    const npy = join(work, "refcodes", it.ref.slice(corpus.refDir.length + 1).replace(/\.[^.]+$/, ".npy"));
    reference.set(key, (await readCodesFile(npy))[0].codes);
  }
  base = join(work, "base");
  baseRun = await xcodec2(...args(base, "--workers", "2", "--threads", "1", "--device", "cpu"));
  ok(baseRun, "encode-dataset");
}, SLOW);

describe("encode-dataset on one machine", () => {
  test("every item once, with the codes of `xcodec2 encode`, read back by parquet-wasm", SLOW, async () => {
    const names = (await readdir(join(base, "data"))).sort();
    assert.deepEqual(names, Array.from({ length: SHARDS }, (_, i) => `train-0000${i}-of-0000${SHARDS}.parquet`));
    const rows = await allRows(base);
    assert.deepEqual(rows.map((r) => r.__key__).sort(), [...corpus.items.keys()].sort());
    assert.equal(rows.length, VALID);
    for (const r of rows) {
      const item = corpus.items.get(r.__key__)!;
      assert.deepEqual(r.codes, reference.get(r.__key__), `codes of ${r.__key__}`);
      assert.equal(r.n_codes, r.codes.length);
      assert.equal(r.text, item.text, `text of ${r.__key__}`);
      assert.equal(r.audio_sha256, sha256(new Uint8Array(await readFile(item.ref))));
      const seconds = (await readAudio(item.ref, { resample: true })).samples.length / 16000;
      assert.equal(r.duration_s, Math.fround(seconds));
    }
    // row order inside a shard is input order: the folder's sorted paths first
    assert.deepEqual(rows.slice(0, 3).map((r) => r.__key__), ["a", "c", "d"]);
    assert.ok(rows.some((r) => r.__key__ === LONG_KEY && r.source.endsWith(`shard-000.tar:${LONG_KEY}.wav`)));
    const meta = JSON.parse((await readShard(join(base, "data", names[0]))).metadata.get("xcodec2")!);
    assert.deepEqual(
      { sha: meta.model_sha256, of: meta.model_sha256_of, sr: meta.sample_rate, fr: meta.frame_rate },
      { sha: (await modelIdentity(model)).sha256, of: "converted weights", sr: 16000, fr: 50 },
    );
    assert.equal(meta.codebook_size, 65536);
    const errors = await errorRecords(base);
    assert.deepEqual(errors.map((e) => e.key).sort(), [...corpus.errorKeys].sort());
    assert.match(errors.find((e) => e.key === "broken").reason, /12/); // 12-bit PCM: found while decoding
    const card = await readFile(join(base, "README.md"), "utf8");
    assert.match(
      card,
      /^---\nconfigs:\n- config_name: default\n {2}data_files:\n {2}- split: train\n {4}path: data\/train-\*/,
    );
    assert.match(card, new RegExp(`num_examples: ${VALID}\n`));
    assert.match(baseRun.stdout, new RegExp(`${SHARDS} of ${SHARDS} shards done`));
    assert.match(baseRun.stdout, new RegExp(`${VALID} items encoded`));
    assert.match(baseRun.stdout, /3 items skipped/);
    await noTemporaries(base);
  });

  test(
    "`xcodec2 decode` of a shard (the card's hint): one WAV per key, cut to its length, = decoding its codes",
    SLOW,
    async () => {
      const shard = join(base, "data", `train-00002-of-0000${SHARDS}.parquet`);
      const keys = (await readShard(shard)).rows.map((r) => r.__key__);
      assert.deepEqual(keys, ["sub/b", "m/e"]);
      const card = await readFile(join(base, "README.md"), "utf8");
      assert.ok(
        card.includes(`npx xcodec2 decode <model> data/train-00000-of-0000${SHARDS}.parquet --out wavs/`),
        card,
      );
      const wavs = join(work, "shard-wavs");
      ok(await xcodec2("decode", model, shard, "--out", wavs, "--device", "cpu"), "decode of a shard");
      const npys = keys.map((k) => join(work, "refcodes", `${k.replace(/\//g, "__")}.npy`));
      const refWavs = join(work, "shard-ref-wavs");
      ok(await xcodec2("decode", model, ...npys, "--out", refWavs, "--device", "cpu"), "decode of the reference codes");
      for (const key of keys) {
        const got = (await readAudio(join(wavs, `${key}.wav`))).samples;
        const full = (await readAudio(join(refWavs, `${key.replace(/\//g, "__")}.wav`))).samples;
        const source = (await readAudio(corpus.items.get(key)!.ref, { resample: true })).samples;
        assert.equal(got.length, source.length, `${key}: cut to the source's length`);
        assert.deepEqual(got, full.subarray(0, got.length), key);
      }
    },
  );

  test("the same command again finds everything done and changes nothing", SLOW, async () => {
    const before = await datasetBytes(base);
    const r = await xcodec2(...args(base, "--device", "cpu"));
    ok(r, "rerun");
    assert.equal(r.stdout, baseRun.stdout);
    assert.deepEqual(await datasetBytes(base), before);
    assert.equal((await ledgerLines(base)).length, SHARDS);
  });

  test("kill -9 mid-run, then the same command: only unfinished shards, the same bytes", SLOW, async () => {
    const out = join(work, "killed");
    const first = new CliProcess(args(out, "--workers", "1", "--device", "cpu"));
    await until(async () => (await ledgerLines(out)).length >= 1 || first.child.exitCode !== null, "a first shard");
    first.child.kill("SIGKILL");
    const r1 = await first.done;
    assert.equal(r1.signal, "SIGKILL", `the run ended before it could be killed: ${r1.stderr}`);
    const doneBefore = (await ledgerLines(out)).length;
    assert.ok(doneBefore >= 1 && doneBefore < SHARDS, `${doneBefore} shards done at the kill`);
    const r2 = await xcodec2(...args(out, "--workers", "1", "--device", "cpu"));
    ok(r2, "resumed run");
    assert.match(r2.stderr, /resuming the job/);
    const lines = (await ledgerLines(out)).map((l) => JSON.parse(l).shard as number);
    assert.deepEqual([...lines].sort((a, b) => a - b), Array.from({ length: SHARDS }, (_, i) => i), "each shard once");
    await assertSameDataset(out);
  });

  test(
    "a worker process SIGKILLed mid-shard: the pool retries its shard in another, the same bytes",
    SLOW,
    async () => {
      const out = join(work, "worker-killed");
      const run = new CliProcess(args(out, "--workers", "2", "--threads", "1", "--device", "cpu"));
      // the first shard a worker takes also opens its encoder session (seconds): it is mid-shard when killed
      const [, shard, pid] = await run.waitForStderr(
        /(train-\d+-of-\d+): started in worker process (\d+) \(try 1 of 3\)/,
      );
      process.kill(Number(pid), "SIGKILL");
      const r = await run.done;
      ok(r, "run with a killed worker");
      assert.match(
        r.stderr,
        new RegExp(`${shard}: try 1 of 3 failed \\(its worker process died \\(SIGKILL\\)\\); trying again`),
      );
      const retried = new RegExp(`${shard}: started in worker process (\\d+) \\(try 2 of 3\\)`).exec(r.stderr);
      assert.ok(retried, `${shard} was not tried again:\n${r.stderr}`);
      assert.notEqual(retried[1], pid, "the retry ran in the killed process");
      const records = (await ledgerLines(out)).map((l) => JSON.parse(l));
      assert.deepEqual(records.map((x) => x.state), Array(SHARDS).fill("done"));
      assert.deepEqual(records.map((x) => x.shard).sort((a, b) => a - b), Array.from({ length: SHARDS }, (_, i) => i));
      await assertSameDataset(out, r);
    },
  );

  test(
    "a shard that fails every try is reported failed (summary, errors.jsonl, exit 1); the same command then redoes only it",
    SLOW,
    async () => {
      const out = join(work, "shard-failed");
      const blocked = await blockShard2(out); // fails on every try
      const r1 = await xcodec2(...args(out, "--workers", "1", "--max-tries", "2", "--device", "cpu"));
      assert.equal(r1.code, 1, `exit ${r1.code}\n${r1.stderr}`);
      assert.match(r1.stderr, /train-00002-of-00007: try 1 of 2 failed \(.*EISDIR.*\); trying again/);
      assert.match(r1.stdout, new RegExp(`${SHARDS - 1} of ${SHARDS} shards done, 1 failed\n`));
      assert.match(r1.stdout, /3 items skipped, 1 shard failed: see .*errors\.jsonl/);
      const errors = await errorRecords(out);
      const failures = errors.filter((e) => e.key === undefined);
      assert.equal(failures.length, 1, JSON.stringify(errors));
      assert.equal(failures[0].path, blocked);
      assert.match(failures[0].reason, /^shard failed after 2 tries: .*EISDIR/);
      assert.deepEqual(
        errors.filter((e) => e.key !== undefined).map((e) => e.key).sort(),
        [...corpus.errorKeys].sort(),
      );
      const ledger = (await ledgerLines(out)).map((l) => JSON.parse(l));
      assert.deepEqual(ledger.filter((x) => x.state === "failed").map((x) => [x.shard, x.tries]), [[2, 2]]);
      await assert.rejects(readFile(join(out, "README.md")), "a dataset card for an incomplete dataset");
      await noTemporaries(out);

      await rm(blocked, { recursive: true });
      const r2 = await xcodec2(...args(out, "--workers", "1", "--max-tries", "2", "--device", "cpu"));
      ok(r2, "the same command after the cause is gone");
      assert.match(r2.stderr, /resuming the job/);
      assert.deepEqual([...r2.stderr.matchAll(/(train-\d+-of-\d+): started/g)].map((m) => m[1]), [
        "train-00002-of-00007",
      ]);
      await assertSameDataset(out, r2);
    },
  );

  test("--format npy writes X-Codec-2.0's vq_codes tree", SLOW, async () => {
    const out = join(work, "npy");
    ok(await xcodec2(...args(out, "--format", "npy", "--device", "cpu")), "npy run");
    const npys = (await files(join(out, "vq_codes"))).map((f) => f.replace(/\.npy$/, ""));
    assert.deepEqual(npys.sort(), [...corpus.items.keys()].sort());
    for (const key of corpus.items.keys()) {
      assert.deepEqual((await readCodesFile(join(out, "vq_codes", `${key}.npy`)))[0].codes, reference.get(key), key);
    }
    await noTemporaries(out);
  });

  test("refusals: a malformed manifest line, another job in the folder, contradictory options", SLOW, async () => {
    const bad = join(work, "bad.jsonl");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(bad, `{"audio_filepath": "${corpus.items.get("a")!.ref}"}\n{"audio_filepath": 3}\n`);
    const r1 = await xcodec2("encode-dataset", model, bad, "--out", join(work, "never"), "--device", "cpu");
    assert.equal(r1.code, 1, r1.stderr);
    assert.match(r1.stderr, new RegExp(`${bad.replace(/[.]/g, "\\.")}:2: needs "audio_filepath"`));
    const r2 = await xcodec2(...args(base, "--device", "cpu").map((a) => (a === "2" ? "3" : a)));
    assert.equal(r2.code, 1, r2.stderr);
    assert.match(r2.stderr, /holds another job .* --force/);
    const r3 = await xcodec2(...args(join(work, "never"), "--shard-hours", "1"));
    assert.equal(r3.code, 2, r3.stderr);
    assert.match(r3.stderr, /--shard-items or --shard-hours, not both/);
    const r4 = await xcodec2(...args(join(work, "never"), "--engine", "http://queue:4222"));
    assert.equal(r4.code, 2, r4.stderr);
    assert.match(
      r4.stderr,
      /^xcodec2 encode-dataset: --engine must be a nats:\/\/host:port address, got http:\/\/queue:4222; usage: /,
    );
    const r5 = await xcodec2("worker", "--device", "cpu");
    assert.equal(r5.code, 2, r5.stderr);
    assert.match(r5.stderr, /^xcodec2 worker: missing <url>; usage: xcodec2 worker <url> \[options\]/);
  });

  test("--help: the generated usage and every option, exit 0", SLOW, async () => {
    const r = await xcodec2("encode-dataset", "--help");
    ok(r, "encode-dataset --help");
    assert.match(r.stdout, /^usage: xcodec2 encode-dataset <model> <input>\.\.\. --out DIR \[options\]\n/);
    for (const flag of ["--shard-items N", "--shard-hours H", "--format parquet|npy", "--engine nats://HOST:PORT"]) {
      assert.ok(r.stdout.includes(flag), `${flag} missing from:\n${r.stdout}`);
    }
    assert.match(r.stdout, /--max-tries N +tries per shard before it counts as failed \(default 3\)/);
    const w = await xcodec2("worker", "-h");
    ok(w, "worker -h");
    assert.match(w.stdout, /^usage: xcodec2 worker <url> \[options\]\n[^]*--idle-exit S/);
  });
});

describe("encode-dataset on NATS JetStream", () => {
  const skip = natsServerBinary() ? false : "nats-server is not installed (scripts/setup.sh installs it as root)";
  test("three workers, one killed mid-shard, the server restarted: every item once, the same bytes", {
    ...SLOW,
    skip,
  }, async () => {
    const server = await NatsServer.start();
    const workers: CliProcess[] = [];
    try {
      const out = join(work, "nats");
      const coordinator = new CliProcess(args(out, "--engine", server.url, "--ack-wait", "3", "--max-tries", "5"));
      for (let i = 0; i < 3; i++) {
        workers.push(new CliProcess(["worker", server.url, "--device", "cpu", "--threads", "1", "--idle-exit", "300"]));
      }
      // the first worker to start a shard dies in it (its first shard also opens the encoder session: seconds)
      const started = await Promise.race(
        workers.map((w, i) => w.waitForStderr(/(train-\d+-of-\d+): started/).then((m) => ({ i, shard: m[1] }))),
      );
      workers[started.i].child.kill("SIGKILL");
      // once a shard is in the ledger, restart the server under the running job
      await until(async () => (await ledgerLines(out)).length >= 1, "a first finished shard");
      const doneAtRestart = (await ledgerLines(out)).length;
      await server.restart();
      const r = await coordinator.done;
      ok(r, "coordinator");
      assert.ok(doneAtRestart < SHARDS, `the job had finished before the restart (${doneAtRestart} shards)`);
      assert.match(r.stderr, /lost the NATS server/);
      assert.equal((await workers[started.i].done).signal, "SIGKILL");
      const others = workers.filter((_, i) => i !== started.i);
      const redone = new RegExp(`${started.shard}: started \\(try [2-9]`);
      assert.ok(
        others.some((w) => redone.test(w.stderr)),
        `${started.shard} was not redelivered:\n${others.map((w) => w.stderr).join("\n---\n")}`,
      );
      // the same dataset as the one-machine run: every key once, byte-identical files, the same summary
      const rows = await allRows(out);
      assert.deepEqual(rows.map((x) => x.__key__).sort(), [...corpus.items.keys()].sort());
      for (const row of rows) assert.deepEqual(row.codes, reference.get(row.__key__), row.__key__);
      await assertSameDataset(out, r);
      console.error(
        `fault test: killed ${started.shard}'s first worker; ${doneAtRestart} of ${SHARDS} shards done at the server restart\n${r.stderr}`,
      );
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await server.stop();
    }
  });

  test("a shard that fails on every try: the workers report it failed after --max-tries, the summary counts it", {
    ...SLOW,
    skip,
  }, async () => {
    const server = await NatsServer.start();
    let worker: CliProcess | undefined;
    try {
      const out = join(work, "nats-failed");
      const blocked = await blockShard2(out);
      const coordinator = new CliProcess(args(out, "--engine", server.url, "--max-tries", "2"));
      worker = new CliProcess(["worker", server.url, "--device", "cpu", "--threads", "1", "--idle-exit", "300"]);
      const r = await coordinator.done;
      assert.equal(r.code, 1, `exit ${r.code}\n${r.stderr}`);
      assert.match(r.stdout, new RegExp(`${SHARDS - 1} of ${SHARDS} shards done, 1 failed\n`));
      assert.match(worker.stderr, /shard 2: try 1 failed: .*EISDIR/);
      assert.match(worker.stderr, /shard 2: failed for good after 2 tries: .*EISDIR/);
      const errors = await errorRecords(out);
      assert.deepEqual(
        errors.filter((e) => e.key === undefined).map((
          e,
        ) => [e.path, /^shard failed after 2 tries: .*EISDIR/.test(e.reason)]),
        [[blocked, true]],
      );
      await noTemporaries(out);
    } finally {
      await worker?.stop();
      await server.stop();
    }
  });
});
