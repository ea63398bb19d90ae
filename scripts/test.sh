#!/usr/bin/env bash
# The whole test suite, under Bun and then under Deno, on a fresh machine too (set-up included).
# Extra arguments (test files or folders) narrow both runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

npx tsc --noEmit -p .
# One formatter and one linter for the whole tree (configured in deno.json).
npx deno fmt --check
npx deno lint
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
echo "== bun test"
npx bun test --timeout 600000 "$@" 2>&1 | tee "$logs/bun.log"
echo "== deno test"
npx deno test -A --no-check "$@" 2>&1 | tee "$logs/deno.log"

# One closing line in the plain form CI reads, summing both runtimes (each run above already failed the script on
# any failure, through pipefail).
strip() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }
bun_pass=$(strip "$logs/bun.log" | sed -n 's/^ *\([0-9][0-9]*\) pass$/\1/p' | tail -1)
bun_fail=$(strip "$logs/bun.log" | sed -n 's/^ *\([0-9][0-9]*\) fail$/\1/p' | tail -1)
deno_pass=$(strip "$logs/deno.log" | sed -n 's/^ok | \([0-9][0-9]*\) passed.*/\1/p' | tail -1)
deno_fail=$(strip "$logs/deno.log" | sed -n 's/.*| \([0-9][0-9]*\) failed.*/\1/p' | tail -1)
echo "bun: ${bun_pass:-0} passed, ${bun_fail:-0} failed; deno: ${deno_pass:-0} passed, ${deno_fail:-0} failed"
echo "tests: $(( ${bun_pass:-0} + ${deno_pass:-0} )) passed, $(( ${bun_fail:-0} + ${deno_fail:-0} )) failed"
