/**
 * Session-option probe: one exported graph, one onnxruntime session with the runtime's own options (plus the
 * overrides given), a sequence of calls of chosen lengths; prints seconds per 10 s of audio and RSS after each call.
 * This is how the CPU-arena choice in `runtime/session.ts` was measured; run it again when onnxruntime changes.
 *
 *   npx bun scripts/session_probe.ts <onnx dir> [--part encoder|decoder] [--arena on|off] [--threads N]
 *       [--calls "10;3.51,7.92,9.32;3"] [--repeat N] [--profile PREFIX]
 *
 * --calls: calls separated by ";", each a comma-separated list of clip lengths in seconds (one batch per call).
 * Every call runs --repeat times (default 2: the first pays one-time allocations). RSS is the process's current
 * resident size and its peak so far (`process.resourceUsage().maxRSS`); load the graph in a fresh process per
 * option you compare. --profile writes onnxruntime's per-node JSON profile.
 */
import * as ort from "onnxruntime-node";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { CODES_PER_SECOND, SAMPLE_RATE } from "../convert/architecture.ts";
import { batchFeatures } from "../runtime/features/mod.ts";
import { sessionOptions } from "../runtime/session.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    part: { type: "string", default: "encoder" },
    arena: { type: "string", default: "on" },
    threads: { type: "string", default: "2" },
    calls: { type: "string", default: "10;3.51,7.92,9.32,9.79,3.29,3.82,4.13,8.62;3" },
    repeat: { type: "string", default: "2" },
    profile: { type: "string" },
  },
});

function fail(msg: string): never {
  console.error(`session_probe: ${msg}`);
  process.exit(2);
}

const dir = positionals[0] ?? fail("usage: session_probe.ts <onnx dir> [--part encoder|decoder] [--arena on|off] ...");
const part = values.part!;
if (part !== "encoder" && part !== "decoder") fail(`--part must be encoder or decoder, got ${part}`);
if (values.arena !== "on" && values.arena !== "off") fail(`--arena must be on or off, got ${values.arena}`);
const threads = Number(values.threads), repeat = Number(values.repeat);
if (!Number.isInteger(threads) || threads < 1) fail(`--threads must be a positive integer, got ${values.threads}`);
if (!Number.isInteger(repeat) || repeat < 1) fail(`--repeat must be a positive integer, got ${values.repeat}`);
const calls = values.calls!.split(";").map((c) =>
  c.split(",").map((s) => {
    const x = Number(s);
    if (!(x > 0 && x <= 600)) fail(`--calls: clip length ${JSON.stringify(s)} is not a number of seconds in (0, 600]`);
    return x;
  })
);

const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;
const rss = () => `rss ${mb(process.memoryUsage().rss)}, peak ${mb(process.resourceUsage().maxRSS * 1024)}`;

const base = sessionOptions({ device: "cpu", executionProviders: ["cpu"], software: false }, {
  threads,
  cpuArena: values.arena === "on",
});
const options: ort.InferenceSession.SessionOptions = values.profile
  ? { ...base, enableProfiling: true, profileFilePrefix: values.profile }
  : base;
const model = join(dir, `${part}_model.onnx`);
let t = performance.now();
const session = await ort.InferenceSession.create(model, options).catch((e) =>
  fail(`${model}: ${e instanceof Error ? e.message : e}`)
);
console.log(
  `${part}, arena ${values.arena}, ${threads} threads: loaded in ${
    ((performance.now() - t) / 1000).toFixed(1)
  } s, ${rss()}`,
);

/** Speech-band test signal (deterministic; content does not change the cost of these graphs). */
function clip(seconds: number, seed: number): Float32Array {
  const c = new Float32Array(Math.round(seconds * SAMPLE_RATE));
  for (let j = 0; j < c.length; j++) c[j] = 0.3 * Math.sin(j * 0.01 * (seed + 1)) + 0.05 * Math.sin(j * 0.37);
  return c;
}

function feeds(seconds: number[]): Record<string, ort.Tensor> {
  const B = seconds.length;
  if (part === "encoder") {
    const f = batchFeatures(seconds.map(clip));
    return {
      input_values: new ort.Tensor("float32", f.inputValues, [B, 1, f.Lmax]),
      padding_mask: new ort.Tensor("int64", f.paddingMask, [B, f.Lmax]),
      input_features: new ort.Tensor("float32", f.inputFeatures, [B, f.Fmax, f.inputFeatures.length / (B * f.Fmax)]),
      input_features_mask: new ort.Tensor("int64", f.inputFeaturesMask, [B, f.Fmax]),
    };
  }
  const ks = seconds.map((s) => Math.max(2, Math.round(s * CODES_PER_SECOND))), K = Math.max(...ks);
  const codes = new BigInt64Array(B * K), mask = new BigInt64Array(B * K);
  ks.forEach((k, b) => {
    for (let i = 0; i < k; i++) {
      codes[b * K + i] = BigInt((b * 7919 + i * 104729) % 65536);
      mask[b * K + i] = 1n;
    }
  });
  return {
    audio_codes: new ort.Tensor("int64", codes, [B, 1, K]),
    audio_codes_mask: new ort.Tensor("int64", mask, [B, 1, K]),
  };
}

for (const seconds of calls) {
  const input = feeds(seconds);
  const audio = seconds.reduce((a, b) => a + b, 0);
  for (let i = 0; i < repeat; i++) {
    t = performance.now();
    const out = await session.run(input);
    const s = (performance.now() - t) / 1000;
    for (const v of Object.values(out)) v.dispose();
    console.log(
      `[${seconds.join(", ")}] #${i + 1}: ${s.toFixed(2)} s, ${((s / audio) * 10).toFixed(2)} s per 10 s; ${rss()}`,
    );
  }
}
if (values.profile) console.log(`profile: ${session.endProfiling()}`);
await session.release();
