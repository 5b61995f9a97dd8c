#!/usr/bin/env bash
# A/B of one of the worker's switches on a chain-100 project: arm "on" (the
# default) against arm "off" (VAR=1 in the worker's environment), arms
# alternating, a fresh worker per arm and round.
#   bench/worker_ab.sh VAR leaf [ROUNDS]   a leaf edit's batch: wall (.ninja_log)
#                                          and the dbt child's CPU (worker log)
#   bench/worker_ab.sh VAR cold [ROUNDS]   a cold 201-node batch on a warm worker
# e.g. bench/worker_ab.sh PA_WORKER_NO_MACRO_TEMPLATES leaf 3,
#      bench/worker_ab.sh PA_WORKER_DBT_EVENTS cold 4. Not a test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
var=$1 scenario=$2 rounds=${3:-3}
dir=$(mktemp -d)
trap '(cd "$dir/p" && "$root/build/pa-gen" worker stop >/dev/null 2>&1) || true; rm -rf "$dir"' EXIT
export DO_NOT_TRACK=1 PATH="$root/.venv/bin:$PATH"
python3 "$root/bench/gen_project.py" --shape chain --models 100 --out "$dir/p" >/dev/null
cd "$dir/p"
"$root/build/pa-gen" --threads 4 >/dev/null && ninja -j4 >/dev/null
leaf=models/marts/mart_00024.sql
for ((round = 1; round <= rounds; round++)); do
  for arm in on off; do
    "$root/build/pa-gen" worker stop >/dev/null 2>&1 || true
    if [ "$arm" = off ]; then export "$var=1"; else unset "$var"; fi
    echo "-- warm" >> "$leaf"; ninja >/dev/null; sleep 5  # a new worker, warmed up and idle
    for i in 1 2 3; do
      if [ "$scenario" = cold ]; then
        rm -rf bench.duckdb bench.duckdb.wal .pa/stamps .pa/state .pa/build.ok .pa/run .ninja_log
        ninja -j4 >/dev/null
      else
        echo "-- $arm $i" >> "$leaf"; ninja >/dev/null
      fi
      wall=$(awk -F'\t' '/all_nodes.stamp/{print $2-$1}' .ninja_log | tail -1)
      cpu=$(grep -h "build: status" .pa/worker/*.log | tail -1 | grep -o "[0-9.]* CPU-s")
      echo "$arm batch ${wall} ms, child ${cpu}"
      [ "$scenario" = cold ] && break
    done
  done
done
unset "$var"
