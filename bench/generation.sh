#!/usr/bin/env bash
# Generation at scale: pa-gen on synthetic projects of N models and 2N tests
# (bench/gen_manifest.py --models), from the manifest alone, without dbt. Prints per
# size the manifest's size, pa-gen's median wall time and mean CPU time
# (user + system; hyperfine), its peak resident memory (/usr/bin/time, median
# of 3 runs) and one run's --timings. The target: 10,000 models (a 98 MB
# manifest) in at most 0.3 s and 3x the manifest. On a busy machine trust
# the CPU time more.
#
# Usage: bench/generation.sh [MODELS...]     (default: 1000 10000 30000)
#   PA_GEN=path   the pa-gen binary to measure (default: build/pa-gen)
#   RUNS=n        hyperfine runs per size (default: 10, 3 from 30,000 models)
# Projects are kept in bench/results/tmp/generation/ and reused while
# gen_manifest.py is unchanged.
set -euo pipefail
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine: apt-get install hyperfine" >&2; exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
pa_gen=$(realpath "${PA_GEN:-$root/build/pa-gen}")
sizes=("$@")
((${#sizes[@]})) || sizes=(1000 10000 30000)
tmp=$root/bench/results/tmp/generation
mkdir -p "$tmp"

printf '%8s %12s %10s %10s %10s %10s\n' models manifest_MB median_s cpu_s peak_MB peak/file
for n in "${sizes[@]}"; do
  dir=$tmp/m$n
  manifest=$dir/target/manifest.json
  if [[ ! -f $manifest || $root/bench/gen_manifest.py -nt $manifest ]]; then
    rm -rf "$dir"
    python3 "$root/bench/gen_manifest.py" --models "$n" --out "$dir"
  fi
  rm -rf "$dir/.pa" "$dir/build.ninja" "$dir/.pa-plan.json"
  # --dbt: pa-gen writes dbt's path into the plan; with --manifest it never runs it.
  cmd=("$pa_gen" --project-dir "$dir" --manifest "$manifest" --dbt /bin/true)
  "${cmd[@]}" --timings 2>"$dir/timings.txt"  # the first run writes build.ninja
  runs=${RUNS:-$((n >= 30000 ? 3 : 10))}
  hyperfine -N --warmup 1 --runs "$runs" --export-json "$dir/hyperfine.json" "${cmd[*]}" \
    >"$dir/hyperfine.out" 2>&1 || { cat "$dir/hyperfine.out" >&2; exit 1; }
  peaks=()
  for _ in 1 2 3; do
    peaks+=("$(/usr/bin/time -f %M "${cmd[@]}" 2>&1 >/dev/null | tail -1)")
  done
  python3 - "$dir" "$manifest" "${peaks[@]}" <<'PY'
import json, os, statistics, sys
d, manifest, peaks = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
size = os.path.getsize(manifest) / 1e6
result = json.load(open(f"{d}/hyperfine.json"))["results"][0]
median, cpu = result["median"], result["user"] + result["system"]
peak = statistics.median(peaks) / 1e3  # KB -> MB
nodes = os.path.basename(d)[1:]
print(f"{nodes:>8} {size:12.1f} {median:10.3f} {cpu:10.3f} {peak:10.1f} {peak / size:10.2f}")
PY
  sed 's/^/           /' "$dir/timings.txt"
done
