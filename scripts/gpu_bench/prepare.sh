#!/usr/bin/env bash
# Packs what the GPU benchmark needs on a machine with no Node and no network into .gpu_bench/ (git-ignored), small
# enough to travel with the working tree (64 MiB in all, the tree included):
#   runtime.tar.xz  node (this machine's, an official build: needs only glibc and libstdc++), onnxruntime-node's JS
#                   and its native library for linux/x64 (CPU and WebGPU providers); kept from an earlier run unless
#                   either changed (xz -9 takes minutes)
#   app.tar.xz      the benchmark bundled into one ES module (bun build; onnxruntime-node stays external) and
#                   package.json (the runtime reads its version)
#   debs/           the Vulkan loader (libvulkan1, amd64) for WebGPU; run.sh unpacks it into its work folder
#   hf_xcodec2/     upstream transformers' xcodec2 model files, for a transformers that lacks them
#                   ($XCODEC2_UPSTREAM_SRC, default /tmp/upstream-src/hf_xcodec2; ../shared/tools/upstream/README.md)
# CUDA is not packed: onnxruntime-node's CUDA provider libraries are a separate download built for CUDA 12 and
# cuDNN 9, far over the carry limit; the benchmark's CUDA row then says what is missing.
#   bash scripts/gpu_bench/prepare.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
DEST="$ROOT/.gpu_bench"
LIMIT=$((64 * 1024 * 1024))
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
ORT="node_modules/onnxruntime-node"
NATIVE="$ORT/bin/napi-v6/linux/x64"
[ -f "$NATIVE/libonnxruntime.so.1" ] || { echo "prepare: $NATIVE/libonnxruntime.so.1 missing (npm ci first)" >&2; exit 1; }
NODE_BIN="${NODE_BIN:-$(command -v node || true)}"
[ -x "$NODE_BIN" ] || { echo "prepare: no node binary (set NODE_BIN)" >&2; exit 1; }

rm -rf "$DEST.tmp" && mkdir -p "$DEST.tmp/debs"
echo "prepare: bundling scripts/gpu_bench/bench.ts"
mkdir -p "$STAGE/app/dist"
node_modules/.bin/bun build scripts/gpu_bench/bench.ts --target=node --format=esm --external onnxruntime-node \
  --outfile "$STAGE/app/dist/gpu_bench.mjs" >/dev/null
cp package.json "$STAGE/app/package.json"
tar -C "$STAGE/app" -cf - . | xz -9 >"$DEST.tmp/app.tar.xz"

if [ -f "$DEST/runtime.tar.xz" ] && [ "$DEST/runtime.tar.xz" -nt "$NODE_BIN" ] && [ "$DEST/runtime.tar.xz" -nt "$NATIVE/libonnxruntime.so.1" ]; then
  cp "$DEST/runtime.tar.xz" "$DEST.tmp/runtime.tar.xz"
else
  echo "prepare: compressing node and onnxruntime-node (xz -9, a few minutes)"
  rt="$STAGE/rt/node_modules"
  mkdir -p "$rt/onnxruntime-node/bin/napi-v6/linux" "$rt/onnxruntime-common"
  cp -r "$ORT/package.json" "$ORT/dist" "$rt/onnxruntime-node/"
  cp -r "$NATIVE" "$rt/onnxruntime-node/bin/napi-v6/linux/x64"
  cp -r node_modules/onnxruntime-common/package.json node_modules/onnxruntime-common/dist "$rt/onnxruntime-common/"
  cp "$NODE_BIN" "$STAGE/rt/node"
  tar -C "$STAGE/rt" -cf - . | xz -9 -T0 >"$DEST.tmp/runtime.tar.xz"
fi

echo "prepare: Vulkan loader (libvulkan1, amd64)"
o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$STAGE/lists -oDir::Cache=$STAGE/cache"
mkdir -p "$STAGE/lists/partial" "$STAGE/cache/archives/partial"
if apt-get $o update >/dev/null 2>&1 && (cd "$DEST.tmp/debs" && apt-get $o download libvulkan1 >/dev/null 2>&1); then
  ls "$DEST.tmp/debs"
else
  echo "prepare: could not download libvulkan1 (no apt archive?); run.sh then needs the machine's own loader" >&2
fi

SRC="${XCODEC2_UPSTREAM_SRC:-/tmp/upstream-src/hf_xcodec2}"
if [ -f "$SRC/modeling_xcodec2.py" ]; then
  mkdir -p "$DEST.tmp/hf_xcodec2" && cp "$SRC"/*.py "$DEST.tmp/hf_xcodec2/"
else
  echo "prepare: no upstream xcodec2 files at $SRC: upstream runs only where transformers ships xcodec2" >&2
fi

tree_bytes=$(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1)
pack_bytes=$(du -cb "$DEST.tmp" | tail -1 | cut -f1)
echo "prepare: pack $((pack_bytes >> 20)) MiB + tracked tree $((tree_bytes >> 20)) MiB (limit 64 MiB)"
if [ $((pack_bytes + tree_bytes)) -gt $LIMIT ]; then
  echo "prepare: over the 64 MiB the device run carries" >&2
  rm -rf "$DEST.tmp"
  exit 1
fi
rm -rf "$DEST" && mv "$DEST.tmp" "$DEST"
echo "prepare: wrote $DEST; run there with: bash scripts/gpu_bench/run.sh (carry .gpu_bench)"
