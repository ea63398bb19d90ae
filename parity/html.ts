/**
 * `--html`: ONE self-contained file (no scripts, no external resources) with the table and, for every property that
 * kept a worst case, pictures of it: both waveforms overlaid, their difference on its own scale, and spectrograms of
 * both signals and of the difference (inline PNGs encoded here).
 */
import { rename, writeFile } from "node:fs/promises";
import { SAMPLE_RATE } from "../convert/mod.ts";
import { claimTempPath } from "../common/temp_files.ts";
import { formatError } from "./metrics.ts";
import { encodePng, pngDataUri } from "./png.ts";
import type { ParityReport } from "./report.ts";
import type { WorstCase } from "./result.ts";
import { spectrogram, spectrogramPixels } from "./spectrogram.ts";

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** Min/max envelope per pixel column, as an SVG path (filled band when zoomed out, a line when zoomed in). */
function envelopePath(x: Float32Array, width: number, height: number, scale: number): string {
  const cols = Math.min(width, Math.max(1, x.length));
  const y = (v: number) => (height / 2 - (v / scale) * (height / 2 - 2)).toFixed(1);
  const top: string[] = [], bottom: string[] = [];
  for (let c = 0; c < cols; c++) {
    const a = Math.floor((c * x.length) / cols), b = Math.max(a + 1, Math.floor(((c + 1) * x.length) / cols));
    let lo = Infinity, hi = -Infinity;
    for (let i = a; i < b; i++) {
      lo = Math.min(lo, x[i]);
      hi = Math.max(hi, x[i]);
    }
    const px = ((c + 0.5) * width / cols).toFixed(1);
    top.push(`${px},${y(hi)}`);
    bottom.push(`${px},${y(lo)}`);
  }
  return `M${top.join("L")}L${bottom.reverse().join("L")}Z`;
}

function peak(x: Float32Array): number {
  let m = 0;
  for (const v of x) m = Math.max(m, Math.abs(v));
  return m || 1;
}

function waveformSvg(
  lines: { x: Float32Array; colour: string; label: string }[],
  scale: number,
  title: string,
): string {
  const W = 900, H = 160;
  const seconds = Math.max(...lines.map((l) => l.x.length)) / SAMPLE_RATE;
  const paths = lines.map((l) =>
    `<path d="${
      envelopePath(l.x, W, H, scale)
    }" fill="${l.colour}" fill-opacity="0.55" stroke="${l.colour}" stroke-width="0.6"/>`
  ).join("");
  const legend = lines.map((l, i) =>
    `<text x="${8 + i * 170}" y="14" fill="${l.colour}" font-size="12">■ ${esc(l.label)}</text>`
  ).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 18}" viewBox="0 0 ${W} ${
    H + 18
  }" role="img" aria-label="${esc(title)}">
<rect width="${W}" height="${H}" fill="#fafafa" stroke="#ccc"/><line x1="0" x2="${W}" y1="${H / 2}" y2="${
    H / 2
  }" stroke="#ddd"/>${paths}${legend}
<text x="${W - 8}" y="14" text-anchor="end" font-size="11" fill="#555">±${scale.toPrecision(3)}</text>
<text x="0" y="${H + 14}" font-size="11" fill="#555">0 s</text><text x="${W}" y="${
    H + 14
  }" text-anchor="end" font-size="11" fill="#555">${seconds.toFixed(3)} s</text></svg>`;
}

function spectrogramImg(x: Float32Array, top: number, label: string): string {
  const s = spectrogram(x);
  const { width, height, rgb } = spectrogramPixels(s, top);
  return `<figure><img alt="${esc(label)} spectrogram" src="${pngDataUri(encodePng(width, height, rgb))}" width="${
    Math.max(300, Math.min(900, width * 2))
  }" height="${height}"/><figcaption>${esc(label)} (0–8 kHz, ${width} frames of ${
    (height - 1) * 2
  } samples)</figcaption></figure>`;
}

function maxDb(x: Float32Array): number {
  const s = spectrogram(x);
  let m = -Infinity;
  for (const v of s.db) m = Math.max(m, v);
  return m;
}

export function worstCaseSection(property: string, w: WorstCase, metric: string): string {
  const n = Math.min(w.a.length, w.b.length);
  const diff = new Float32Array(n);
  for (let i = 0; i < n; i++) diff[i] = w.a[i] - w.b[i];
  const top = Math.max(maxDb(w.a), maxDb(w.b));
  const scale = Math.max(peak(w.a), peak(w.b));
  return `<section><h2>${esc(property)}: worst case</h2><p>${esc(w.title)} — ${esc(w.metric ?? metric)} ${
    esc(formatError(w.error))
  }; ${w.a.length} vs ${w.b.length} samples.</p>
${
    waveformSvg(
      [{ x: w.b, colour: "#1f77b4", label: w.bLabel }, { x: w.a, colour: "#d62728", label: w.aLabel }],
      scale,
      `${w.aLabel} and ${w.bLabel} waveforms`,
    )
  }
${waveformSvg([{ x: diff, colour: "#2ca02c", label: `${w.aLabel} − ${w.bLabel}` }], peak(diff), "difference waveform")}
<div class="specs">${spectrogramImg(w.a, top, w.aLabel)}${spectrogramImg(w.b, top, w.bLabel)}${
    spectrogramImg(diff, top, `${w.aLabel} − ${w.bLabel} (same dB scale)`)
  }</div></section>`;
}

export function renderHtml(r: ParityReport): string {
  const rows = r.properties.map((p) =>
    `<tr class="${p.status}"><td>${esc(p.name)}</td><td>${p.status}</td><td>${p.cases}</td><td>${p.failures}</td><td>${
      p.status === "not-run" ? "–" : esc(formatError(p.maxError))
    }</td><td>${esc(p.errorMetric)}</td><td>${
      p.status === "not-run" ? "–" : (p.codeAgreement * 100).toFixed(2) + "%"
    }</td><td>${p.ties}</td></tr>` +
    (p.reason || p.counterexample
      ? `<tr class="note"><td colspan="8">${p.reason ? esc(p.reason) : ""}${
        p.counterexample && p.counterexample !== p.reason
          ? `<br/>counterexample: <code>${esc(p.counterexample)}</code>`
          : ""
      }</td></tr>`
      : "")
  ).join("\n");
  const sections = r.properties.filter((p) => p.worst).map((p) => worstCaseSection(p.name, p.worst!, p.errorMetric))
    .join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"/><title>xcodec2 parity: ${
    r.ok ? "ok" : "FAILED"
  }</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:24px;max-width:960px;color:#222}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left}
tr.fail td:nth-child(2){color:#b00;font-weight:bold}tr.pass td:nth-child(2){color:#070}tr.not-run td:nth-child(2){color:#777}tr.note td{font-size:12px;color:#555;border-bottom:1px solid #bbb}
.specs{display:flex;flex-direction:column;gap:6px}figure{margin:0}img{image-rendering:pixelated;display:block;max-width:100%}figcaption{font-size:12px;color:#555}h2{font-size:16px;margin-top:28px}code{font-size:12px}</style></head>
<body><h1>xcodec2 parity — ${r.ok ? "ok" : "FAILED"}</h1><p>model ${esc(r.model ?? "?")}, device ${
    esc(r.device)
  }, seed ${r.seed}${r.seconds !== undefined ? `, ${r.seconds.toFixed(1)} s` : ""}</p>
<table><thead><tr><th>property</th><th>status</th><th>cases</th><th>failures</th><th>max error</th><th>metric</th><th>code agreement</th><th>ties</th></tr></thead><tbody>
${rows}</tbody></table>
${sections || "<p>No property kept a worst case to draw.</p>"}
</body></html>
`;
}

export async function writeReportHtml(r: ParityReport, file: string): Promise<void> {
  const tmp = await claimTempPath(file);
  await writeFile(tmp, renderHtml(r));
  await rename(tmp, file);
}
