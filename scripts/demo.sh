#!/usr/bin/env bash
# The main job on the embedded default: bundled tiny checkpoint and clip -> convert -> export -> batched encode and
# decode -> WAV -> parity summary. Set-up included.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec npx bun bin/xcodec2.ts demo "$@"
