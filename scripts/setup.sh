#!/usr/bin/env bash
# One-time, idempotent set-up for a fresh Debian 12 + Node 20 machine. Called by scripts/test.sh and scripts/demo.sh,
# so that each of the README's two commands does everything itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# npm packages. onnxruntime-node's postinstall would download CUDA libraries; this variable skips it (the package
# ships its CPU + WebGPU build for Linux x64 inside the tarball). Not in .npmrc: npm 11 warns about that key on every
# command.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules/onnxruntime-node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# WebGPU on software Vulkan: Dawn refuses Mesa 22 (bookworm), so lavapipe comes from bookworm-backports (Mesa 25).
# Skipped where it is already there, where we are not root, or with XCODEC2_SKIP_APT=1.
if [ "${XCODEC2_SKIP_APT:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  have_lvp=$(ls /usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null | head -1 || true)
  mesa_ver=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  case "$mesa_ver" in
    2[5-9]*|[3-9][0-9]*) ;;
    *)
      if grep -qs 'bookworm' /etc/os-release; then
        if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
          echo "deb http://deb.debian.org/debian bookworm-backports main" > /etc/apt/sources.list.d/xcodec2-backports.list
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
      fi
      ;;
  esac
fi
# nats-server for the many-machine dataset tests (`xcodec2 encode-dataset --engine nats://…`): Debian's package.
# Skipped where it is already there, where we are not root, or with XCODEC2_SKIP_APT=1 (those tests then say why).
if [ "${XCODEC2_SKIP_APT:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null \
  && ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
fi
# Dawn wants a runtime dir; software Vulkan needs nothing else.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/xcodec2-xdg}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
