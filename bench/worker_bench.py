#!/usr/bin/env python3
"""Cost of one dbt request: a fresh `dbt` process against a child forked
from a warm process, as pa-gen's resident worker (gen/worker/pa_worker.py)
does, with and without a preloaded manifest (item 3 of issue 11).

    .venv/bin/python bench/worker_bench.py PROJECT MODEL [ROUNDS]

PROJECT has been parsed by pa-gen (PROJECT/.pa/parse/partial_parse.msgpack).
Arms alternate; each figure is wall and CPU seconds (user + system of the
process and its children, from wait4) of one `dbt build --select MODEL`.
Not a test: the preloaded arm does no staleness check.
"""
import os
import statistics
import subprocess
import sys
import time

project, model = os.path.abspath(sys.argv[1]), sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
DBT = os.path.join(os.path.dirname(sys.executable), "dbt")
msgpack = os.path.join(project, ".pa", "parse", "partial_parse.msgpack")
run = os.path.join(project, ".pa", "bench-run")
os.environ["DO_NOT_TRACK"] = "1"
os.environ["DBT_USE_COLORS"] = "false"


def argv(extra=()):
    return [DBT, "build", "--project-dir", project, "--profiles-dir", project, "--select", model,
            "--indirect-selection", "cautious", "--target-path", run + "/target",
            "--log-path", run + "/logs", "--log-format-file", "json",
            "--partial-parse-file-path", msgpack,
            "--warn-error-options", '{"error":["NoNodesForSelectionCriteria"]}', *extra]


def measure(start):
    t = time.time()
    pid = start()
    _, status, ru = os.wait4(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, status
    return time.time() - t, ru.ru_utime + ru.ru_stime


def fresh():
    out = open(run + ".out", "w")
    return subprocess.Popen(argv(), cwd=project, stdout=out, stderr=out).pid


# The warm process: what the worker imports before it serves.
t0 = time.time()
import dbt.cli.main  # noqa: E402
import dbt.adapters.duckdb  # noqa: E402
import_seconds = time.time() - t0


def rss_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])


rss_import = rss_kb()
manifest = None


def forked(with_manifest):
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        fd = os.open(run + ".out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.chdir(project)
        a = argv(["--no-write-json"] if with_manifest else [])
        obj = {"manifest": manifest, "callbacks": [], "dbt_runner_command_args": a[1:]} if with_manifest else None
        code = 0
        try:
            dbt.cli.main.cli.main(args=a[1:], prog_name="dbt", obj=obj)
        except SystemExit as e:
            code = e.code or 0
        import atexit

        atexit._run_exitfuncs()
        os._exit(code)
    return pid


def load_manifest():
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder as extended_mashumaro_decoder
    t = time.time()
    with open(msgpack, "rb") as f:
        m = Manifest.from_msgpack(f.read(), decoder=extended_mashumaro_decoder)
    m.build_flat_graph()
    return m, time.time() - t


try:
    manifest, load_seconds = load_manifest()
except Exception as e:  # noqa: BLE001
    print("cannot load the manifest:", repr(e))
    manifest, load_seconds = None, 0
import gc  # noqa: E402

gc.collect()
gc.freeze()
rss_manifest = rss_kb()
threads = [l for l in open("/proc/self/status") if l.startswith("Threads:")][0].split()[1]

arms = {"fresh": fresh, "worker": lambda: forked(False)}
if manifest is not None:
    arms["worker+manifest"] = lambda: forked(True)
res = {k: [] for k in arms}
for i in range(rounds):
    for name, start in arms.items():
        res[name].append(measure(start))
print("load: %s" % open("/proc/loadavg").read().strip())
print("warm process: import %.2f s, rss %d kB; manifest load %.2f s, rss %d kB; threads %s"
      % (import_seconds, rss_import, load_seconds, rss_manifest, threads))
for name, xs in res.items():
    print("%-16s wall %.2f s  cpu %.2f s  (median of %d; walls %s)" % (
        name, statistics.median(w for w, _ in xs), statistics.median(c for _, c in xs), len(xs),
        " ".join("%.2f" % w for w, _ in xs)))
