#!/usr/bin/env bash
# GPU benchmark, one command on a fresh Linux x86-64 machine with an NVIDIA GPU, no Node and no network (about 5 to
# 8 minutes on an H100/H200): unpacks what prepare.sh packed into .gpu_bench/, generates the full-size synthetic
# checkpoint, converts and exports it, times ours on WebGPU (and CUDA where onnxruntime-node's provider can load),
# then upstream transformers' Xcodec2Model on the same GPU and weights, and writes gpu_bench.json + gpu_bench.md.
#   bash scripts/gpu_bench/run.sh [--tiny] [bench.ts options: --devices webgpu,cuda,cpu --clips 8 --repeats 3 ...]
# --tiny: the tiny checkpoint, 2 clips of 2 s, on the CPU unless --devices says otherwise (a smoke run anywhere).
# Environment: OUT (results; default bench-results/gpu), XGB_WORK (default /tmp/xcodec2-gpu-bench; needs ~9 GB),
# PYTHON (default python3; empty: skip upstream), XGB_UPSTREAM (a whole upstream command instead).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PACK="$ROOT/.gpu_bench"
WORK="${XGB_WORK:-/tmp/xcodec2-gpu-bench}"
OUT="${OUT:-$ROOT/bench-results/gpu}"
[ -f "$PACK/app.tar.xz" ] || { echo "run: $PACK/app.tar.xz missing: run scripts/gpu_bench/prepare.sh first" >&2; exit 1; }
args=()
if [ "${1:-}" = "--tiny" ]; then
  shift
  args=(--preset tiny --clips 2 --seconds 2 --devices cpu)
fi
mkdir -p "$WORK/rt" "$OUT"
exec > >(tee "$OUT/run.log") 2>&1
t0=$(date +%s)

# 1. the runtime (node, onnxruntime-node) and the bundled benchmark; xz where present, else Python's lzma
unpack() {
  if command -v xz >/dev/null; then xz -dc "$1" | tar -x -C "$2"
  else python3 -c 'import lzma,sys,tarfile; tarfile.open(fileobj=lzma.open(sys.argv[1])).extractall(sys.argv[2])' "$1" "$2"; fi
}
for part in runtime app; do
  stamp="$WORK/rt/.$part"
  if [ ! -f "$stamp" ] || [ "$PACK/$part.tar.xz" -nt "$stamp" ]; then unpack "$PACK/$part.tar.xz" "$WORK/rt" && touch "$stamp"; fi
done

# 2. WebGPU: onnxruntime's Dawn loads libvulkan.so.1; bring the loader where the machine has none (unpacked into the
# work folder, never into /), and point it at NVIDIA's driver manifest where the driver is mounted outside the usual
# search path (as on the device machines: /usr/local/nvidia)
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  for f in "$PACK"/debs/*.deb; do [ -f "$f" ] && dpkg -x "$f" "$WORK/vk"; done
  [ -d "$WORK/vk" ] && export LD_LIBRARY_PATH="$WORK/vk/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && ! ls /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json >/dev/null 2>&1; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
    [ -f "$f" ] && { export VK_DRIVER_FILES="$f"; break; }
  done
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$WORK/xdg}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

# 3. upstream: python with torch and transformers; upstream's xcodec2 files from the pack when transformers lacks them
PY="${PYTHON-python3}"
up=()
if [ -n "${XGB_UPSTREAM:-}" ]; then up=(--upstream "$XGB_UPSTREAM")
elif [ -n "$PY" ] && command -v "$PY" >/dev/null; then
  up=(--upstream "PYTHONUNBUFFERED=1 $PY $ROOT/scripts/gpu_bench/upstream_gpu.py --xcodec2-src $PACK/hf_xcodec2")
fi

{
  echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "vulkan: LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-} VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
} | tee "$OUT/machine.txt"

# 4. the benchmark (the clip: the reference set's speech clip)
"$WORK/rt/node" "$WORK/rt/dist/gpu_bench.mjs" --work "$WORK" --out "$OUT" \
  --clip "$ROOT/fixtures/reference/clips/espeak_en.wav" "${up[@]}" "${args[@]}" "$@"
echo "gpu bench: $(($(date +%s) - t0)) s in all; results in $OUT"
