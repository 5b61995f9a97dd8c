#!/usr/bin/env bash
# `make demo` as written: the first run prints the table of what it built,
# the second ends with Ninja's "no work to do." Runs on a copy of the example.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp -r "$root/examples/planalign/." "$dir/"
rm -rf "$dir/.pa" "$dir/build.ninja" "$dir/.ninja_log" "$dir/.pa-plan.json" "$dir"/planalign.duckdb*
export PA_DEMO_DIR=$dir
export PA_DBT=$root/.venv/bin/dbt  # the copy is outside the repo: no .venv above it

first=$("$root/scripts/demo.sh" 2>&1) || { echo "$first"; echo "FAIL: first demo run failed"; exit 1; }
echo "$first" | tail -3
grep -q "models+seeds" <<<"$first" || { echo "FAIL: no summary table"; exit 1; }
# The default policy on DuckDB: one batch.
grep -Eq "^1 batch +36 +56 " <<<"$first" || { echo "FAIL: summary is not 1 batch, 36 models+seeds, 56 tests"; exit 1; }
second=$("$root/scripts/demo.sh" 2>&1) || { echo "$second"; echo "FAIL: second demo run failed"; exit 1; }
[[ $(echo "$second" | tail -1) == "ninja: no work to do." ]] || { echo "$second"; echo "FAIL: second run did work"; exit 1; }
echo "demo: 2 passed, 0 failed"
