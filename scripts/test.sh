#!/usr/bin/env bash
# The whole test suite, under Bun and then under Deno, on a fresh machine too (set-up included).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/xcodec2-xdg}"

npx tsc --noEmit -p .
echo "== bun test"
npx bun test --timeout 600000 "$@"
echo "== deno test"
npx deno test -A --no-check "$@"
