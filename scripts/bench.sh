#!/usr/bin/env bash
# `npm run bench [-- options]`: the end-to-end benchmark (scripts/bench.ts, which takes the options), then
# encode-dataset's on the converted folder it leaves in the cache (scripts/bench_dataset.ts, --quick passed on).
# A script rather than `a && b` in package.json: npm appends the options to the last command only.
set -euo pipefail
cd "$(dirname "$0")/.."
npx bun scripts/bench.ts "$@"
quick=()
for a in "$@"; do [ "$a" = --quick ] && quick=(--quick); done
npx bun scripts/bench_dataset.ts "${quick[@]}"
