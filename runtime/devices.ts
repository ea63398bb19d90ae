/**
 * Device choice for onnxruntime-node: `cpu | webgpu | cuda | auto` → the execution providers a session is created
 * with, plus what was actually found (software or hardware WebGPU adapter, its name).
 *
 * Why the WebGPU check runs in a child process: onnxruntime creates ONE Dawn instance and ONE WebGPU device per
 * process, on first use, and a failed or software pick sticks for the rest of the process. It also never tells
 * JavaScript which adapter it took (`ort.env.webgpu` is empty in Node builds; verbose logs don't name it). So a short
 * child process (same runtime: bun, deno or node) creates a WebGPU session on a 173-byte model with the Vulkan
 * loader's driver log on (`VK_LOADER_DEBUG=driver`), which lists every Vulkan physical device by name. Dawn, asked
 * by onnxruntime for `HighPerformance`, takes a discrete or integrated GPU over a CPU (software) device whenever one
 * exists, so: any non-software device listed → hardware adapter; only llvmpipe / SwiftShader → software.
 * Vulkan ICD manifests (/usr/share/vulkan/icd.d/*.json) are read too, but only to explain failures: Mesa's package
 * installs radeon/intel/virtio manifests on machines without those GPUs, so a manifest proves nothing on its own.
 */
import * as ort from "onnxruntime-node";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";

import { type Device, DEVICE_CHOICES, type DeviceChoice } from "../convert/mod.ts";
import { Xcodec2Error } from "../common/errors.ts";

export type { Device, DeviceChoice };

export interface ResolvedDevice {
  device: Device;
  executionProviders: ort.InferenceSession.ExecutionProviderConfig[];
  /** True when the WebGPU adapter is a CPU rasteriser (llvmpipe/lavapipe, SwiftShader). False for cpu and cuda. */
  software: boolean;
  /** Adapter / GPU name where known, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
  adapter?: string;
}

/** An explicitly requested device is not usable here; the message says what is missing and how to get it. */
export class DeviceError extends Xcodec2Error {
  constructor(
    readonly device: string,
    message: string,
  ) {
    super(message);
  }
}

export type Log = (msg: string) => void;

// ---------------------------------------------------------------------------------------------------------------
// How to get each device (kept in one place so error messages and docs agree).

/** Read from node_modules/onnxruntime-node/script/install.js + install-utils.js (1.30): the CUDA 12 EP libraries come
 * from NuGet (Microsoft.ML.OnnxRuntime.Gpu.Linux) when its postinstall runs with the install flag asking for them
 * (ONNXRUNTIME_NODE_INSTALL beats npm config). npm 11.19 still runs it unasked but warns until `allowScripts` covers
 * it; Bun runs it only for trusted dependencies, Deno only with --allow-scripts. */
export const CUDA_INSTALL_HINT =
  "install onnxruntime-node's CUDA provider libraries: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` " +
  "(or `npm install onnxruntime-node --onnxruntime-node-install=cuda12`; npm >= 11.19: " +
  "`npm install-scripts approve onnxruntime-node` silences its warning; Bun: " +
  "`ONNXRUNTIME_NODE_INSTALL=cuda12 bun pm trust onnxruntime-node`; Deno: " +
  "`ONNXRUNTIME_NODE_INSTALL=cuda12 deno install --allow-scripts=npm:onnxruntime-node`), and have an NVIDIA driver " +
  "plus the CUDA 12.x and cuDNN 9.x runtime libraries on the library path (LD_LIBRARY_PATH)";

export const WEBGPU_INSTALL_HINT =
  "install the Vulkan loader and a Vulkan driver: your GPU vendor's (NVIDIA's driver ships nvidia_icd.json; Mesa's " +
  "mesa-vulkan-drivers for AMD/Intel), or for software rendering Mesa >= 25 lavapipe (Debian 12: " +
  "`apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`; Dawn rejects bookworm's Mesa 22), and set " +
  "XDG_RUNTIME_DIR; `bash scripts/setup.sh` does this on Debian 12";

// ---------------------------------------------------------------------------------------------------------------
// Static facts (cheap file checks).

const requireHere = createRequire(import.meta.url);

/** Absolute path of onnxruntime-node's entry module (for the probe child) and its native folder. */
function ortPaths(): { entry: string; binDir: string } {
  const entry = requireHere.resolve("onnxruntime-node");
  const root = dirname(dirname(entry)); // <pkg>/dist/index.js → <pkg>
  return { entry, binDir: join(root, "bin", "napi-v6", process.platform, process.arch) };
}

const CUDA_PROVIDER_LIBS: Record<string, string[]> = {
  linux: ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"],
  win32: ["onnxruntime_providers_shared.dll", "onnxruntime_providers_cuda.dll"],
};

/** onnxruntime-node's CUDA provider libraries: where they should be and which are missing. */
export function cudaProviderLibraries(): { dir: string; missing: string[] } {
  const { binDir } = ortPaths();
  const names = CUDA_PROVIDER_LIBS[process.platform] ?? CUDA_PROVIDER_LIBS.linux;
  return { dir: binDir, missing: names.filter((n) => !existsSync(join(binDir, n))) };
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Kernel device nodes a hardware GPU driver needs: NVIDIA's /dev/nvidiaN, DRM render nodes, WSL's /dev/dxg. */
export function gpuDeviceNodes(): string[] {
  const nodes = listDir("/dev")
    .filter((n) => /^nvidia\d+$/.test(n) || n === "dxg")
    .map((n) => `/dev/${n}`);
  for (const n of listDir("/dev/dri")) if (n.startsWith("renderD")) nodes.push(`/dev/dri/${n}`);
  return nodes;
}

/** An NVIDIA GPU the CUDA driver could open (Linux device node or WSL's paravirtual GPU); other OSes: assume yes. */
export function nvidiaGpuVisible(): boolean {
  if (process.platform !== "linux") return process.platform === "win32";
  return gpuDeviceNodes().some((n) => n.startsWith("/dev/nvidia") || n === "/dev/dxg");
}

export interface VulkanDriverManifest {
  file: string;
  library: string;
  /** lavapipe (libvulkan_lvp) and SwiftShader run on the CPU. */
  software: boolean;
}

const SOFTWARE_LIBRARY = /(^|[/_])(lvp|swiftshader)[^/]*$/i;
const SOFTWARE_DEVICE_NAME = /llvmpipe|lavapipe|swiftshader|softpipe/i;

/** The Vulkan loader's driver-manifest search (VK_DRIVER_FILES / VK_ICD_FILENAMES, else the XDG and /etc dirs). */
export function vulkanDriverManifests(env: NodeJS.ProcessEnv = process.env): VulkanDriverManifest[] {
  const split = (v: string | undefined) => (v ?? "").split(":").filter((s) => s.length > 0);
  const override = split(env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES);
  let entries: string[];
  if (override.length > 0) {
    entries = override;
  } else {
    const home = env.HOME ?? homedir();
    const configDirs = [env.XDG_CONFIG_HOME ?? join(home, ".config"), ...split(env.XDG_CONFIG_DIRS || "/etc/xdg")];
    const dataDirs = [
      env.XDG_DATA_HOME ?? join(home, ".local/share"),
      ...split(env.XDG_DATA_DIRS || "/usr/local/share:/usr/share"),
    ];
    entries = [
      ...configDirs.map((d) => join(d, "vulkan/icd.d")),
      "/etc/vulkan/icd.d",
      ...dataDirs.map((d) => join(d, "vulkan/icd.d")),
      ...split(env.VK_ADD_DRIVER_FILES),
    ];
  }
  const files: string[] = [];
  for (const e of entries) {
    let isDir = false;
    try {
      isDir = statSync(e).isDirectory();
    } catch {
      continue;
    }
    if (isDir) files.push(...listDir(e).filter((n) => n.endsWith(".json")).map((n) => join(e, n)));
    else files.push(e);
  }
  const out: VulkanDriverManifest[] = [];
  for (const file of new Set(files)) {
    try {
      const library = String(JSON.parse(readFileSync(file, "utf8"))?.ICD?.library_path ?? "");
      if (library) out.push({ file, library, software: SOFTWARE_LIBRARY.test(basename(library)) });
    } catch {
      // unreadable manifest: the loader skips it too
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Probes.

/**
 * y = x·W + b with x [batch, 2] → y [batch, 2], opset 17, weights inline (173 bytes). Same bytes as
 * `tinyMatMulAddModel(2, 2)` in fixtures/support/tiny_onnx.ts (a test checks that), embedded so probes need no files.
 */
const PROBE_MODEL_BASE64 =
  "CAg6pAEKHAoBeAoBVxICeHcaCG1hdG11bF8wIgZNYXRNdWwKFgoCeHcKAWISAXkaBWFkZF8xIgNBZGQSB2ZpeHR1cmUqGwoCAgIQAUIBV0oQTe8Gv+" +
  "ndhb6/AAs868zRPioSCgECEAFCAWJKCIG8Br/Y8aO9WhgKAXgSEwoRCAESDQoHEgViYXRjaAoCCAJiGAoBeRITChEIARINCgcSBWJhdGNoCgIIAkICEBE=";

export function probeModelBytes(): Uint8Array {
  return Uint8Array.from(atob(PROBE_MODEL_BASE64), (c) => c.charCodeAt(0));
}

export interface WebGpuProbe {
  ok: boolean;
  /** Vulkan physical devices the loader reported (empty when it printed none, e.g. non-Linux). */
  vulkanDevices: string[];
  /** onnxruntime's error when no session could be created. */
  error?: string;
  /** Dawn could not load libvulkan.so.1. */
  loaderMissing: boolean;
  /** Child wall time, ms. */
  ms: number;
}

/** The child's script: dynamic import + createRequire so one text runs under `node -e`, `bun -e`, `deno eval`. */
function probeScript(ortEntry: string): string {
  return `import("node:module").then(async ({ createRequire }) => {
  const ortEntry = ${JSON.stringify(ortEntry)};
  const ort = createRequire(ortEntry)(ortEntry);
  const bytes = Uint8Array.from(atob(${JSON.stringify(PROBE_MODEL_BASE64)}), (c) => c.charCodeAt(0));
  let result;
  try {
    // disable_cpu_ep_fallback: creation fails unless every node is placed on the WebGPU EP.
    const s = await ort.InferenceSession.create(bytes, { executionProviders: ["webgpu"], logSeverityLevel: 3,
      extra: { session: { disable_cpu_ep_fallback: "1" } } });
    const out = await s.run({ x: new ort.Tensor("float32", new Float32Array([1, 2]), [1, 2]) });
    result = { ok: Array.from(out.y.data).every(Number.isFinite) };
    await s.release();
  } catch (e) {
    result = { ok: false, error: String(e && e.message || e) };
  }
  console.log("XCODEC2_WEBGPU_PROBE " + JSON.stringify(result));
});`;
}

function runtimeCommand(script: string): [string, string[]] {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno) return [deno.execPath(), ["eval", script]];
  return [process.execPath, ["-e", script]]; // node and bun both take -e
}

/** Parse the Vulkan loader's "[i] <device name>" lines (printed under "Original order" / "Sorted order"). */
export function parseLoaderDevices(stderr: string): string[] {
  const names = new Set<string>();
  for (const m of stderr.matchAll(/DRIVER:\s+\[\d+\]\s+(.+?)\s*$/gm)) names.add(m[1]);
  return [...names];
}

export function isSoftwareAdapterName(name: string): boolean {
  return SOFTWARE_DEVICE_NAME.test(name);
}

let webGpuProbeMemo: Promise<WebGpuProbe> | undefined;

/** Create a WebGPU session in a child process (once per process; later calls share the answer). */
export function probeWebGpu(): Promise<WebGpuProbe> {
  webGpuProbeMemo ??= new Promise((resolve) => {
    const [cmd, args] = runtimeCommand(probeScript(ortPaths().entry));
    const t0 = performance.now();
    execFile(
      cmd,
      args,
      { env: { ...process.env, VK_LOADER_DEBUG: "driver" }, timeout: 120_000, maxBuffer: 32 << 20 },
      (err, stdout, stderr) => {
        const ms = performance.now() - t0;
        const line = String(stdout).split("\n").find((l) => l.startsWith("XCODEC2_WEBGPU_PROBE "));
        let parsed: { ok: boolean; error?: string } = {
          ok: false,
          error: err ? String(err.message).split("\n")[0] : "probe printed no result",
        };
        if (line) parsed = JSON.parse(line.slice("XCODEC2_WEBGPU_PROBE ".length));
        resolve({
          ok: parsed.ok,
          error: parsed.ok ? undefined : (parsed.error ?? "unknown error"),
          vulkanDevices: parseLoaderDevices(String(stderr)),
          loaderMissing: /Couldn't load Vulkan|libvulkan\.so\.1: cannot open/.test(String(stderr)),
          ms,
        });
      },
    );
  });
  return webGpuProbeMemo;
}

/** onnxruntime's ORT_ENFORCE messages start with a source path and the failed condition; keep the sentence after. */
function shortOrtError(msg: string | undefined): string {
  const m = /\bwas false\. (.*)$/s.exec(msg ?? "");
  return (m ? m[1] : (msg ?? "unknown error")).trim();
}

/** What the WebGPU probe means: usable?, adapter name, software?, and if unusable a reason a person can act on. */
export function interpretWebGpuProbe(
  probe: WebGpuProbe,
  manifests: VulkanDriverManifest[],
): { usable: boolean; software: boolean; adapter?: string; reason?: string } {
  if (!probe.ok) {
    const why = probe.loaderMissing
      ? "the Vulkan loader libvulkan.so.1 is not installed"
      : manifests.length === 0
      ? "no Vulkan driver manifest (icd.d/*.json) was found"
      : probe.vulkanDevices.length === 0
      ? `no Vulkan device was found (drivers present: ${manifests.map((m) => basename(m.library)).join(", ")})`
      : `onnxruntime could not create a WebGPU session on ${probe.vulkanDevices.join(", ")}`;
    return { usable: false, software: false, reason: `${why} (onnxruntime: ${shortOrtError(probe.error)})` };
  }
  const hardware = probe.vulkanDevices.filter((n) => !isSoftwareAdapterName(n));
  if (hardware.length > 0) return { usable: true, software: false, adapter: hardware[0] };
  if (probe.vulkanDevices.length > 0) return { usable: true, software: true, adapter: probe.vulkanDevices[0] };
  // The loader printed no device list (old loader, or not Vulkan: Metal / D3D12). On Linux, fall back to the
  // manifests plus device nodes; elsewhere the platform API only offers hardware adapters by default.
  if (process.platform !== "linux") return { usable: true, software: false };
  const hw = manifests.filter((m) => !m.software);
  const software = hw.length === 0 || gpuDeviceNodes().length === 0;
  const name = software ? manifests.find((m) => m.software)?.library : hw[0]?.library;
  return { usable: true, software, adapter: name ? `Vulkan driver ${basename(name)}` : undefined };
}

let cudaProbeMemo: Promise<{ ok: boolean; error?: string }> | undefined;

/** Create a CUDA session in-process (onnxruntime loads the provider once; a failure is reported, not cached by us). */
function probeCuda(): Promise<{ ok: boolean; error?: string }> {
  cudaProbeMemo ??= (async () => {
    try {
      const s = await ort.InferenceSession.create(probeModelBytes(), {
        executionProviders: [{ name: "cuda", deviceId: 0 }],
        logSeverityLevel: 3,
      });
      await s.release();
      return { ok: true };
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  })();
  return cudaProbeMemo;
}

// ---------------------------------------------------------------------------------------------------------------
// Resolution.

function bundledBackends(): Set<string> {
  return new Set(ort.listSupportedBackends().map((b) => b.name));
}

const CPU: ResolvedDevice = { device: "cpu", executionProviders: ["cpu"], software: false };

/** Why CUDA cannot be used here, or undefined when it works. */
async function cudaUnavailable(): Promise<string | undefined> {
  if (!bundledBackends().has("cuda")) {
    return `this onnxruntime-node build (${process.platform}/${process.arch}) has no CUDA provider`;
  }
  const libs = cudaProviderLibraries();
  if (libs.missing.length > 0) {
    return `onnxruntime-node's CUDA provider libraries are not installed (${
      libs.missing.join(", ")
    } missing in ${libs.dir})`;
  }
  if (!nvidiaGpuVisible()) return "no NVIDIA GPU is visible (no /dev/nvidia0)";
  const probe = await probeCuda();
  if (!probe.ok) {
    return `the CUDA provider failed to start (${probe.error}); check the NVIDIA driver and that CUDA 12.x / cuDNN 9.x libraries are on LD_LIBRARY_PATH`;
  }
  return undefined;
}

async function webGpuStatus(): Promise<{ usable: boolean; software: boolean; adapter?: string; reason?: string }> {
  if (!bundledBackends().has("webgpu")) {
    return {
      usable: false,
      software: false,
      reason: `this onnxruntime-node build (${process.platform}/${process.arch}) has no WebGPU provider`,
    };
  }
  return interpretWebGpuProbe(await probeWebGpu(), vulkanDriverManifests());
}

const WEBGPU_EP: ort.InferenceSession.ExecutionProviderConfig = { name: "webgpu" };

/**
 * Turn a device choice into execution providers. `auto`: CUDA, then a hardware WebGPU adapter, then CPU, with one
 * log line when it does not get CUDA. An explicit device that is missing throws DeviceError.
 */
export async function resolveDevice(requested: DeviceChoice, log: Log = () => {}): Promise<ResolvedDevice> {
  switch (requested) {
    case "cpu":
      return CPU;
    case "cuda": {
      const why = await cudaUnavailable();
      if (why) {
        throw new DeviceError(
          "cuda",
          `device "cuda" is not available: ${why}. To get it: ${CUDA_INSTALL_HINT}. Or use --device cpu / webgpu / auto.`,
        );
      }
      return { device: "cuda", executionProviders: [{ name: "cuda", deviceId: 0 }], software: false };
    }
    case "webgpu": {
      const gpu = await webGpuStatus();
      if (!gpu.usable) {
        throw new DeviceError(
          "webgpu",
          `device "webgpu" is not available: ${gpu.reason}. To get it: ${WEBGPU_INSTALL_HINT}. Or use --device cpu / auto.`,
        );
      }
      if (gpu.software) {
        log(
          `webgpu: using the software adapter ${
            gpu.adapter ?? "(unnamed)"
          } — it runs on the CPU and is slower than --device cpu`,
        );
      }
      return { device: "webgpu", executionProviders: [WEBGPU_EP], software: gpu.software, adapter: gpu.adapter };
    }
    case "auto": {
      const noCuda = await cudaUnavailable();
      if (!noCuda) return { device: "cuda", executionProviders: [{ name: "cuda", deviceId: 0 }], software: false };
      const gpu = await webGpuStatus();
      if (gpu.usable && !gpu.software) {
        log(`device auto: using webgpu (${gpu.adapter ?? "hardware adapter"}) because CUDA is unavailable: ${noCuda}`);
        return { device: "webgpu", executionProviders: [WEBGPU_EP], software: false, adapter: gpu.adapter };
      }
      const noGpu = gpu.usable
        ? `only a software WebGPU adapter exists (${gpu.adapter ?? "unnamed"}), slower than the CPU provider`
        : gpu.reason;
      log(`device auto: using cpu — CUDA unavailable: ${noCuda}; hardware WebGPU unavailable: ${noGpu}`);
      return CPU;
    }
    default:
      throw new DeviceError(
        String(requested),
        `unknown device ${JSON.stringify(requested)}; expected one of ${DEVICE_CHOICES.join(", ")}`,
      );
  }
}
