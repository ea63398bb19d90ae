/**
 * Converter benchmark: converts the full-size synthetic checkpoint (generated once into .cache/bench/) and compares
 * the wall time with `cp` of the same file in the same run, and the peak RSS with the largest tensor + 256 MB.
 * Prints a table and writes bench-results/convert.json.
 *
 *   npx bun scripts/bench_convert.ts [--runs N] [--keep]
 * The conversion runs in a child process (this script with --child), which reports its own peak RSS.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CACHE = join(ROOT, ".cache", "bench");
const SOURCE = join(CACHE, "original");
const TARGET_TIME_RATIO = 1.3;
const RSS_HEADROOM = 256 * 2 ** 20;

async function child(src: string, out: string): Promise<void> {
  const { convertCheckpoint } = await import("../convert/convert.ts");
  const t0 = performance.now();
  const r = await convertCheckpoint({ source: src, out, force: true });
  const seconds = (performance.now() - t0) / 1000;
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ seconds, maxRssBytes, outputTensors: r.outputTensors, bytesWritten: r.bytesWritten }) + "\n");
}

function runtime(): string {
  const bun = join(ROOT, "node_modules", ".bin", "bun");
  return existsSync(bun) ? bun : process.execPath;
}

function timeCommand(cmd: string, args: string[], capture = true): { seconds: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", capture ? "pipe" : "ignore", "pipe"] });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return { seconds, stdout: r.stdout ?? "" };
}

async function largestTensorBytes(file: string): Promise<{ name: string; bytes: number; total: number; count: number }> {
  const { openSafetensors } = await import("../convert/safetensors/mod.ts");
  const s = await openSafetensors(file);
  const list = s.list();
  await s.close();
  const big = list.reduce((a, b) => (b.byteLength > a.byteLength ? b : a));
  return { name: big.name, bytes: big.byteLength, total: list.reduce((a, b) => a + b.byteLength, 0), count: list.length };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") return child(argv[1]!, argv[2]!);
  const runs = argv.includes("--runs") ? Number(argv[argv.indexOf("--runs") + 1]) : 2;
  const keep = argv.includes("--keep");

  const file = join(SOURCE, "model.safetensors");
  if (!existsSync(file)) {
    process.stderr.write(`generating the full-size synthetic checkpoint into ${SOURCE} (~3.3 GB, once)\n`);
    const { generateCheckpoint } = await import("../fixtures/generate.ts");
    await generateCheckpoint({ out: SOURCE, preset: "full" });
  }
  const size = (await stat(file)).size;
  const largest = await largestTensorBytes(file);
  const out = join(CACHE, "converted");
  const copy = join(CACHE, "copy.safetensors");
  const rt = runtime();

  // warm the page cache once so that neither side pays for the first read from disk
  timeCommand("cat", [file], false);
  const cp: number[] = [];
  const conv: { seconds: number; wall: number; maxRssBytes: number; outputTensors: number; bytesWritten: number }[] = [];
  for (let i = 0; i < runs; i++) {
    await rm(copy, { force: true });
    cp.push(timeCommand("cp", [file, copy], false).seconds);
    await rm(copy, { force: true });
    await rm(out, { recursive: true, force: true });
    const r = timeCommand(rt, [fileURLToPath(import.meta.url), "--child", SOURCE, out]);
    conv.push({ ...JSON.parse(r.stdout.trim().split("\n").pop()!), wall: r.seconds });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const cpS = median(cp);
  const convS = median(conv.map((c) => c.wall));
  const rss = Math.max(...conv.map((c) => c.maxRssBytes));
  const rssBudget = largest.bytes + RSS_HEADROOM;
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memBytes: totalmem(), runtime: rt.endsWith("bun") ? "bun" : process.execPath },
    source: { file, bytes: size, tensors: largest.count, largestTensor: { name: largest.name, bytes: largest.bytes } },
    runs,
    cpSeconds: cp,
    convertWallSeconds: conv.map((c) => c.wall),
    convertInProcessSeconds: conv.map((c) => c.seconds),
    outputBytes: conv[0]!.bytesWritten,
    timeRatio: convS / cpS,
    targetTimeRatio: TARGET_TIME_RATIO,
    peakRssBytes: rss,
    rssBudgetBytes: rssBudget,
    pass: { time: convS / cpS <= TARGET_TIME_RATIO, rss: rss <= rssBudget },
  };
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const rows: [string, string, string][] = [
    ["source", `${(size / 1e9).toFixed(2)} GB, ${largest.count} tensors`, ""],
    ["cp (median)", `${cpS.toFixed(2)} s`, ""],
    ["convert (median, incl. process start)", `${convS.toFixed(2)} s`, `${(convS / cpS).toFixed(2)}× cp (target ≤ ${TARGET_TIME_RATIO}×) ${result.pass.time ? "PASS" : "FAIL"}`],
    ["peak RSS (convert child)", mb(rss), `budget ${mb(rssBudget)} = largest tensor ${mb(largest.bytes)} + 256 MiB ${result.pass.rss ? "PASS" : "FAIL"}`],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}\n`);
  await mkdir(join(ROOT, "bench-results"), { recursive: true });
  await writeFile(join(ROOT, "bench-results", "convert.json"), JSON.stringify(result, null, 2) + "\n");
  process.stdout.write(`wrote bench-results/convert.json\n`);
  if (!keep) await rm(out, { recursive: true, force: true });
}

await main();
