/**
 * `xcodec2 demo`: the whole pipeline on the bundled tiny checkpoint and clips, in one command:
 * convert the original checkpoint → export ONNX → encode the clips in ONE mixed-length batch and one by one →
 * decode likewise → write WAVs → print a parity summary (batch vs per-sample, ours vs upstream's reference tensors).
 */
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Command, type OptionValues } from "../common/args.ts";
import { convertCheckpoint, DEVICE_CHOICES, exportOnnx } from "../convert/mod.ts";
import { Xcodec2 } from "../runtime/codec.ts";
import { writeWav } from "../runtime/audio/mod.ts";
import { writeCodesFile } from "../runtime/codes_io.ts";
import { maxAbsDiff } from "../parity/metrics.ts";
import {
  readCaseTensors,
  readReferenceClip,
  type ReferenceIndex,
  referenceIndex,
  TINY_VARIANT,
  variantDirs,
} from "../parity/reference.ts";
import type { EncodeResult } from "../runtime/types.ts";
import { Xcodec2Error } from "../common/errors.ts";
import { DEMO_CLIPS as CLIPS, DEMO_CODES_TENSOR, demoCase, demoDataRoot } from "./demo_data.ts";

/** Written into --out so a later run knows the folder is the demo's own and may be replaced. */
const MARKER = ".xcodec2-demo";

/** A demo-owned output folder, emptied of what the demo writes; anything else is refused without --force. */
async function prepareOut(out: string, force: boolean): Promise<void> {
  const entries = await readdir(out).catch(() => undefined);
  if (entries && entries.length > 0 && !entries.includes(MARKER) && !force) {
    throw new DemoOutputError(
      `${out} exists and is not an earlier demo's output; pass --force or choose another --out`,
    );
  }
  // Only the demo's own entries are removed, never the whole folder: --out may point at something precious.
  for (const e of entries ?? []) {
    if (e === "converted" || e === "codes.jsonl" || e.endsWith(".decoded.wav") || e === MARKER) {
      await rm(join(out, e), { recursive: true, force: true });
    }
  }
  await mkdir(out, { recursive: true });
  await writeFile(join(out, MARKER), "output of `xcodec2 demo`; the next run replaces this folder's demo files\n");
}

class DemoOutputError extends Xcodec2Error {}

function fragileFrames(clip: string, index: ReferenceIndex): number[] {
  return index.cases[demoCase(clip)]?.["fsq_fragile_frames_1e-4"] ?? [];
}

async function referenceCodes(clip: string, index: ReferenceIndex): Promise<Int32Array> {
  return (await readCaseTensors(index, demoCase(clip))).tensor(DEMO_CODES_TENSOR).data as Int32Array;
}

const DEMO = new Command({
  name: "demo",
  summary: "The whole pipeline on the bundled tiny checkpoint and clips: convert → export → batched encode/decode → " +
    "WAV → parity summary.",
  positionals: [],
  options: {
    out: {
      type: "string",
      value: "DIR",
      default: "out/demo",
      help: "where the demo writes; only its own files there are replaced",
    },
    device: { type: "choice", choices: DEVICE_CHOICES, default: "cpu", help: "where the graphs run" },
    force: { type: "boolean", help: "use --out although it holds something else" },
  },
});

export function runDemo(argv: string[]): Promise<number> {
  return DEMO.run(argv, ({ values }) => demo(values));
}

async function demo(v: OptionValues<typeof DEMO.spec.options>): Promise<number> {
  const out = resolve(v.out);
  await prepareOut(out, v.force);
  const log = (m: string) => console.error(`  ${m}`);
  // the checkout's reference set, or the copy of what the demo reads that ships in the package (dist/demo/)
  const index = referenceIndex(demoDataRoot());
  const original = variantDirs(index, TINY_VARIANT).original;

  console.error(`1. convert ${original}`);
  const converted = join(out, "converted");
  await convertCheckpoint({ source: original, out: converted, log });
  console.error("2. export ONNX (fp32 + fp16, per-item masks)");
  await exportOnnx(converted, { log });

  console.error(`3. encode ${CLIPS.length} clips of mixed lengths as one batch, and each alone (${v.device})`);
  const codec = await Xcodec2.load(converted, { device: v.device, log });
  const clips = await Promise.all(CLIPS.map((c) => readReferenceClip(index, c)));
  const batch = await codec.encodeBatch(clips);
  const alone: EncodeResult[] = [];
  for (const c of clips) alone.push(await codec.encodeBatch([c])); // one at a time: concurrent runs only compete for cores
  await writeCodesFile(
    join(out, "codes.jsonl"),
    CLIPS.map((name, i) => ({ name, codes: batch.codes[i], samples: clips[i].length })),
  );

  console.error("4. decode the codes as one batch, and each alone; write WAVs");
  const audioBatch = await codec.decodeBatch(batch.codes);
  const audioAlone: Float32Array[][] = [];
  for (const c of batch.codes) audioAlone.push(await codec.decodeBatch([c]));
  for (let i = 0; i < CLIPS.length; i++) await writeWav(join(out, `${CLIPS[i]}.decoded.wav`), audioBatch[i]);
  await codec.dispose();

  console.error("5. parity summary\n");
  const rows: string[][] = [[
    "clip",
    "samples",
    "codes",
    "batch = alone (codes)",
    "batch − alone (audio, max abs)",
    "= upstream codes",
  ]];
  let ok = true;
  for (let i = 0; i < CLIPS.length; i++) {
    const same = batch.codes[i].length === alone[i].codes[0].length &&
      batch.codes[i].every((c, t) => c === alone[i].codes[0][t]);
    const ref = await referenceCodes(CLIPS[i], index);
    const lengthOk = ref.length === batch.codes[i].length;
    const differ = lengthOk ? [...ref].flatMap((c, t) => (c === batch.codes[i][t] ? [] : [t])) : [];
    const agree = lengthOk ? 1 - differ.length / ref.length : 0;
    // codes within 1e-4 of an FSQ rounding boundary may legitimately flip (fixtures/reference/README.md)
    const upstreamOk = lengthOk && differ.every((t) => fragileFrames(CLIPS[i], index).includes(t));
    const audioDiff = maxAbsDiff(audioBatch[i], audioAlone[i][0]);
    ok &&= same && audioDiff <= 1e-5 && upstreamOk;
    rows.push([
      CLIPS[i],
      String(clips[i].length),
      String(batch.codes[i].length),
      same ? "yes" : "NO",
      audioDiff.toExponential(2),
      `${(agree * 100).toFixed(1)}%${upstreamOk ? "" : " NO"}`,
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join("  "));
  console.log(`\nwrote ${out}/{converted/, codes.jsonl, *.decoded.wav}`);
  console.log(
    ok ? "parity: every item of the batch equals its per-sample run, and upstream's codes" : "parity: FAILED",
  );
  return ok ? 0 : 1;
}
