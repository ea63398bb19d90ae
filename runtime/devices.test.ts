import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import {
  CUDA_INSTALL_HINT,
  cudaProviderLibraries,
  DeviceError,
  interpretWebGpuProbe,
  isSoftwareAdapterName,
  nvidiaGpuVisible,
  parseLoaderDevices,
  probeModelBytes,
  probeWebGpu,
  resolveDevice,
  type VulkanDriverManifest,
  vulkanDriverManifests,
  type WebGpuProbe,
} from "./devices.ts";
import { createSession, run } from "./session.ts";
import { pseudoRandom, tinyMatMulAddModel } from "../fixtures/support/tiny_onnx.ts";

// CI sets XCODEC2_NO_WEBGPU=1 only where Vulkan cannot be installed; everywhere else a missing Vulkan is a failure.
const NO_WEBGPU = process.env.XCODEC2_NO_WEBGPU === "1";
const WEBGPU_SKIP = NO_WEBGPU ? "XCODEC2_NO_WEBGPU=1: WebGPU (Vulkan) not installed on purpose" : undefined;
const cudaLibsPresent = cudaProviderLibraries().missing.length === 0;

function collect(): { lines: string[]; log: (m: string) => void } {
  const lines: string[] = [];
  return { lines, log: (m) => lines.push(m) };
}

describe("resolveDevice", () => {
  test("cpu always resolves, silently, to the CPU provider", async () => {
    const { lines, log } = collect();
    const d = await resolveDevice("cpu", log);
    assert.deepEqual(d, { device: "cpu", executionProviders: ["cpu"], software: false });
    assert.equal(lines.length, 0);
  });

  test("explicit cuda without the CUDA provider libraries fails with the install switch", async () => {
    if (cudaLibsPresent && nvidiaGpuVisible()) {
      // A CUDA machine: either it works or the error still says how to fix it.
      const r = await resolveDevice("cuda").catch((e: unknown) => e);
      if (r instanceof DeviceError) assert.match(r.message, /cuDNN 9/);
      else assert.equal((r as { device: string }).device, "cuda");
      return;
    }
    const err = await resolveDevice("cuda").then(
      () => assert.fail("cuda resolved on a machine without CUDA"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DeviceError, `expected DeviceError, got ${String(err)}`);
    assert.equal(err.device, "cuda");
    assert.match(err.message, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
    assert.match(err.message, /--onnxruntime-node-install=cuda12/);
    assert.match(err.message, /CUDA 12\.x and cuDNN 9\.x/);
    assert.ok(err.message.includes(CUDA_INSTALL_HINT));
    if (!cudaLibsPresent) assert.match(err.message, /libonnxruntime_providers_cuda\.so/);
  });

  test("unknown device names are rejected", async () => {
    await assert.rejects(
      resolveDevice("tpu" as never),
      (e: unknown) => e instanceof DeviceError && /tpu/.test(e.message),
    );
  });

  test("auto without CUDA or a hardware adapter picks cpu with exactly one log line saying why", async () => {
    const { lines, log } = collect();
    const probe = await probeWebGpu();
    const gpu = interpretWebGpuProbe(probe, vulkanDriverManifests());
    const d = await resolveDevice("auto", log);
    if (cudaLibsPresent || (gpu.usable && !gpu.software)) {
      // Not this CI machine: auto must have taken the better device.
      assert.notEqual(d.device, "cpu");
      assert.equal(d.software, false);
      return;
    }
    assert.equal(d.device, "cpu");
    assert.equal(lines.length, 1, `log lines: ${JSON.stringify(lines)}`);
    assert.match(lines[0], /^device auto: using cpu/);
    assert.match(lines[0], /CUDA unavailable: onnxruntime-node's CUDA provider libraries are not installed/);
    if (!NO_WEBGPU) {
      // Lavapipe is installed here, so the reason is the software adapter, named.
      assert.ok(
        gpu.usable && gpu.software,
        `expected lavapipe WebGPU (bash scripts/setup.sh; or XCODEC2_NO_WEBGPU=1), probe: ${JSON.stringify(probe)}`,
      );
      assert.match(lines[0], /only a software WebGPU adapter exists \(llvmpipe/);
    }
  });
});

describe("software adapter detection", () => {
  const loaderLog = [
    "INFO | DRIVER:    linux_read_sorted_physical_devices:",
    "INFO | DRIVER:         Original order:",
    "INFO | DRIVER:               [0] llvmpipe (LLVM 15.0.6, 256 bits)",
    "INFO | DRIVER:               [1] NVIDIA H100 80GB HBM3",
    "INFO | DRIVER:         Sorted order:",
    "INFO | DRIVER:               [0] NVIDIA H100 80GB HBM3  ",
    "INFO | DRIVER:               [1] llvmpipe (LLVM 15.0.6, 256 bits)  ",
    "DEBUG | DRIVER:   Copying old device 0 into new device 0",
  ].join("\n");
  const lvp: VulkanDriverManifest = {
    file: "/usr/share/vulkan/icd.d/lvp_icd.json",
    library: "libvulkan_lvp.so",
    software: true,
  };
  const probe = (p: Partial<WebGpuProbe>): WebGpuProbe => ({
    ok: true,
    vulkanDevices: [],
    loaderMissing: false,
    ms: 1,
    ...p,
  });

  test("loader device lines are parsed once each, names trimmed", () => {
    assert.deepEqual(parseLoaderDevices(loaderLog), ["llvmpipe (LLVM 15.0.6, 256 bits)", "NVIDIA H100 80GB HBM3"]);
  });

  test("llvmpipe / lavapipe / SwiftShader are software, GPUs are not", () => {
    for (const n of ["llvmpipe (LLVM 19.1.7, 256 bits)", "SwiftShader Device (Subzero)", "lavapipe"]) {
      assert.ok(isSoftwareAdapterName(n), n);
    }
    for (
      const n of [
        "NVIDIA H100 80GB HBM3",
        "AMD Radeon RX 7900 XTX (RADV NAVI31)",
        "Intel(R) Arc(tm) A770 Graphics (DG2)",
      ]
    ) {
      assert.ok(!isSoftwareAdapterName(n), n);
    }
  });

  test("a hardware device beside llvmpipe wins; llvmpipe alone is software", () => {
    const both = interpretWebGpuProbe(probe({ vulkanDevices: parseLoaderDevices(loaderLog) }), [lvp]);
    assert.deepEqual(both, { usable: true, software: false, adapter: "NVIDIA H100 80GB HBM3" });
    const alone = interpretWebGpuProbe(probe({ vulkanDevices: ["llvmpipe (LLVM 15.0.6, 256 bits)"] }), [lvp]);
    assert.deepEqual(alone, { usable: true, software: true, adapter: "llvmpipe (LLVM 15.0.6, 256 bits)" });
  });

  test("failures name the missing piece", () => {
    const err = "webgpu_context.cc:136 x was false. Failed to get a WebGPU adapter: No supported adapters";
    const noLoader = interpretWebGpuProbe(probe({ ok: false, loaderMissing: true, error: err }), []);
    assert.equal(noLoader.usable, false);
    assert.match(
      noLoader.reason ?? "",
      /Vulkan loader libvulkan\.so\.1 is not installed \(onnxruntime: Failed to get a WebGPU adapter/,
    );
    const noDriver = interpretWebGpuProbe(probe({ ok: false, error: err }), []);
    assert.match(noDriver.reason ?? "", /no Vulkan driver manifest/);
    const noDevice = interpretWebGpuProbe(probe({ ok: false, error: err }), [{
      ...lvp,
      library: "libvulkan_radeon.so",
      software: false,
    }]);
    assert.match(noDevice.reason ?? "", /no Vulkan device was found \(drivers present: libvulkan_radeon\.so\)/);
  });

  test("driver manifests are read from VK_DRIVER_FILES and classified by library", () => {
    const dir = mkdtempSync(join(tmpdir(), "xcodec2-icd-"));
    try {
      const write = (name: string, lib: string) => {
        writeFileSync(
          join(dir, name),
          JSON.stringify({ file_format_version: "1.0.0", ICD: { library_path: lib, api_version: "1.4.305" } }),
        );
        return join(dir, name);
      };
      const files = [
        write("lvp_icd.json", "libvulkan_lvp.so"),
        write("nvidia_icd.json", "libGLX_nvidia.so.0"),
        write("sw.json", "/opt/lib/libvk_swiftshader.so"),
      ];
      const found = vulkanDriverManifests({ VK_DRIVER_FILES: files.join(":") });
      assert.deepEqual(
        found.map((m) => [m.library, m.software]),
        [["libvulkan_lvp.so", true], ["libGLX_nvidia.so.0", false], ["/opt/lib/libvk_swiftshader.so", true]],
      );
      assert.deepEqual(vulkanDriverManifests({ VK_DRIVER_FILES: join(dir, "missing.json") }), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the embedded probe model is the fixture's 2x2 MatMul+Add", () => {
    assert.deepEqual(probeModelBytes(), tinyMatMulAddModel(2, 2));
  });
});

describe("webgpu", () => {
  test(
    WEBGPU_SKIP
      ? `explicit webgpu matches cpu (skipped: ${WEBGPU_SKIP})`
      : "explicit webgpu runs the tiny model, equal to cpu within 1e-5",
    { skip: WEBGPU_SKIP ?? false },
    async () => {
      const { lines, log } = collect();
      let gpu;
      try {
        gpu = await resolveDevice("webgpu", log);
      } catch (e) {
        assert.fail(
          `WebGPU is required for this test (run \`bash scripts/setup.sh\` as root for Mesa lavapipe, or set ` +
            `XCODEC2_NO_WEBGPU=1 to skip it): ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      assert.equal(gpu.device, "webgpu");
      if (gpu.software) assert.equal(lines.length, 1, "a software adapter is logged once");
      if (gpu.software) assert.match(lines[0], new RegExp(`software adapter ${gpu.adapter?.replace(/[()]/g, "\\$&")}`));

      const dir = mkdtempSync(join(tmpdir(), "xcodec2-webgpu-"));
      try {
        const path = join(dir, "tiny.onnx");
        writeFileSync(path, tinyMatMulAddModel(64, 32));
        const x = new ort.Tensor("float32", pseudoRandom(5 * 64, 3), [5, 64]);
        // requireAllNodesOnDevice: creation fails if onnxruntime would quietly put a node on the CPU provider.
        const onGpu = await createSession(path, gpu, { requireAllNodesOnDevice: true });
        const onCpu = await createSession(path, await resolveDevice("cpu"));
        const a = (await run(onGpu, { x })).y;
        const b = (await run(onCpu, { x })).y;
        assert.deepEqual(a.dims, [5, 32]);
        assert.deepEqual(b.dims, [5, 32]);
        let maxDiff = 0;
        for (let i = 0; i < b.data.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(Number(a.data[i]) - Number(b.data[i])));
        }
        assert.ok(maxDiff <= 1e-5, `max |webgpu - cpu| = ${maxDiff}`);
        await onGpu.release();
        await onCpu.release();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
