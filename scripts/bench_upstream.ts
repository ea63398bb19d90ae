/**
 * Upstream transformers beside the toolkit, on the same machine, the same weights and the same protocol: 10 s of
 * audio at batch 1, one warm-up call, then the median of `repeats` timed calls, in a fresh process per measurement,
 * the two sides alternated (ours, upstream, ours, upstream, …) so that both see the same machine load. A speed ratio
 * holds only within one such run: the machines this project runs on differ by 2× in GEMM rate.
 *
 * The upstream side is any command that takes upstream_timing.py's arguments
 * (`encode|decode --model DIR --seconds S | --frames K --repeats N --warmup same --threads N`) and prints a JSON line
 * with `runs_s` (and optionally `VmHWM_kB`, `load_s`); `../shared/tools/upstream/` has one that runs in a Debian
 * chroot with torch and transformers' Xcodec2Model:
 *   npm run bench -- --upstream "bash ../shared/tools/upstream/run.sh python3 /tools/upstream_timing.py" \
 *     --upstream-root /work
 * (`--upstream-root`: where the command sees this checkout, for the model path it is given.)
 */
import { spawnSync } from "node:child_process";
import { type Spread, spread } from "./bench_machine.ts";

export type SoloKind = "encode" | "decode";

/** One process's timed calls on 10 s of audio (after its warm-up). */
export interface SoloTiming {
  runs: number[];
  median: number;
  peakRssBytes?: number;
  loadSeconds?: number;
}

export interface SideBySide {
  kind: SoloKind;
  audioSeconds: number;
  repeats: number;
  /** one entry per alternated round */
  rounds: { ours: SoloTiming; upstream: SoloTiming; ratio: number }[];
  ours: Spread;
  upstream: Spread;
  /** upstream seconds / our seconds, round by round */
  ratio: Spread;
  command: string;
}

/** POSIX shell quoting of one argument. */
export const shellQuote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);

/** The arguments upstream_timing.py takes for one measurement. */
export function upstreamArgs(
  kind: SoloKind,
  model: string,
  audioSeconds: number,
  repeats: number,
  threads: number,
  codesPerSecond: number,
): string[] {
  const size = kind === "encode"
    ? ["--seconds", String(audioSeconds)]
    : ["--frames", String(Math.round(audioSeconds * codesPerSecond))];
  return [
    kind,
    "--model",
    model,
    ...size,
    "--repeats",
    String(repeats),
    "--warmup",
    "same",
    "--threads",
    String(threads),
  ];
}

/** The timing JSON an upstream command printed: its last stdout line that parses and has `runs_s`. */
export function parseUpstreamOutput(stdout: string): SoloTiming {
  for (const line of stdout.trim().split("\n").reverse()) {
    let j: { runs_s?: unknown; VmHWM_kB?: unknown; load_s?: unknown };
    try {
      j = JSON.parse(line);
    } catch {
      continue;
    }
    if (!Array.isArray(j.runs_s) || j.runs_s.length === 0 || !j.runs_s.every((x) => typeof x === "number")) continue;
    const runs = j.runs_s as number[];
    return {
      runs,
      median: spread(runs).median,
      ...(typeof j.VmHWM_kB === "number" ? { peakRssBytes: j.VmHWM_kB * 1024 } : {}),
      ...(typeof j.load_s === "number" ? { loadSeconds: j.load_s } : {}),
    };
  }
  throw new Error(`the upstream command printed no timing line with runs_s:\n${stdout.slice(-2000)}`);
}

/** Runs the upstream command once (a fresh process) and returns its timing. */
export function runUpstream(command: string, args: string[], cwd: string): SoloTiming {
  const line = `${command} ${args.map(shellQuote).join(" ")}`;
  const r = spawnSync("bash", ["-c", line], { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(`upstream command failed (exit ${r.status}): ${line}\n${(r.stderr ?? "").slice(-3000)}`);
  }
  return parseUpstreamOutput(r.stdout);
}

/**
 * Alternates `ours()` and `upstream()` for `rounds` rounds (ours first) and collects the figures. Each call is one
 * fresh process on each side.
 */
export function sideBySide(
  kind: SoloKind,
  audioSeconds: number,
  repeats: number,
  rounds: number,
  command: string,
  ours: () => SoloTiming,
  upstream: () => SoloTiming,
  log: (m: string) => void = () => {},
): SideBySide {
  const out: SideBySide["rounds"] = [];
  for (let i = 0; i < rounds; i++) {
    const a = ours();
    const b = upstream();
    out.push({ ours: a, upstream: b, ratio: b.median / a.median });
    log(`${kind} round ${i + 1}/${rounds}: ours ${a.median.toFixed(2)} s, upstream ${b.median.toFixed(2)} s`);
  }
  return {
    kind,
    audioSeconds,
    repeats,
    rounds: out,
    ours: spread(out.map((r) => r.ours.median)),
    upstream: spread(out.map((r) => r.upstream.median)),
    ratio: spread(out.map((r) => r.ratio)),
    command,
  };
}
