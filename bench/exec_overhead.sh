#!/usr/bin/env bash
# What pa-gen exec adds to a batch of N models when deciding what to run:
# reading the plan and the state, fingerprint and upstream checks. Measured
# on the path where nothing needs work (no dbt starts), so the figure is
# pa-gen's own cost alone. Usage: bench/exec_overhead.sh [N] (default 100).
set -euo pipefail
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine: apt-get install hyperfine" >&2; exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-100}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

printf 'name: synth\nprofile: synth\nconfig-version: 2\n' > "$dir/dbt_project.yml"
python3 - "$dir" "$n" <<'PY'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
nodes = {}
for i in range(n):
    uid = f"model.synth.m{i:05d}"
    nodes[uid] = {
        "unique_id": uid, "resource_type": "model", "name": f"m{i:05d}", "package_name": "synth",
        "original_file_path": f"models/layer/m{i:05d}.sql", "patch_path": None,
        "fqn": ["synth", "layer", f"m{i:05d}"], "checksum": {"name": "sha256", "checksum": str(i)},
        "config": {"materialized": "table", "enabled": True},
        "depends_on": {"nodes": [f"model.synth.m{i-1:05d}"] if i else [], "macros": []},
    }
manifest = {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
                         "dbt_version": "1.12.0", "adapter_type": "duckdb", "project_name": "synth"},
            "nodes": nodes, "macros": {}, "unit_tests": {}}
json.dump(manifest, open(f"{d}/manifest.json", "w"))
PY
"$root/build/pa-gen" --project-dir "$dir" --manifest "$dir/manifest.json" --dbt /bin/true
# Every member built once, so the batch has nothing to do.
digest=$(python3 - "$dir" <<'PY'
import json, os, sys
d = sys.argv[1]
plan = json.load(open(f"{d}/.pa-plan.json"))
batch = plan["batches"]["layer"]
state = {m["id"]: {"fingerprint": m["fingerprint"], "built_at": 1, "status": "success"} for m in batch["members"]}
os.makedirs(f"{d}/.pa/state", exist_ok=True)
json.dump({"nodes": state}, open(f"{d}/.pa/state/layer.json", "w"))
print(batch["digest"])
PY
)
hyperfine --warmup 3 --runs 50 -N --export-json "$dir/result.json" \
  "$root/build/pa-gen exec --plan $dir/.pa-plan.json --digest $digest layer" >/dev/null
python3 - "$dir/result.json" "$n" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"pa-gen exec, batch of {sys.argv[2]} models, nothing to do: median {r['median']*1000:.1f} ms "
      f"(mean {r['mean']*1000:.1f} ms, min {r['min']*1000:.1f} ms, {len(r['times'])} runs)")
PY
