#!/usr/bin/env bash
# templates/pa-gen.cmake in a small superbuild (tests/superbuild/cmake), from
# CMake's Ninja and Unix Makefiles generators (issue 16): the first build
# runs dbt; a second runs pa-gen and ninja, which find nothing to do (no dbt
# runs); an edit of one model reruns only its batch.
#
# usage: cmake_superbuild_test.sh WORK_DIR PA_GEN_BINARY
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$1
pa_gen=$2
export DO_NOT_TRACK=1 PA_DBT=$root/.venv/bin/dbt
source "$root/tests/superbuild/tiny_project.sh"
fail() { echo "FAIL: $*"; exit 1; }
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
results() { stat -c %Y.%y "$1/.pa/run/$2/target/run_results.json" 2>/dev/null || echo none; }

for generator in Ninja "Unix Makefiles"; do
  dir=$work/${generator// /_}
  rm -rf "$dir"
  tiny_project "$dir/dbt"
  cmake -S "$root/tests/superbuild/cmake" -B "$dir/build" -G "$generator" -DPA_SOURCE_DIR="$root" \
    -DDBT_PROJECT_DIR="$dir/dbt" -DPA_GEN_BINARY="$pa_gen" > "$dir/configure.log" 2>&1 ||
    { cat "$dir/configure.log"; fail "$generator: configure"; }
  cmake --build "$dir/build" > "$dir/first.log" 2>&1 || { cat "$dir/first.log"; fail "$generator: first build"; }
  for batch in staging marts; do
    [[ -f $dir/dbt/.pa/stamps/$batch.stamp ]] || { cat "$dir/first.log"; fail "$generator: no stamp for $batch"; }
  done
  [[ -f $dir/build/report.txt && -f $dir/build/warehouse/build.ninja ]] || fail "$generator: report.txt or build.ninja missing"
  ok "$generator: the first build ran dbt for both batches, build.ninja in the CMake build folder"

  staging=$(results "$dir/dbt" staging) marts=$(results "$dir/dbt" marts)
  start=$(date +%s%N)
  cmake --build "$dir/build" > "$dir/second.log" 2>&1 || { cat "$dir/second.log"; fail "$generator: second build"; }
  ms=$((($(date +%s%N) - start) / 1000000))
  grep -q "ninja: no work to do." "$dir/second.log" || { cat "$dir/second.log"; fail "$generator: second build did work"; }
  [[ $(results "$dir/dbt" staging) == "$staging" && $(results "$dir/dbt" marts) == "$marts" ]] ||
    fail "$generator: the second build ran dbt"
  ok "$generator: a second build runs no dbt (pa-gen and ninja: no work to do; $ms ms, the whole cmake --build)"

  sleep 1  # a new mtime second for Ninja
  echo "select * from {{ ref('stg_a') }}" > "$dir/dbt/models/marts/ab.sql"
  cmake --build "$dir/build" > "$dir/third.log" 2>&1 || { cat "$dir/third.log"; fail "$generator: build after an edit"; }
  [[ $(results "$dir/dbt" staging) == "$staging" ]] || fail "$generator: an edit of marts reran staging"
  [[ $(results "$dir/dbt" marts) != "$marts" ]] || { cat "$dir/third.log"; fail "$generator: an edit of marts did not rerun it"; }
  ok "$generator: an edit of a mart reruns the marts batch only"
done
echo "cmake_superbuild: $passed passed, 0 failed"
