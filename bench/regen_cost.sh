#!/usr/bin/env bash
# What an edit costs before any batch runs: the regeneration edge's
# `dbt parse` plus pa-gen, on examples/planalign. Usage: bench/regen_cost.sh
set -euo pipefail
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine: apt-get install hyperfine" >&2; exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp -r "$root/examples/planalign/." "$dir/"
rm -rf "$dir/.pa" "$dir/build.ninja" "$dir"/planalign.duckdb*
export DO_NOT_TRACK=1
export PA_DBT=${PA_DBT:-$root/.venv/bin/dbt}  # the copy is outside the repo
"$root/build/pa-gen" --project-dir "$dir" >/dev/null
hyperfine --warmup 1 --runs 5 -N --export-json "$dir/parse.json" \
  --prepare "touch $dir/models/staging/stg_census.sql" "$root/build/pa-gen --project-dir $dir" >/dev/null
hyperfine --warmup 3 --runs 20 -N --export-json "$dir/gen.json" \
  "$root/build/pa-gen --project-dir $dir" >/dev/null
python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
p = json.load(open(f"{d}/parse.json"))["results"][0]
g = json.load(open(f"{d}/gen.json"))["results"][0]
print(f"pa-gen after an edit (dbt parse + generate), planalign: median {p['median']:.2f} s")
print(f"pa-gen with nothing changed (no parse), planalign: median {g['median']*1000:.1f} ms")
PY
