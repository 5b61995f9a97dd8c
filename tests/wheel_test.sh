#!/usr/bin/env bash
# The wheel as a dbt user gets it (issue 16): `pip wheel .` builds it from
# this tree with build isolation (scikit-build-core from PyPI), a fresh venv
# gets it with dbt from requirements.txt, and `pa-gen && ninja` builds a copy
# of examples/planalign with PATH holding only that venv's bin and
# /usr/bin:/bin, so the pa-gen and the ninja (1.13, not Debian's 1.11 in
# /usr/bin) are the ones the wheel brought.
#
# usage: wheel_test.sh WORK_DIR
# WORK_DIR/cache keeps the PyPI downloads between runs (a wheelhouse,
# fetched again only when requirements.txt or pyproject.toml change), so
# that a rerun needs no network. The compile is a full one each run: in
# pip's build isolation scikit-build-core clears a reused build folder
# ("New isolated environment"), so there is nothing to gain from keeping it.
# Everything else is made anew each run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
work=$(cd "$1" && pwd)
cache=$work/cache
export DO_NOT_TRACK=1 PIP_DISABLE_PIP_VERSION_CHECK=1
fail() { echo "FAIL: $*"; exit 1; }
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }

# 1. What PyPI gives: scikit-build-core (and what it needs), ninja, dbt.
mkdir -p "$cache"
key=$(cat "$root/requirements.txt" "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)
if [[ $(cat "$cache/wheelhouse.key" 2>/dev/null) != "$key" ]]; then
  rm -rf "$cache/wheelhouse"
  python3 -m pip download -q -d "$cache/wheelhouse" -r "$root/requirements.txt" \
    'ninja>=1.13' 'scikit-build-core>=1.1,<1.2'
  echo "$key" > "$cache/wheelhouse.key"
fi
pip_local=(--no-index --find-links "$cache/wheelhouse")

# 2. The wheel, as `pip wheel .` builds it (Release, two compile jobs).
rm -rf "$work/dist"
CMAKE_BUILD_PARALLEL_LEVEL=2 python3 -m pip wheel -q "$root" --no-deps "${pip_local[@]}" \
  -w "$work/dist" > "$work/pip-wheel.log" 2>&1 ||
  { tail -40 "$work/pip-wheel.log"; fail "pip wheel failed"; }
wheels=("$work"/dist/pa_gen-*.whl)
[[ ${#wheels[@]} == 1 && -f ${wheels[0]} ]] || fail "no single pa_gen wheel in $work/dist"
wheel=${wheels[0]}
[[ $(basename "$wheel") == pa_gen-*-py3-none-linux_x86_64.whl ]] || fail "wheel tag: $(basename "$wheel")"
ok "built $(basename "$wheel")"
python3 - "$wheel" <<'PY' || fail "wheel contents"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
scripts = [n for n in names if ".data/scripts/" in n]
assert scripts == ["pa_gen-0.1.0.data/scripts/pa-gen"], scripts
assert not [n for n in names if n.endswith(".py")], "a Python file in the wheel"
meta = z.read("pa_gen-0.1.0.dist-info/METADATA").decode()
assert "Requires-Dist: ninja>=1.13" in meta, meta
info = z.getinfo(scripts[0])
assert (info.external_attr >> 16) & 0o111, "pa-gen is not executable"
with z.open(scripts[0]) as f:
    assert f.read(4) == b"\x7fELF", "pa-gen is not the binary itself"
PY
ok "the wheel holds the pa-gen binary in its scripts folder (no shim) and requires ninja>=1.13"

# 3. A fresh venv with the wheel and dbt from requirements.txt.
venv=$work/venv
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q "${pip_local[@]}" "$wheel" -r "$root/requirements.txt" ||
  fail "pip install of the wheel and requirements.txt"
[[ -x $venv/bin/pa-gen && -x $venv/bin/ninja && -x $venv/bin/dbt ]] || fail "pa-gen, ninja or dbt missing in the venv"
cmp -s "$venv/bin/pa-gen" <(unzip -p "$wheel" pa_gen-0.1.0.data/scripts/pa-gen) || fail "venv's pa-gen is not the wheel's"
# The binary needs glibc and nothing else (libstdc++, libgcc, fmt, yaml-cpp, simdjson are inside).
needed=$(readelf -d "$venv/bin/pa-gen" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
for lib in $needed; do
  case $lib in
    libc.so.6 | libm.so.6 | ld-linux-x86-64.so.2 | libpthread.so.0 | libdl.so.2 | librt.so.1) ;;
    *) fail "pa-gen needs $lib (all it needs: $needed)" ;;
  esac
done
ok "pa-gen needs only glibc: $needed"

# 4. pa-gen && ninja on a copy of the example, with only the venv's PATH.
project=$work/planalign
rm -rf "$project"
cp -r "$root/examples/planalign/." "$project/"
rm -rf "$project/.pa" "$project/build.ninja" "$project/.ninja_log" "$project/.pa-plan.json" \
  "$project"/planalign.duckdb* "$project/target" "$project/logs"
user_env=(env -i HOME="$HOME" PATH="$venv/bin:/usr/bin:/bin" DO_NOT_TRACK=1 LANG=C.UTF-8)
cd "$project"
[[ $("${user_env[@]}" sh -c 'command -v pa-gen') == "$venv/bin/pa-gen" ]] || fail "pa-gen on PATH is not the venv's"
[[ $("${user_env[@]}" sh -c 'command -v ninja') == "$venv/bin/ninja" ]] || fail "ninja on PATH is not the venv's"
version=$("${user_env[@]}" ninja --version)
[[ $version == 1.13* ]] || fail "ninja --version is $version, not 1.13"
ok "PATH gives the venv's pa-gen and ninja $version"
"${user_env[@]}" sh -c 'pa-gen && ninja' > "$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "pa-gen && ninja"; }
for batch in $(python3 -c 'import json; print(" ".join(json.load(open(".pa-plan.json"))["batches"]))'); do
  [[ -f .pa/stamps/$batch.stamp ]] || fail "no stamp for batch $batch"
done
ok "pa-gen && ninja built every batch of planalign ($(grep -c 'dbt build' "$work/build.log" || true) dbt runs)"
# The build's timeline: a Chrome trace that the schema accepts, a slice per
# model and seed dbt ran, and its SVG well-formed.
[[ $("${user_env[@]}" pa-gen trace) == "$project/.pa/trace.json" ]] || fail "pa-gen trace does not name .pa/trace.json"
"${user_env[@]}" pa-gen trace --svg "$work/trace.svg" || fail "pa-gen trace --svg"
"$venv/bin/python" - "$project/.pa/trace.json" "$root/tests/data/trace.schema.json" "$work/trace.svg" <<'PY' ||
import json, sys, xml.etree.ElementTree as ET
import jsonschema  # installed with dbt
trace = json.load(open(sys.argv[1]))
jsonschema.validate(trace, json.load(open(sys.argv[2])))
plan = json.load(open(".pa-plan.json"))["batches"]
want = {m["id"] for b in plan.values() for m in b["members"] if m["id"].startswith(("model.", "seed."))}
got = {e["args"]["unique_id"] for e in trace["traceEvents"] if e["ph"] == "X" and "unique_id" in e["args"]}
assert want <= got, f"no slice for {sorted(want - got)[:5]}"
batches = {e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "process_name"}
assert batches == set(plan), (batches, set(plan))
rects = ET.parse(sys.argv[3]).getroot().findall("{http://www.w3.org/2000/svg}rect")
assert len(rects) > len(got), len(rects)
print(f"trace: {len(batches)} batches, {len(got)} nodes, {len(rects)} rectangles in the SVG")
PY
  fail "trace.json or its SVG"
ok "pa-gen trace: .pa/trace.json passes the schema, holds every batch and every model and seed; the SVG parses"
again=$("${user_env[@]}" sh -c 'pa-gen && ninja' 2>&1) || fail "second pa-gen && ninja: $again"
[[ $(echo "$again" | tail -1) == "ninja: no work to do." ]] || { echo "$again"; fail "second run did work"; }
ok "a second pa-gen && ninja has no work to do"
echo "wheel: $passed passed, 0 failed"
