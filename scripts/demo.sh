#!/usr/bin/env bash
# `make demo`: pa-gen && ninja -j8 on examples/planalign, then what was built.
# PA_DEMO_DIR runs it on another copy of the project (the tests do).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "${PA_DEMO_DIR:-$root/examples/planalign}"
export DO_NOT_TRACK=1

log_lines_before=$(wc -l < .ninja_log 2>/dev/null || echo 0)
start=$(date +%s.%N)
"$root/build/pa-gen"
set +e
ninja -j8 | tee /tmp/pa-demo.$$
status=${PIPESTATUS[0]}
set -e
end=$(date +%s.%N)
if grep -q "no work to do" /tmp/pa-demo.$$; then rm -f /tmp/pa-demo.$$; exit "$status"; fi
rm -f /tmp/pa-demo.$$

# The batches this run built, from Ninja's log and pa-gen's plan.
python3 - "$log_lines_before" "$start" "$end" <<'PY'
import json, sys
skip, start, end = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
plan = json.load(open(".pa-plan.json"))["batches"]
lines = open(".ninja_log").read().splitlines()[skip:]
rows = {}
for line in lines:
    parts = line.split("\t")
    if len(parts) == 5 and parts[3].startswith(".pa/stamps/"):
        name = parts[3][len(".pa/stamps/"):-len(".stamp")]
        rows[name] = (int(parts[1]) - int(parts[0])) / 1000
def kinds(batch):
    members = [m["id"] for m in plan[batch]["members"]]
    return sum(m.startswith(("model.", "seed.", "snapshot.")) for m in members), \
           sum(m.startswith(("test.", "unit_test.")) for m in members)
print()
print(f"{'batch':<40} {'models+seeds':>12} {'tests':>6} {'seconds':>8}")
total = [0, 0]
for name in sorted(rows, key=lambda n: -rows[n]):
    m, t = kinds(name) if name in plan else (0, 0)
    total[0] += m; total[1] += t
    print(f"{name[:40]:<40} {m:>12} {t:>6} {rows[name]:>8.1f}")
count = f"{len(rows)} batch{'' if len(rows) == 1 else 'es'}"
print(f"{count:<40} {total[0]:>12} {total[1]:>6} {end - start:>8.1f} wall")
PY
exit "$status"
