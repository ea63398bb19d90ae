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
import { Command, type OptionValues } from "../common/args.ts";
import { UsageError, Xcodec2Error } from "../common/errors.ts";
import {
  CODES_PER_SECOND,
  DECODER_INPUTS,
  ENCODER_INPUTS,
  graphFileName,
  type GraphPart,
  SAMPLE_RATE,
} from "../convert/mod.ts";
import { InputError } from "../runtime/validate.ts";
import { batchFeatures } from "../runtime/features/mod.ts";
import { sessionOptions } from "../runtime/session.ts";

const PROBE = new Command({
  name: "session_probe",
  program: "npx bun scripts/session_probe.ts",
  summary: "Time one exported graph under the runtime's session options (plus the overrides given).",
  positionals: [{ name: "onnx dir", help: "a folder of exported graphs" }],
  options: {
    part: { type: "choice", choices: ["encoder", "decoder"], default: "encoder", help: "the graph to time" },
    arena: { type: "choice", choices: ["on", "off"], default: "on", help: "onnxruntime's CPU memory arena" },
    threads: { type: "integer", min: 1, max: 1024, default: 2, help: "intra-op threads" },
    calls: {
      type: "string",
      value: "S[,S...][;...]",
      default: "10;3.51,7.92,9.32,9.79,3.29,3.82,4.13,8.62;3",
      parse: parseCalls,
      help: "calls separated by ';', each a comma-separated list of clip lengths in seconds",
    },
    repeat: { type: "integer", min: 1, max: 1000, default: 2, help: "runs of every call" },
    profile: { type: "string", value: "PREFIX", help: "write onnxruntime's per-node JSON profile" },
  },
});

function parseCalls(text: string, flag: string): number[][] {
  return text.split(";").map((c) =>
    c.split(",").map((s) => {
      const x = Number(s);
      if (!(x > 0 && x <= 600)) {
        throw new UsageError(`${flag}: clip length ${JSON.stringify(s)} is not a number of seconds in (0, 600]`);
      }
      return x;
    })
  );
}

const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;
const rss = () => `rss ${mb(process.memoryUsage().rss)}, peak ${mb(process.resourceUsage().maxRSS * 1024)}`;

/** Speech-band test signal (deterministic; content does not change the cost of these graphs). */
function clip(seconds: number, seed: number): Float32Array {
  const c = new Float32Array(Math.round(seconds * SAMPLE_RATE));
  for (let j = 0; j < c.length; j++) c[j] = 0.3 * Math.sin(j * 0.01 * (seed + 1)) + 0.05 * Math.sin(j * 0.37);
  return c;
}

function feeds(part: GraphPart, seconds: number[]): Record<string, ort.Tensor> {
  const B = seconds.length;
  if (part === "encoder") {
    const f = batchFeatures(seconds.map(clip));
    return {
      [ENCODER_INPUTS.values]: new ort.Tensor("float32", f.inputValues, [B, 1, f.Lmax]),
      [ENCODER_INPUTS.paddingMask]: new ort.Tensor("int64", f.paddingMask, [B, f.Lmax]),
      [ENCODER_INPUTS.features]: new ort.Tensor("float32", f.inputFeatures, [
        B,
        f.Fmax,
        f.inputFeatures.length / (B * f.Fmax),
      ]),
      [ENCODER_INPUTS.featuresMask]: new ort.Tensor("int64", f.inputFeaturesMask, [B, f.Fmax]),
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
    [DECODER_INPUTS.codes]: new ort.Tensor("int64", codes, [B, 1, K]),
    [DECODER_INPUTS.codesMask]: new ort.Tensor("int64", mask, [B, 1, K]),
  };
}

async function probe(dir: string, v: OptionValues<typeof PROBE.spec.options>): Promise<number> {
  const base = sessionOptions({ device: "cpu", executionProviders: ["cpu"], software: false }, {
    threads: v.threads,
    cpuArena: v.arena === "on",
  });
  const options: ort.InferenceSession.SessionOptions = v.profile
    ? { ...base, enableProfiling: true, profileFilePrefix: v.profile }
    : base;
  const model = join(dir, graphFileName(v.part, "fp32"));
  let t = performance.now();
  const session = await ort.InferenceSession.create(model, options).catch((e) => {
    throw new InputError(`${model}: ${e instanceof Error ? e.message : e}`);
  });
  console.log(
    `${v.part}, arena ${v.arena}, ${v.threads} threads: loaded in ${
      ((performance.now() - t) / 1000).toFixed(1)
    } s, ${rss()}`,
  );
  for (const seconds of v.calls) {
    const input = feeds(v.part, seconds);
    const audio = seconds.reduce((a, b) => a + b, 0);
    for (let i = 0; i < v.repeat; i++) {
      t = performance.now();
      const out = await session.run(input);
      const s = (performance.now() - t) / 1000;
      for (const o of Object.values(out)) o.dispose();
      console.log(
        `[${seconds.join(", ")}] #${i + 1}: ${s.toFixed(2)} s, ${((s / audio) * 10).toFixed(2)} s per 10 s; ${rss()}`,
      );
    }
  }
  if (v.profile) console.log(`profile: ${session.endProfiling()}`);
  await session.release();
  return 0;
}

try {
  process.exit(await PROBE.run(process.argv.slice(2), ({ positionals: [dir], values }) => probe(dir, values)));
} catch (e) {
  if (!(e instanceof Xcodec2Error)) throw e;
  console.error(`session_probe: ${e.message}`);
  process.exit(e.exitCode);
}
