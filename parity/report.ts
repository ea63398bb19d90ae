/**
 * The parity report: a terminal table, the JSON file (`{ ok, device, seed, properties: [...] }`, the issue's shape,
 * with extra fields inside each property), and the exit code rule (non-zero when any property fails; "not-run" is
 * not a failure, it is shown with its reason).
 */
import { rename, writeFile } from "node:fs/promises";
import { claimTempPath } from "../common/temp_files.ts";
import { formatError } from "./metrics.ts";
import type { PropertyResult } from "./result.ts";

export interface ParityReport {
  ok: boolean;
  device: string;
  seed: number;
  properties: PropertyResult[];
  /** what was checked, for the HTML header and the JSON (extra field) */
  model?: string;
  seconds?: number;
}

export function makeReport(
  device: string,
  seed: number,
  properties: PropertyResult[],
  extra: { model?: string; seconds?: number } = {},
): ParityReport {
  return { ok: properties.every((p) => p.status !== "fail"), device, seed, properties, ...extra };
}

/** The JSON form: the issue's fields first, the worst-case arrays left out (they go to the HTML only). */
export function reportJson(r: ParityReport): object {
  return {
    ok: r.ok,
    device: r.device,
    seed: r.seed,
    // JSON.stringify writes a non-finite maxError (mismatched lengths, NaN) as null
    properties: r.properties.map(({ worst: _w, name, cases, failures, maxError, codeAgreement, ties, ...extra }) => ({
      name,
      cases,
      failures,
      maxError,
      codeAgreement,
      ties,
      ...extra,
    })),
    ...(r.model ? { model: r.model } : {}),
    ...(r.seconds !== undefined ? { seconds: r.seconds } : {}),
  };
}

export async function writeReportJson(r: ParityReport, file: string): Promise<void> {
  const tmp = await claimTempPath(file);
  await writeFile(tmp, JSON.stringify(reportJson(r), null, 2) + "\n");
  await rename(tmp, file);
}

const STATUS: Record<PropertyResult["status"], string> = { pass: "pass", fail: "FAIL", "not-run": "not run" };

/** The table, then one line per failing / not-run property with its reason and replay hint. */
export function formatTable(r: ParityReport): string {
  const head = ["property", "status", "cases", "failures", "max error", "metric", "code agreement", "ties", "time"];
  const rows = r.properties.map((p) => [
    p.name,
    STATUS[p.status],
    String(p.cases),
    String(p.failures),
    p.status === "not-run" ? "-" : formatError(p.maxError),
    p.errorMetric,
    p.status === "not-run" ? "-" : `${(p.codeAgreement * 100).toFixed(2)}%`,
    String(p.ties),
    p.seconds === undefined ? "" : `${p.seconds.toFixed(1)} s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= 2 && i !== 5 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  const out = [
    `parity on ${r.model ?? "?"} — device ${r.device}, seed ${r.seed}`,
    line(head),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
  ];
  for (const p of r.properties) {
    if (p.status === "pass" && !p.reason) continue;
    out.push("", `${p.name}: ${STATUS[p.status]}${p.reason ? ` — ${p.reason}` : ""}`);
    if (p.counterexample && p.counterexample !== p.reason) out.push(`  counterexample: ${p.counterexample}`);
  }
  out.push("", r.ok ? "ok: every property that ran passed" : "FAILED: at least one property failed");
  return out.join("\n");
}
