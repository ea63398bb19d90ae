/**
 * Converter benchmark: converts the full-size synthetic checkpoint (generated once into .cache/bench/) and compares
 * the wall time with `cp` of the same file in the same run, and the peak RSS with the largest tensor + 256 MB.
 * Prints a table and writes bench-results/convert.json.
 *
 *   npx bun scripts/bench_convert.ts [--runs N] [--keep] [--compare DIR]
 * The conversion runs in a child process (this script with --child), which reports its own peak RSS; processes it
 * starts in turn (the native hasher) are watched through /proc and their peak RSS is added (sum of peaks: an upper
 * bound on the tree's peak). `--compare DIR` also runs DIR/convert.ts (e.g. a saved earlier version of convert/)
 * in every iteration, so before/after figures come from the same run.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Command, type OptionValues } from "../common/args.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CACHE = join(ROOT, ".cache", "bench");
const SOURCE = join(CACHE, "original");
const TARGET_TIME_RATIO = 1.3;
const RSS_HEADROOM = 256 * 2 ** 20;

async function child(src: string, out: string, moduleDir?: string): Promise<void> {
  const mod = moduleDir ? join(resolve(moduleDir), "convert.ts") : "../convert/convert.ts";
  const { convertCheckpoint } = (await import(mod)) as typeof import("../convert/convert.ts");
  const t0 = performance.now();
  const r = await convertCheckpoint({ source: src, out, force: true });
  const seconds = (performance.now() - t0) / 1000;
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(
    JSON.stringify({ seconds, maxRssBytes, outputTensors: r.outputTensors, bytesWritten: r.bytesWritten }) + "\n",
  );
}

function runtime(): string {
  const bun = join(ROOT, "node_modules", ".bin", "bun");
  return existsSync(bun) ? bun : process.execPath;
}

function timeCommand(cmd: string, args: string[], capture = true): { seconds: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    stdio: ["ignore", capture ? "pipe" : "ignore", "pipe"],
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return { seconds, stdout: r.stdout ?? "" };
}

/** Peak RSS (VmHWM) of every descendant of `pid`, sampled from /proc while it runs (Linux; empty elsewhere). */
class TreeWatch {
  readonly peaks = new Map<number, { comm: string; hwm: number }>();
  private timer: ReturnType<typeof setInterval>;
  constructor(private readonly root: number) {
    this.timer = setInterval(() => this.sample(), 5);
  }
  private children(pid: number): number[] {
    try {
      return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
        readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number)
      );
    } catch {
      return [];
    }
  }
  sample(): void {
    const stack = this.children(this.root);
    while (stack.length > 0) {
      const pid = stack.pop()!;
      try {
        const status = readFileSync(`/proc/${pid}/status`, "utf8");
        const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
        const comm = /Name:\s+(\S+)/.exec(status)?.[1] ?? "?";
        const prev = this.peaks.get(pid);
        if (!prev || hwm > prev.hwm) this.peaks.set(pid, { comm, hwm });
      } catch {
        // exited between listing and reading
      }
      stack.push(...this.children(pid));
    }
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** Runs the converter child; returns its report, wall time and the peak RSS of the processes it started. */
function timeConvert(
  cmd: string,
  args: string[],
): Promise<{ seconds: number; stdout: string; descendants: { comm: string; hwm: number }[] }> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const c = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    const watch = new TreeWatch(c.pid!);
    let stdout = "";
    let stderr = "";
    c.stdout!.on("data", (d) => (stdout += d));
    c.stderr!.on("data", (d) => (stderr += d));
    c.on("close", (code) => {
      const seconds = (performance.now() - t0) / 1000;
      watch.stop();
      if (code !== 0) reject(new Error(`${cmd} ${args.join(" ")} failed (${code}): ${stderr}`));
      else resolvePromise({ seconds, stdout, descendants: [...watch.peaks.values()] });
    });
  });
}

async function largestTensorBytes(
  file: string,
): Promise<{ name: string; bytes: number; total: number; count: number }> {
  const { openSafetensors } = await import("../convert/safetensors/mod.ts");
  const s = await openSafetensors(file);
  const list = s.list();
  await s.close();
  const big = list.reduce((a, b) => (b.byteLength > a.byteLength ? b : a));
  return {
    name: big.name,
    bytes: big.byteLength,
    total: list.reduce((a, b) => a + b.byteLength, 0),
    count: list.length,
  };
}

const BENCH_CONVERT = new Command({
  name: "bench_convert",
  program: "npx bun scripts/bench_convert.ts",
  summary: "Convert the full-size synthetic checkpoint and compare its time with cp of the same file, and its " +
    "peak RSS with the largest tensor + 256 MB.",
  positionals: [],
  options: {
    runs: { type: "integer", min: 1, max: 100, default: 2, help: "conversions (and copies) to time" },
    keep: { type: "boolean", help: "keep the converted folder" },
    compare: { type: "string", value: "DIR", help: "also run DIR/convert.ts (an earlier convert/) every iteration" },
  },
});

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") return child(argv[1]!, argv[2]!, argv[3]);
  process.exitCode = await BENCH_CONVERT.run(argv, ({ values }) => measure(values));
}

async function measure(
  { runs, keep, compare }: OptionValues<typeof BENCH_CONVERT.spec.options>,
): Promise<number> {
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
  type Run = {
    seconds: number;
    wall: number;
    maxRssBytes: number;
    hasherRssBytes: number;
    treeRssBytes: number;
    outputTensors: number;
    bytesWritten: number;
  };
  const cp: number[] = [];
  const variants: { name: string; dir?: string; runs: Run[] }[] = [{ name: "current", runs: [] }];
  if (compare) variants.push({ name: `compare (${compare})`, dir: compare, runs: [] });
  for (let i = 0; i < runs; i++) {
    await rm(copy, { force: true });
    cp.push(timeCommand("cp", [file, copy], false).seconds);
    await rm(copy, { force: true });
    for (const v of variants) {
      await rm(out, { recursive: true, force: true });
      const r = await timeConvert(rt, [
        fileURLToPath(import.meta.url),
        "--child",
        SOURCE,
        out,
        ...(v.dir ? [v.dir] : []),
      ]);
      const rep = JSON.parse(r.stdout.trim().split("\n").pop()!);
      const hasher = r.descendants.reduce((a, d) => a + d.hwm, 0);
      v.runs.push({ ...rep, wall: r.seconds, hasherRssBytes: hasher, treeRssBytes: rep.maxRssBytes + hasher });
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const cpS = median(cp);
  const conv = variants[0]!.runs;
  const convS = median(conv.map((c) => c.wall));
  const rss = Math.max(...conv.map((c) => c.treeRssBytes));
  const rssBudget = largest.bytes + RSS_HEADROOM;
  const result = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memBytes: totalmem(),
      runtime: rt.endsWith("bun") ? "bun" : process.execPath,
    },
    source: { file, bytes: size, tensors: largest.count, largestTensor: { name: largest.name, bytes: largest.bytes } },
    runs,
    cpSeconds: cp,
    convertWallSeconds: conv.map((c) => c.wall),
    convertInProcessSeconds: conv.map((c) => c.seconds),
    convertRssBytes: conv.map((c) => c.maxRssBytes),
    hasherRssBytes: conv.map((c) => c.hasherRssBytes),
    outputBytes: conv[0]!.bytesWritten,
    timeRatio: convS / cpS,
    timeRatios: conv.map((c, i) => c.wall / cp[i]!),
    targetTimeRatio: TARGET_TIME_RATIO,
    peakRssBytes: rss,
    rssBudgetBytes: rssBudget,
    pass: { time: convS / cpS <= TARGET_TIME_RATIO, rss: rss <= rssBudget },
    ...(compare
      ? {
        compare: {
          dir: compare,
          convertWallSeconds: variants[1]!.runs.map((c) => c.wall),
          timeRatio: median(variants[1]!.runs.map((c) => c.wall)) / cpS,
          peakRssBytes: Math.max(...variants[1]!.runs.map((c) => c.treeRssBytes)),
        },
      }
      : {}),
  };
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const rows: [string, string, string][] = [
    ["source", `${(size / 1e9).toFixed(2)} GB, ${largest.count} tensors`, ""],
    ["cp (median)", `${cpS.toFixed(2)} s`, `runs: ${cp.map((x) => x.toFixed(2)).join(" ")}`],
  ];
  for (const v of variants) {
    const s = median(v.runs.map((c) => c.wall));
    const peak = Math.max(...v.runs.map((c) => c.treeRssBytes));
    const own = Math.max(...v.runs.map((c) => c.maxRssBytes));
    const hasher = Math.max(...v.runs.map((c) => c.hasherRssBytes));
    const tag = v === variants[0] ? "" : ` [${v.name}]`;
    rows.push(
      [
        `convert (median, incl. process start)${tag}`,
        `${s.toFixed(2)} s`,
        `${(s / cpS).toFixed(2)}× cp (target ≤ ${TARGET_TIME_RATIO}×)${
          tag ? "" : result.pass.time ? " PASS" : " FAIL"
        }; runs: ${v.runs.map((c) => c.wall.toFixed(2)).join(" ")}`,
      ],
      [
        `peak RSS (converter + its children)${tag}`,
        mb(peak),
        `converter ${mb(own)} + children ${mb(hasher)}; budget ${mb(rssBudget)} = largest tensor ${
          mb(largest.bytes)
        } + 256 MiB${tag ? "" : result.pass.rss ? " PASS" : " FAIL"}`,
      ],
    );
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}\n`);
  await mkdir(join(ROOT, "bench-results"), { recursive: true });
  await writeFile(join(ROOT, "bench-results", "convert.json"), JSON.stringify(result, null, 2) + "\n");
  process.stdout.write(`wrote bench-results/convert.json\n`);
  if (!keep) await rm(out, { recursive: true, force: true });
  return 0;
}

await main();
