#!/usr/bin/env bash
# templates/pa-gen.mk in a Makefile next to other targets, run with
# `make -jN` (issue 16): the jobs of Make and of the Ninja it starts never
# number more than N at once. Every job appends "start|end <seconds> <name>"
# to one log; the most jobs running at one instant is counted from it.
#
# 1. The protocol, through the template's own recipe (`+$(NINJA) -C ...`):
#    a build.ninja of six one-second edges (written here, so that Ninja has
#    more to run side by side than N; with PA_GEN=true the template runs
#    no generation), beside three one-second Make targets, `make -j3`.
#    - PyPI's ninja (1.13) shares Make's slots: at most 3.
#    - With -j in NINJA_FLAGS, Ninja ignores the jobserver: more than 3.
#    - Debian's ninja (1.11) has no jobserver client and runs its own -j
#      (cores + 2): more than 3. (Only when /usr/bin/ninja is 1.11.)
# 2. The real thing: pa-gen and dbt build a small DuckDB project through
#    the template beside two Make targets, `make -j2`; a batch's dbt run is
#    the span of its run_results.json (invocation start to generated_at).
#
# usage: make_jobserver_test.sh WORK_DIR PA_GEN_BINARY
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$1
pa_gen=$2
export DO_NOT_TRACK=1 PIP_DISABLE_PIP_VERSION_CHECK=1
source "$root/tests/superbuild/tiny_project.sh"
fail() { echo "FAIL: $*"; exit 1; }
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }

# sed reads all of make's output: with `head -1` and pipefail, make could
# die of SIGPIPE (exit 141) after head closed the pipe, failing the test.
make_version=$(make --version | sed -n 1p)
echo "make: $make_version"

# PyPI's ninja, in a venv of its own (downloaded once, kept in WORK_DIR).
tools=$work/tools
if [[ ! -x $tools/bin/ninja ]]; then
  rm -rf "$tools"
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q 'ninja>=1.13,<1.14'
fi
pypi_ninja=$tools/bin/ninja
[[ $("$pypi_ninja" --version) == 1.13* ]] || fail "PyPI ninja is $("$pypi_ninja" --version)"
echo "PyPI ninja: $("$pypi_ninja" --version); /usr/bin/ninja: $(/usr/bin/ninja --version 2>/dev/null || echo none)"

most_at_once() {  # the most jobs of log $1 running at one instant
  python3 - "$1" <<'PY'
import sys
events = []
for line in open(sys.argv[1]):
    kind, when, _ = line.split(maxsplit=2)
    events.append((float(when), 1 if kind == "start" else -1))
running = most = 0
for _, step in sorted(events):  # at equal times an end (-1) comes before a start
    running += step
    most = max(most, running)
print(most)
PY
}

# 1. The protocol.
proto=$work/protocol
rm -rf "$proto"
mkdir -p "$proto/ninja"
job='echo start $$(date +%s.%N) $out >> '"$proto"'/jobs.log; sleep 1; echo end $$(date +%s.%N) $out >> '"$proto"'/jobs.log'
{
  echo "rule job"
  echo "  command = sh -c '$job'"
  for i in 1 2 3 4 5 6; do echo "build edge$i: job"; done
} > "$proto/ninja/build.ninja"
cat > "$proto/Makefile" <<EOF
PA_GEN := true
PA_GEN_OUTPUT := $proto/ninja/build.ninja
include $root/templates/pa-gen.mk
all: dbt m1 m2 m3
m1 m2 m3:
	@echo start \$\$(date +%s.%N) \$@ >> $proto/jobs.log; sleep 1; echo end \$\$(date +%s.%N) \$@ >> $proto/jobs.log
.PHONY: all m1 m2 m3
EOF
run_protocol() {  # $1: ninja, $2: NINJA_FLAGS; prints the most jobs at once
  rm -f "$proto/jobs.log" "$proto/ninja/.ninja_log"
  make -s -C "$proto" -j3 all NINJA="$1" NINJA_FLAGS="${2:-}" > "$proto/make.out" 2>&1 || { cat "$proto/make.out"; fail "make -j3 with $1"; }
  [[ $(grep -c '^start' "$proto/jobs.log") == 9 ]] || fail "not 9 jobs with $1"
  most_at_once "$proto/jobs.log"
}
most=$(run_protocol "$pypi_ninja")
[[ $most -le 3 ]] || fail "make -j3 with PyPI's ninja ran $most jobs at once"
ok "make -j3, the template and PyPI's ninja $("$pypi_ninja" --version): at most $most jobs at once (9 jobs)"
most=$(run_protocol "$pypi_ninja" -j6)
[[ $most -gt 3 ]] || fail "PyPI's ninja with -j6 stayed within make -j3 ($most)"
ok "make -j3 with NINJA_FLAGS=-j6: $most jobs at once (an explicit -j makes Ninja ignore the jobserver)"
if [[ $(/usr/bin/ninja --version 2>/dev/null) == 1.11* ]]; then
  most=$(run_protocol /usr/bin/ninja)
  [[ $most -gt 3 ]] || fail "Debian's ninja 1.11 stayed within make -j3 ($most): it has no jobserver client"
  ok "make -j3 with Debian's ninja 1.11 (no jobserver client): $most jobs at once, more than 3"
fi

# 2. pa-gen and dbt through the template.
real=$work/real
rm -rf "$real"
tiny_project "$real/dbt"
cat > "$real/Makefile" <<EOF
PA_GEN := $pa_gen
PA_GEN_FLAGS := --policy folder
NINJA := $pypi_ninja
DBT_PROJECT_DIR := $real/dbt
include $root/templates/pa-gen.mk
all: dbt m1 m2
m1 m2:
	@echo start \$\$(date +%s.%N) \$@ >> $real/jobs.log; sleep 10; echo end \$\$(date +%s.%N) \$@ >> $real/jobs.log
.PHONY: all m1 m2
EOF
PA_DBT=$root/.venv/bin/dbt make -s -C "$real" -j2 all > "$real/make.out" 2>&1 || { cat "$real/make.out"; fail "make -j2 with pa-gen"; }
python3 - "$real" >> "$real/jobs.log" <<'PY'
import datetime, glob, json, sys
def seconds(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
for path in glob.glob(sys.argv[1] + "/dbt/.pa/run/*/target/run_results.json"):
    meta = json.load(open(path))["metadata"]
    print("start", seconds(meta["invocation_started_at"]), path)
    print("end", seconds(meta["generated_at"]), path)
PY
batches=$(grep -c '^start.*run_results' "$real/jobs.log" || true)
[[ $batches -ge 2 ]] || { cat "$real/make.out"; fail "dbt ran $batches batches, not 2"; }
for batch in staging marts; do [[ -f $real/dbt/.pa/stamps/$batch.stamp ]] || fail "no stamp for $batch"; done
most=$(most_at_once "$real/jobs.log")
[[ $most -le 2 ]] || fail "make -j2 with pa-gen ran $most jobs at once"
ok "make -j2: pa-gen's $batches dbt batches beside two Make targets, at most $most job(s) at once"
again=$(PA_DBT=$root/.venv/bin/dbt make -C "$real" dbt 2>&1) || fail "second make dbt: $again"
grep -q "ninja: no work to do." <<<"$again" || { echo "$again"; fail "a second make dbt did work"; }
ok "a second make dbt: ninja has no work to do"
echo "make_jobserver: $passed passed, 0 failed"
