/** The codec a worker encodes with: the job's model and precision, on the worker's own device and threads. */
import { type DeviceRequest, Xcodec2 } from "../runtime/mod.ts";
import { DatasetError } from "./errors.ts";
import type { JobSpec } from "./job.ts";
import { modelIdentity } from "./model_identity.ts";

export interface WorkerSettings {
  device: DeviceRequest;
  /** intra-op threads (default: onnxruntime's, all cores) */
  threads?: number;
  cacheDir?: string;
  log: (m: string) => void;
}

export async function loadJobCodec(
  job: Pick<JobSpec, "model" | "modelSha256" | "options">,
  w: WorkerSettings,
  opts: { verify: boolean },
): Promise<Xcodec2> {
  const codec = await Xcodec2.load(job.model, {
    device: w.device,
    precision: job.options.precision,
    threads: w.threads,
    cacheDir: w.cacheDir,
    log: w.log,
  });
  if (opts.verify) {
    const id = await modelIdentity(codec.model.dir);
    if (id.sha256 !== job.modelSha256) {
      await codec.dispose();
      throw new DatasetError(
        `${job.model}: this machine's model has sha256 ${id.sha256.slice(0, 12)}…, the job's is ` +
          `${job.modelSha256.slice(0, 12)}…; every worker must see the same model`,
      );
    }
  }
  return codec;
}
