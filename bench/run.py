#!/usr/bin/env python3
"""pa-gen's benchmark suite: `make bench` (full) or `make bench QUICK=1`.

For each case (a project from bench/gen_project.py of a shape and size) it
measures the competing ways of doing the same work, alternating between
them repetition after repetition, each from a fresh copy of the same
project and database state:

  cold      full build: naive `dbt build --select <node>` per node in
            topological order, `dbt build --threads 4`, `pa-gen && ninja -j4`
            with the default policy (single on DuckDB, folder on servers),
            --policy folder, --policy auto and --policy per-model
  noop      after a complete build: `ninja` vs
            `dbt build --select state:modified+ --state <saved manifest>`
  leaf      one leaf model edited: the same pair
  staging   one staging model edited, it and its descendants rebuild (6 to
            10 nodes where the shape has such a model): same pair
  recovery  a model fails in a full build and is fixed: `ninja` vs `dbt retry`

In leaf, staging and recovery the worker is warm, as a user's next edit
finds it seconds after a build: before the edit (the fix), untimed, the
harness waits until `pa-gen worker status` no longer says "warming up"
(the zygote builds its warm-up while idle).
  failing   that failing full build itself, from nothing: `pa-gen && ninja
            -k 0` vs `dbt build --threads 4` (the nodes each runs are checked
            to be the same, from their run_results)

Each scenario's `ratio` is pa-gen's time divided by the other arm's
(`dbt build --threads 4` for cold). For every pa-gen arm that runs batches,
each batch's fixed cost is its wall time in .ninja_log minus the time its
nodes ran (the union of their compile and execute intervals in the batch's
run_results.json): what a batch costs beyond its SQL. The resident dbt
worker's start-up time (its import of dbt) and resident memory come from
its log and `pa-gen worker status`.

and, when bench/gen_manifest.py exists, generation: pa-gen's wall time and
peak RSS on synthetic manifests vs `dbt ls` on a generated project.

Where one dbt process per node would take hours (naive, --policy per-model),
only the first nodes in topological order run and the total is
extrapolated; the tables say so.

Wall time is measured around each command; peak RSS comes from
/usr/bin/time: that of the largest process of the command's tree.
Results: bench/results/latest.md and latest.json; every command's output:
bench/results/tmp/<case>/logs/.

    python3 bench/run.py [--quick | --smoke] [--reps N]
        [--cases chain-100,wide-500,chain-100-cost200ms,crosslinked-100-extras]
        [--scenarios failing,leaf]

--scenarios measures only those scenarios (the complete build's snapshots
are made only when one of them starts from one).

--smoke checks the harness in a few minutes (tiny cases, figures
meaningless) and writes bench/results/tmp/smoke.{md,json}, leaving
latest.* alone.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TMP = RESULTS / "tmp"
PAGEN = Path(os.environ.get("PA_GEN", ROOT / "build" / "pa-gen")).resolve()  # as bench/generation.sh
DBT = ROOT / ".venv" / "bin" / "dbt"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
GEN_PROJECT = ROOT / "bench" / "gen_project.py"
GEN_MANIFEST = ROOT / "bench" / "gen_manifest.py"
THREADS = 4
# Every dbt run of every arm, including the ones pa-gen starts.
ENV = {**os.environ, "DO_NOT_TRACK": "1", "PA_DBT": str(DBT)}


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- measuring

@dataclass
class Sample:
    wall: float                 # seconds
    rss_kb: int                 # peak RSS of the largest process
    results: int | None = None  # dbt node results (models, seeds, tests) it produced
    sampled: tuple | None = None  # (nodes run, nodes in the project) when extrapolated
    batches: dict | None = None   # batch -> (wall s, nodes' busy s): see batch_costs
    predicted: dict | None = None  # PostgreSQL cold arms: pa-gen explain's figures, see pg_cold_pagen
    statuses: dict | None = None  # unique_id -> status in run_results (failing scenario)


def timed(cmd, cwd, log, ok=(0,)):
    """Runs cmd in cwd with its output appended to log; returns a Sample.
    /usr/bin/time gives the peak RSS: measured from Python, a child's peak
    would include the Python process it was forked from (about 14 MB). The
    wall time includes starting /usr/bin/time, about a millisecond."""
    cmd = [str(c) for c in cmd]
    rss_file = Path(log).with_suffix(".rss")
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        start = time.perf_counter()
        code = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file, *cmd],
                              cwd=cwd, env=ENV, stdout=out, stderr=subprocess.STDOUT).returncode
        wall = time.perf_counter() - start
    if code not in ok:
        raise BenchError(f"`{' '.join(cmd)}` exited {code} in {cwd}; see {log}")
    # After a failure, time writes "Command exited with non-zero status N" first.
    return Sample(wall, int(rss_file.read_text().split()[-1]))


def dbt_results(project, since):
    """Node results of every run_results.json written since `since` (epoch
    s): the dbt arm's target/, and the batches' own target paths under .pa/run/."""
    files = [project / "target" / "run_results.json", *project.glob(".pa/run/*/target/run_results.json")]
    return sum(len(json.loads(f.read_text())["results"])
               for f in files if f.exists() and f.stat().st_mtime >= since)


def run_counted(cmd, project, log, ok=(0,)):
    """timed() plus the number of dbt node results the command produced."""
    since = time.time()
    sample = timed(cmd, project, log, ok)
    sample.results = dbt_results(project, since)
    return sample


def ninja_log_lines(project):
    log = project / ".ninja_log"
    return set(log.read_text().splitlines()) if log.exists() else set()


def busy_seconds(run_results):
    """How long the nodes of one dbt invocation ran: the union of each
    result's interval from its first timing start to its last timing end."""
    spans = []
    for r in json.loads(run_results.read_text()).get("results", []):
        times = [(t.get("started_at"), t.get("completed_at")) for t in r.get("timing", [])]
        times = [(datetime.fromisoformat(a.replace("Z", "+00:00")),
                  datetime.fromisoformat(b.replace("Z", "+00:00"))) for a, b in times if a and b]
        if times:
            spans.append((min(a for a, _ in times), max(b for _, b in times)))
    busy, end = 0.0, None
    for a, b in sorted(spans):
        if end is None or a > end:
            busy += (b - a).total_seconds()
            end = b
        elif b > end:
            busy += (b - end).total_seconds()
            end = b
    return busy


def batch_costs(project, before, since):
    """{batch: (wall s, nodes' busy s)} of the batches a ninja run ran dbt
    for: edges in .ninja_log that were not there `before`, whose
    run_results.json is newer than `since`. build.ninja's regeneration
    (pa-gen and its dbt parse) is under "(regenerate)" with no busy time."""
    costs = {}
    for line in ninja_log_lines(project) - before:
        parts = line.split("\t")
        if line.startswith("#") or len(parts) < 4:
            continue
        wall = (int(parts[1]) - int(parts[0])) / 1000
        output = parts[3]
        if output == "build.ninja":
            costs["(regenerate)"] = (wall, None)
        elif output.startswith(".pa/stamps/") and output.endswith(".stamp"):
            batch = output[len(".pa/stamps/"):-len(".stamp")]
            results = project / ".pa" / "run" / batch / "target" / "run_results.json"
            if results.exists() and results.stat().st_mtime >= since:
                costs[batch] = (wall, busy_seconds(results))
    return costs


def run_ninja(cmd, project, log, ok=(0,)):
    """run_counted() for a ninja command, with the batches' costs."""
    before, since = ninja_log_lines(project), time.time()
    sample = run_counted(cmd, project, log, ok)
    sample.batches = batch_costs(project, before, since)
    return sample


def worker_figures(project, log):
    """The resident worker's start-up (its import of dbt, from its log) and
    resident memory (`pa-gen worker status`), or {} when none runs."""
    out = subprocess.run([PAGEN, "--project-dir", project, "worker", "status"], cwd=project, env=ENV,
                         capture_output=True, text=True).stdout
    with open(log, "a") as f:
        f.write(f"\n$ pa-gen worker status\n{out}")
    figures = {}
    if m := re.search(r"rss (\d+) kB", out):
        figures["rss_mb"] = round(int(m.group(1)) / 1024, 1)
    for worker_log in sorted((project / ".pa" / "worker").glob("*.log")):
        if m := re.search(r"import ([\d.]+) s", worker_log.read_text()):
            figures["startup_s"] = float(m.group(1))
    return figures


def wait_until_warm(project, log, limit_s=60):
    """Until `pa-gen worker status` no longer says "warming up": the zygote
    builds its warm-up while idle, after it said ready (protocol.md,
    "Warm-up"), and a scenario named "worker warm" starts from the state a
    user's next edit finds seconds after a build. Untimed; gives up after
    `limit_s` and says so in the log."""
    deadline = time.time() + limit_s
    while time.time() < deadline:
        out = subprocess.run([PAGEN, "--project-dir", project, "worker", "status"], cwd=project,
                             env=ENV, capture_output=True, text=True).stdout
        if "warming up" not in out:
            return
        time.sleep(0.2)
    with open(log, "a") as f:
        f.write(f"\n# the worker was still warming up after {limit_s} s\n")


def stop_workers(project):
    subprocess.run([PAGEN, "--project-dir", project, "worker", "stop"], cwd=project, env=ENV,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def last_line_has(log, text):
    return text in Path(log).read_text().rstrip().splitlines()[-1]


# ---------------------------------------------------------------- projects

@dataclass
class Case:
    shape: str
    models: int
    cost_ms: int = 0
    extras: bool = False  # parentless tests, hooks, a local package (issue 14)
    postgres: bool = False  # on the run's throwaway PostgreSQL server (issue 15)

    @property
    def name(self):
        return (f"{self.shape}-{self.models}" + (f"-cost{self.cost_ms}ms" if self.cost_ms else "") +
                ("-extras" if self.extras else "") + ("-postgres" if self.postgres else ""))


# The resident worker's socket cannot be copied (and its temporary names
# come and go); a copy starts its own worker.
NOT_COPIED = shutil.ignore_patterns("*.sock", "*.sock.*.tmp")


@dataclass
class Workspace:
    """A case's generated project and its working copies, all under TMP.
    Working copies live at fixed paths: build.ninja and pa-gen's plan hold
    absolute paths, so a built project stays valid only where it was built,
    and is restored there (with its file times) from a snapshot."""
    case: Case
    rows_per_ms: int
    index: int                   # the case's number in this run
    root: Path = field(init=False)
    # Working copies live at a short path, TMP/w/<index>/<copy>: the
    # worker's socket is in .pa/worker only when its path fits in a socket
    # address (108 bytes); otherwise it is in /tmp/pa-gen-<uid>/, where
    # `pa-gen worker status` may not find it from the project.
    work: Path = field(init=False)
    meta: dict = field(init=False)
    worker: dict = field(default_factory=dict)  # see worker_figures

    def __post_init__(self):
        self.root = TMP / self.case.name
        (self.root / "logs").mkdir(parents=True)
        self.work = TMP / "w" / str(self.index)
        self.work.mkdir(parents=True)
        template = self.root / "template"
        subprocess.run([sys.executable, GEN_PROJECT, "--shape", self.case.shape,
                        "--models", str(self.case.models), "--out", template,
                        "--cost-ms", str(self.case.cost_ms), "--rows-per-ms", str(self.rows_per_ms),
                        "--threads", str(THREADS), *(["--extras"] if self.case.extras else []),
                        *(["--adapter", "postgres"] if self.case.postgres else [])],
                       check=True)
        self.meta = json.loads((template / "bench.json").read_text())
        if self.case.extras:
            # The local package: dbt deps links it without a network. The
            # link is made relative so that every copy uses its own.
            subprocess.run([DBT, "deps", "--profiles-dir", "."], cwd=template, env=ENV, check=True,
                           stdout=subprocess.DEVNULL)
            for link in (template / "dbt_packages").iterdir():
                if link.is_symlink():
                    target = Path(os.readlink(link))
                    link.unlink()
                    link.symlink_to(os.path.relpath(target, link.parent))

    def log(self, scenario, arm, rep):
        return self.root / "logs" / f"{scenario}-{arm}-{rep}.log"

    def fresh(self, name, source="template"):
        """A copy of `source` (the template or a snapshot) at work/<name>.
        copytree keeps file times, which Ninja's log compares against."""
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(self.root / source, path, symlinks=True, ignore=NOT_COPIED)
        if self.case.postgres:
            pg_copy_database(self, name, path, empty=source == "template")
        return path

    def snapshot(self, name):
        path = self.root / f"snap-{name}"
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(self.work / name, path, symlinks=True, ignore=NOT_COPIED)

    def replace(self, project, rel, old, new):
        """Edits one model file; the same edit in every arm."""
        path = project / rel
        text = path.read_text()
        if old not in text:
            raise BenchError(f"{path} does not contain {old!r}")
        path.write_text(text.replace(old, new))


def pagen_cmd(policy=None):
    """pa-gen with `policy`, or with no --policy: the adapter's default."""
    return [PAGEN, "--threads", THREADS, "--dbt", DBT, *(["--policy", policy] if policy else [])]


def dbt_cmd(*args):
    return [DBT, *args, "--profiles-dir", "."]


# ---------------------------------------------------------------- arms

# Each arm is a function (workspace, rep) -> Sample that starts from a fresh
# copy of the project; scenarios_for() names them.

def cold_naive(ws, rep, sample_size):
    """One dbt process per node, as orchestrators did before batching. It
    is `dbt build` rather than `dbt run`/`dbt seed` so that each node's test
    runs too, as in the other arms. At sizes where this takes hours, only
    the first sample_size nodes in topological order run and the total is
    extrapolated: the first process (full parse) plus the mean of the others
    (partial parse) for every remaining node."""
    project = ws.fresh("cold-naive")
    order = ws.meta["topological_order"]
    run = order[:sample_size]
    samples = [run_counted(dbt_cmd("build", "--select", node), project, ws.log("cold", "naive", rep))
               for node in run]
    rss = max(s.rss_kb for s in samples)
    results = sum(s.results for s in samples)
    if len(run) == len(order):
        return Sample(sum(s.wall for s in samples), rss, results)
    rest = statistics.mean(s.wall for s in samples[1:])
    return Sample(samples[0].wall + rest * (len(order) - 1), rss,
                  round(results * len(order) / len(run)), (len(run), len(order)))


def cold_dbt_build(ws, rep):
    project = ws.fresh("cold-dbt")
    return run_counted(dbt_cmd("build", "--threads", THREADS), project, ws.log("cold", "dbt_build", rep))


def cold_pagen(ws, rep, policy, sample_size=None):
    """pa-gen (which runs `dbt parse`) then ninja. With sample_size, ninja
    builds only the first nodes in topological order (their own targets;
    a prefix of a topological order needs nothing outside itself) and the
    ninja part is extrapolated linearly: per-model batches all cost one dbt
    process."""
    name = policy or "default"
    project = ws.fresh(f"cold-pagen-{name}")
    log = ws.log("cold", f"pagen_{name}", rep)
    gen = timed(pagen_cmd(policy), project, log)
    order = ws.meta["topological_order"]
    run = order[:sample_size] if sample_size else []
    build = run_ninja(["ninja", "-j", THREADS, *run], project, log)
    if not run or len(run) >= len(order):
        return Sample(gen.wall + build.wall, max(gen.rss_kb, build.rss_kb), build.results,
                      batches=build.batches)
    scale = len(order) / len(run)
    return Sample(gen.wall + build.wall * scale, max(gen.rss_kb, build.rss_kb),
                  round(build.results * scale), (len(run), len(order)), build.batches)


def build_snapshots(ws):
    """One complete build per tool, kept as snapshots that every incremental
    measurement starts from: pa-gen's (.pa/, stamps, .ninja_log) and dbt's
    (target/ and the manifest saved for --state)."""
    project = ws.fresh("pagen")
    timed(pagen_cmd(), project, ws.log("setup", "pagen", 0))
    timed(["ninja", "-j", THREADS], project, ws.log("setup", "pagen", 0))
    ws.worker = worker_figures(project, ws.log("setup", "pagen", 0))
    ws.snapshot("pagen")
    project = ws.fresh("dbt")
    timed(dbt_cmd("build", "--threads", THREADS), project, ws.log("setup", "dbt", 0))
    (project / "state").mkdir()
    shutil.copy(project / "target" / "manifest.json", project / "state" / "manifest.json")
    ws.snapshot("dbt")


def state_modified_cmd():
    return dbt_cmd("build", "--select", "state:modified+", "--state", "state", "--threads", THREADS)


def incremental_pagen(ws, rep, scenario, edit):
    """From the snapshot, with the resident worker warm as it is in an
    edit-build loop: an untimed `pa-gen` starts this copy's worker first.
    Nothing changed in the copy, so that pa-gen would not run dbt (and no
    worker would start) but for dbt_project.yml's touched mtime: the parse
    it then runs (dbt finds no change) goes through a new worker, which then
    holds that parse's manifest, as after the build before an edit."""
    project = ws.fresh("pagen", "snap-pagen")
    if edit:
        (project / "dbt_project.yml").touch()
        timed(pagen_cmd(), project, ws.log(scenario, "pagen", rep))
        wait_until_warm(project, ws.log(scenario, "pagen", rep))
        ws.replace(project, ws.meta[edit], ws.meta["version_text"], ws.meta["edit_text"])
    return run_ninja(["ninja", "-j", THREADS], project, ws.log(scenario, "pagen", rep))


def incremental_dbt(ws, rep, scenario, edit):
    project = ws.fresh("dbt", "snap-dbt")
    if edit:
        ws.replace(project, ws.meta[edit], ws.meta["version_text"], ws.meta["edit_text"])
    return run_counted(state_modified_cmd(), project, ws.log(scenario, "dbt_state", rep))


NOOP_RUNS = 10  # a no-op ninja takes milliseconds: one run says little


def noop_pagen(ws, rep):
    """Several runs per repetition, reported as their median; each must be a
    true no-op, or the figure would not be the one claimed."""
    project = ws.fresh("pagen", "snap-pagen")
    log = ws.log("noop", "pagen", rep)
    samples = []
    for _ in range(NOOP_RUNS):
        samples.append(run_counted(["ninja", "-j", THREADS], project, log))
        if not last_line_has(log, "no work to do"):
            raise BenchError(f"ninja after a complete build did work; see {log}")
    return Sample(statistics.median(s.wall for s in samples), max(s.rss_kb for s in samples),
                  max(s.results for s in samples))


def recovery_pagen(ws, rep):
    project = ws.fresh("recovery-pagen")
    log = ws.log("recovery", "pagen", rep)
    ws.replace(project, ws.meta["broken"], ws.meta["version_text"], ws.meta["break_text"])
    timed(pagen_cmd(), project, log)
    # -k 0: build every batch the failure does not block, as dbt build does.
    timed(["ninja", "-j", THREADS, "-k", "0"], project, log, ok=(1,))
    wait_until_warm(project, log)  # as while the user finds and fixes the model
    ws.replace(project, ws.meta["broken"], ws.meta["break_text"], ws.meta["version_text"])
    return run_ninja(["ninja", "-j", THREADS], project, log)


def recovery_dbt(ws, rep):
    project = ws.fresh("recovery-dbt")
    log = ws.log("recovery", "dbt_retry", rep)
    ws.replace(project, ws.meta["broken"], ws.meta["version_text"], ws.meta["break_text"])
    timed(dbt_cmd("build", "--threads", THREADS), project, log, ok=(1,))
    ws.replace(project, ws.meta["broken"], ws.meta["break_text"], ws.meta["version_text"])
    return run_counted(dbt_cmd("retry"), project, log)


def run_statuses(path):
    return {r["unique_id"]: r["status"] for r in json.loads(path.read_text())["results"]}


def failing_pagen(ws, rep):
    """The failing build of the recovery scenario, timed on its own: from
    the template with the model broken, `pa-gen` (its dbt parse included,
    as in the cold build) then `ninja -k 0`, which ends non-zero. Statuses
    from pa-gen's merged run_results.json (.pa/run_results.json)."""
    project = ws.fresh("failing-pagen")
    log = ws.log("failing", "pagen", rep)
    ws.replace(project, ws.meta["broken"], ws.meta["version_text"], ws.meta["break_text"])
    gen = timed(pagen_cmd(), project, log)
    build = run_ninja(["ninja", "-j", THREADS, "-k", "0"], project, log, ok=(1,))
    return Sample(gen.wall + build.wall, max(gen.rss_kb, build.rss_kb), build.results,
                  batches=build.batches, statuses=run_statuses(project / ".pa" / "run_results.json"))


def failing_dbt(ws, rep):
    project = ws.fresh("failing-dbt")
    log = ws.log("failing", "dbt_build", rep)
    ws.replace(project, ws.meta["broken"], ws.meta["version_text"], ws.meta["break_text"])
    sample = run_counted(dbt_cmd("build", "--threads", THREADS), project, log, ok=(1,))
    sample.statuses = run_statuses(project / "target" / "run_results.json")
    return sample


def failing_scenario():
    return Scenario("failing", "the failing full build (a model broken), from nothing", [
        Arm("pagen", f"`pa-gen --threads {THREADS} && ninja -j{THREADS} -k 0`", failing_pagen),
        Arm("dbt_build", f"`dbt build --threads {THREADS}`", failing_dbt)])


def failing_targets(sc):
    """The failing build no slower than dbt build, and running what it runs:
    every repetition's statuses, node for node, equal dbt's."""
    s = sc.get("failing")
    if s is None or s.skipped:
        return []
    ours, theirs = s.arms[0].samples, s.arms[1].samples
    same = all(a.statuses == b.statuses for a in ours for b in theirs)
    ran = lambda st: sum(1 for v in st.values() if v != "skipped")
    skipped = lambda st: sum(1 for v in st.values() if v == "skipped")
    st = theirs[0].statuses
    return [
        Target("failing_vs_dbt_build", "failing build no slower than `dbt build --threads 4`",
               s.ratio, f"{s.ratio:.2f}x the time of dbt build", s.ratio <= 1.0),
        Target("failing_same_nodes", "failing build runs, fails and skips the nodes `dbt build` does",
               1.0 if same else 0.0,
               f"{'same' if same else 'different'}: dbt ran {ran(st)}, skipped {skipped(st)}; "
               f"pa-gen ran {ran(ours[0].statuses)}, skipped {skipped(ours[0].statuses)}", same),
    ]


# ---------------------------------------------------------------- scenarios

@dataclass
class Arm:
    key: str
    label: str
    run: object                  # (ws, rep) -> Sample
    # A sampled arm runs once: its sample already repeats one dbt process per
    # node many times, and a repetition of it takes the longest of all.
    max_reps: int | None = None
    samples: list = field(default_factory=list)

    @property
    def median(self):
        return statistics.median(s.wall for s in self.samples)


@dataclass
class Scenario:
    key: str
    title: str
    arms: list                   # arms[0] is pa-gen's reference arm
    skipped: str | None = None
    versus: str | None = None    # the arm that `ratio` divides by; default arms[1]

    @property
    def ratio(self):
        """pa-gen's reference arm's time divided by the competing arm's."""
        other = next(a for a in self.arms if a.key == self.versus) if self.versus else self.arms[1]
        return self.arms[0].median / other.median


def scenarios_for(ws, cfg):
    sampled = len(ws.meta["topological_order"]) > cfg.sample
    sampled_reps = 1 if sampled else None
    inc = lambda key, edit: [
        Arm("pagen", "`ninja` (worker warm)", lambda ws, r: incremental_pagen(ws, r, key, edit)),
        Arm("dbt_state", "`dbt build --select state:modified+ --state <saved>`",
            lambda ws, r: incremental_dbt(ws, r, key, edit))]
    staging = Scenario("staging", f"one staging model edited ({ws.meta['staging_rebuilds']} nodes rebuild)",
                       inc("staging", "staging"))
    if ws.meta["staging"] is None:
        staging.skipped = "no staging model in this shape"
    return [
        Scenario("cold", "full cold build", [
            Arm("pagen_default", f"`pa-gen --threads {THREADS} && ninja -j{THREADS}` (default policy)",
                lambda ws, r: cold_pagen(ws, r, None)),
            Arm("pagen_folder", f"`pa-gen --threads {THREADS} --policy folder && ninja -j{THREADS}`",
                lambda ws, r: cold_pagen(ws, r, "folder")),
            Arm("pagen_auto", f"`pa-gen --threads {THREADS} --policy auto && ninja -j{THREADS}`",
                lambda ws, r: cold_pagen(ws, r, "auto")),
            Arm("pagen_per_model", f"`pa-gen --threads {THREADS} --policy per-model && ninja -j{THREADS}`",
                lambda ws, r: cold_pagen(ws, r, "per-model", cfg.sample if sampled else None),
                sampled_reps),
            Arm("dbt_build", f"`dbt build --threads {THREADS}`", cold_dbt_build),
            Arm("naive", "naive: `dbt build --select <node>` per node, topological order",
                lambda ws, r: cold_naive(ws, r, cfg.sample), sampled_reps),
        ], versus="dbt_build"),
        Scenario("noop", "no-op after a complete build", [
            Arm("pagen", f"`ninja` (median of {NOOP_RUNS} runs per repetition)", noop_pagen),
            Arm("dbt_state", "`dbt build --select state:modified+ --state <saved>`",
                lambda ws, r: incremental_dbt(ws, r, "noop", None))]),
        Scenario("leaf", "one leaf model edited", inc("leaf", "leaf")),
        staging,
        Scenario("recovery", "a model failed in a full build, then fixed", [
            Arm("pagen", "`ninja` (the failed build ran `ninja -k 0`)", recovery_pagen),
            Arm("dbt_retry", "`dbt retry`", recovery_dbt)]),
        failing_scenario(),
    ]


def measure(scenario, ws, reps, progress):
    """Alternates the arms, rotating which goes first, so that a slow spell
    of the shared machine does not fall on one arm only."""
    for rep in range(reps):
        k = rep % len(scenario.arms)
        for arm in scenario.arms[k:] + scenario.arms[:k]:
            if arm.max_reps is not None and rep >= arm.max_reps:
                continue
            sample = arm.run(ws, rep)
            arm.samples.append(sample)
            progress(f"{ws.case.name} {scenario.key} {arm.key} rep {rep + 1}/{reps}: "
                     f"{fmt_time(sample.wall)}")


# The scenarios that start from nothing; every other one starts from the
# snapshots of a complete build.
FROM_NOTHING = {"cold", "failing", "postgres.cold"}


def run_case(case, cfg, progress, index):
    ws = Workspace(case, cfg.rows_per_ms, index)
    scenarios = pg_scenarios(ws, cfg) if case.postgres else scenarios_for(ws, cfg)
    if cfg.scenarios is not None:
        scenarios = [s for s in scenarios if s.key in cfg.scenarios]
    if not all(s.key in FROM_NOTHING for s in scenarios):
        build_snapshots(ws)
    for scenario in scenarios:
        if not scenario.skipped:
            measure(scenario, ws, cfg.reps, progress)
    # The working copies' workers would otherwise idle on for minutes.
    for project in ws.work.iterdir():
        if (project / ".pa" / "worker").is_dir():
            stop_workers(project)
    return ws, scenarios


# ---------------------------------------------------------------- generation

@dataclass
class Generation:
    skipped: str | None = None
    manifests: list = field(default_factory=list)  # (nodes, manifest bytes, [Sample])
    dbt_ls: tuple | None = None                    # (models, [Sample])


def remove(path):
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def run_generation(cfg, progress):
    """pa-gen alone on manifests of cfg.gen_sizes models (no dbt runs: the
    manifest is given), against `dbt ls` (dbt's parse) on a generated
    project. pa-gen runs at least 5 times per size: each run takes a second
    at most, and one figure says little on a shared machine."""
    if not GEN_MANIFEST.exists():
        return Generation(skipped="skipped: bench/gen_manifest.py missing")
    gen = Generation()
    root = TMP / "generation"
    (root / "logs").mkdir(parents=True)
    for nodes in cfg.gen_sizes:
        out = root / f"manifest-{nodes}"
        subprocess.run([sys.executable, GEN_MANIFEST, "--models", str(nodes), "--out", out], check=True)
        manifest = out / "target" / "manifest.json"
        samples = []
        for rep in range(max(cfg.reps, 5)):
            # Each run generates from scratch, as the first pa-gen in a project does.
            for stale in ["build.ninja", ".pa-plan.json", ".pa"]:
                remove(out / stale)
            samples.append(timed([PAGEN, "--project-dir", out, "--manifest", manifest, "--dbt", "/bin/true"],
                                 out, root / "logs" / f"pagen-{nodes}.log"))
            progress(f"generation {nodes} models rep {rep + 1}: {fmt_time(samples[-1].wall)}")
        gen.manifests.append((nodes, manifest.stat().st_size, samples))
    project = TMP / "generation" / f"project-{cfg.ls_models}"
    subprocess.run([sys.executable, GEN_PROJECT, "--shape", "chain", "--models", str(cfg.ls_models),
                    "--out", project], check=True)
    samples = []
    for rep in range(cfg.reps):
        shutil.rmtree(project / "target", ignore_errors=True)  # no partial parse: a full parse each time
        samples.append(timed(dbt_cmd("ls"), project, root / "logs" / "dbt-ls.log"))
        progress(f"generation dbt ls {cfg.ls_models} models rep {rep + 1}: {fmt_time(samples[-1].wall)}")
    gen.dbt_ls = (cfg.ls_models, samples)
    return gen


# ---------------------------------------------------------------- targets

@dataclass
class Target:
    key: str
    text: str
    value: float | None   # the measured figure (None: not measured)
    shown: str            # the figure as people read it
    met: bool | None
    note: str = ""


def arm_of(scenarios, scenario, arm):
    s = next((s for s in scenarios if s.key == scenario), None)
    return None if s is None or s.skipped else next(a for a in s.arms if a.key == arm)


def case_targets(ws, scenarios):
    """The issue's targets that a case measures, from its medians (issue 11:
    leaf edit 3x and staging edit 2x faster than state:modified+, cold
    build no slower than dbt build, a batch's fixed cost at most 0.3 s at
    100 models and 1 s at 2,000; no-op in milliseconds). A scenario not
    measured (--scenarios) has no targets."""
    if ws.case.postgres:
        return pg_targets(ws, scenarios)
    models = ws.case.models
    sc = {s.key: s for s in scenarios}
    targets = []
    noop, noop_dbt = arm_of(scenarios, "noop", "pagen"), arm_of(scenarios, "noop", "dbt_state")
    if noop:
        targets += [
            Target("noop_ms", "no-op ≤ 50 ms (no dbt started)", noop.median * 1000,
                   fmt_time(noop.median), noop.median <= 0.050),
            Target("noop_vs_state", "no-op ≥ 100x faster than state:modified+",
                   noop_dbt.median / noop.median, f"{noop_dbt.median / noop.median:.0f}x",
                   noop_dbt.median / noop.median >= 100)]
    cold, naive = arm_of(scenarios, "cold", "pagen_default"), arm_of(scenarios, "cold", "naive")
    if cold:
        naive_note = (f"naive extrapolated from {naive.samples[0].sampled[0]} nodes"
                      if naive.samples[0].sampled else "")
        targets += [
            Target("cold_vs_dbt_build", "cold build (default policy) no slower than `dbt build --threads 4`",
                   sc["cold"].ratio, f"{sc['cold'].ratio:.2f}x the time of dbt build", sc["cold"].ratio <= 1.0),
            Target("cold_vs_naive", "cold build (default policy) ≥ 5x faster than naive per node",
                   naive.median / cold.median, f"{naive.median / cold.median:.1f}x",
                   naive.median / cold.median >= 5, naive_note)]
    if "leaf" in sc:
        targets.append(Target("leaf_vs_state", "leaf edit ≥ 3x faster than state:modified+", 1 / sc["leaf"].ratio,
                              f"{1 / sc['leaf'].ratio:.2f}x (dbt time / pa-gen time)", 1 / sc["leaf"].ratio >= 3))
    if "staging" in sc and not sc["staging"].skipped:
        targets.append(Target("staging_vs_state", "staging edit ≥ 2x faster than state:modified+",
                              1 / sc["staging"].ratio, f"{1 / sc['staging'].ratio:.2f}x (dbt time / pa-gen time)",
                              1 / sc["staging"].ratio >= 2))
    targets += failing_targets(sc)
    fixed = [f for _, _, f in batch_rows(cold)] if cold else []
    if fixed and models in (100, 2000):
        limit = 0.3 if models == 100 else 1.0
        worst = max(fixed)
        targets.append(Target("batch_fixed_s", f"a batch's fixed cost ≤ {limit:g} s at {models:,} models "
                              "(cold build, worst batch)", worst, fmt_time(worst), worst <= limit,
                              f"median {fmt_time(statistics.median(fixed))} over {len(fixed)} batches"))
    return targets


def generation_targets(gen):
    entry = next((m for m in gen.manifests if m[0] == 10_000), None)
    text = "generation from the 10,000-model manifest (20,000 tests, ~98 MB) ≤ 0.3 s"
    rss_text = "generation peak RSS ≤ 3x manifest size"
    if gen.skipped or entry is None:
        why = gen.skipped or "no 10,000-model manifest in this run"
        return [Target("gen_10k_s", text, None, "—", None, why),
                Target("gen_10k_rss_vs_manifest", rss_text, None, "—", None, why)]
    _, size, samples = entry
    wall = statistics.median(s.wall for s in samples)
    rss = max(s.rss_kb for s in samples) * 1024 / size
    return [Target("gen_10k_s", text, wall, fmt_time(wall), wall <= 0.3),
            Target("gen_10k_rss_vs_manifest", rss_text, rss,
                   f"{rss:.2f}x ({max(s.rss_kb for s in samples) / 1024:.0f} MB for {size / 1e6:.0f} MB)",
                   rss <= 3)]


def batch_rows(arm):
    """(batch, wall s, fixed s) of the batches an arm ran dbt for, each the
    median over its repetitions."""
    per_batch = {}
    for sample in arm.samples:
        for batch, (wall, busy) in (sample.batches or {}).items():
            if busy is not None:
                per_batch.setdefault(batch, []).append((wall, wall - busy))
    return [(b, statistics.median(w for w, _ in v), statistics.median(f for _, f in v))
            for b, v in sorted(per_batch.items())]


def regenerate_seconds(arm):
    walls = [s.batches["(regenerate)"][0] for s in arm.samples if s.batches and "(regenerate)" in s.batches]
    return statistics.median(walls) if walls else None


# ---------------------------------------------------------------- report

def fmt_time(s):
    if s < 1:
        return f"{s * 1000:.1f} ms"
    return f"{s:.2f} s" if s < 100 else f"{s:.0f} s"


def fmt_status(target):
    if target.met is None:
        return "not measured"
    return ("met" if target.met else "**missed**") + (f" ({target.note})" if target.note else "")


def load_average():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine():
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((l.split(":", 1)[1].strip() for l in cpuinfo.splitlines() if l.startswith("model name")), "?")
    mem_kb = int(next(l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines()
                      if l.startswith("MemTotal")))
    version = lambda cmd: subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    return {
        "cpu": model, "nproc": os.cpu_count(), "ram_gb": round(mem_kb / 2**20, 1),
        "kernel": platform.release(), "load_avg_at_start": load_average(),
        "ninja": version(["ninja", "--version"]),
        "dbt": "dbt-core " + next(l.split(":")[1].strip() for l in version([DBT, "--version"]).splitlines()
                                  if "installed" in l),
        "commit": version(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]),
    }


def case_rows(ws, scenarios):
    """Markdown rows: one per arm, with its time relative to pa-gen's reference arm."""
    rows = []
    for s in scenarios:
        if s.skipped:
            rows.append(f"| {s.title} | — | {s.skipped} | | | | |")
            continue
        ref = s.arms[0].median
        for arm in s.arms:
            first = arm.samples[0]
            median = fmt_time(arm.median)
            if first.sampled:
                median += f" (extrapolated from {first.sampled[0]} of {first.sampled[1]} nodes)"
            results = statistics.median(x.results for x in arm.samples)
            vs = "1 (reference)" if arm is s.arms[0] else f"{arm.median / ref:.2f}x"
            rows.append(f"| {s.title} | {arm.label} | {median} | "
                        f"{max(x.rss_kb for x in arm.samples) / 1024:.0f} MB | {results:g} | "
                        f"{len(arm.samples)} | {vs} |")
    return rows


def batch_table(ws, scenarios):
    """Markdown rows: every batch a pa-gen arm ran dbt for, its wall time
    and fixed cost (wall minus its nodes' execution)."""
    rows = []
    for s in scenarios:
        if s.skipped:
            continue
        for arm in s.arms:
            regen = regenerate_seconds(arm)
            if regen is not None:
                rows.append(f"| {s.key} | {arm.key} | (regenerate: pa-gen and its dbt parse) | "
                            f"{fmt_time(regen)} | |")
            for batch, wall, fixed in batch_rows(arm):
                rows.append(f"| {s.key} | {arm.key} | {batch} | {fmt_time(wall)} | {fmt_time(fixed)} |")
    return rows


def markdown(cfg, info, cases, gen, targets, total_wall):
    out = [f"# pa-gen benchmarks ({cfg.label})", "",
           f"`{cfg.command}`, {info['date']}, commit {info['commit']}, total wall time {fmt_time(total_wall)}.",
           f"Machine: {info['nproc']} cores, {info['cpu']}, {info['ram_gb']} GB RAM, Linux {info['kernel']}, "
           f"load average at start {info['load_avg_at_start']}, at the end {info['load_avg_at_end']} "
           f"(other work on the machine slows every arm); {info['dbt']}, ninja {info['ninja']}.",
           f"{cfg.reps} repetition(s) per arm (an arm extrapolated from a sample: one), arms alternating; "
           "times are medians; peak RSS is that of the largest process (dbt's, for every arm that runs dbt); "
           "ratio = pa-gen's time / the other arm's.", ""]
    if cfg.smoke:
        out += ["**Smoke run: tiny projects that check the harness; the figures mean nothing.**", ""]
    out += ["## Targets", "", "| case | target | measured | status |", "| --- | --- | --- | --- |"]
    out += [f"| {case} | {t.text} | {t.shown} | {fmt_status(t)} |" for case, t in targets]
    for ws, scenarios in cases:
        m = ws.meta
        cost = f", each model's query ~{ws.case.cost_ms} ms" if ws.case.cost_ms else ""
        extras = (f", {m['parentless_tests']} tests without parents, {m['hooks']} on-run-start hooks, "
                  "a local package") if m.get("extras") else ""
        out += ["", f"## {ws.case.name}: `{m['shape']}`, {m['models']} models, {m['seeds']} seed(s), "
                f"{m['tests']} tests{cost}{extras}", "",
                "| scenario | arm | median | peak RSS | dbt results | runs | time vs pa-gen |",
                "| --- | --- | --- | --- | --- | --- | --- |", *case_rows(ws, scenarios), "",
                "Ratios (pa-gen / other): " + ", ".join(
                    f"{s.key} {s.ratio:.3g}" for s in scenarios if not s.skipped) + "."]
        if ws.worker:
            out += ["", f"Resident dbt worker: start-up (import of dbt) "
                    f"{fmt_time(ws.worker['startup_s']) if 'startup_s' in ws.worker else '?'}, "
                    f"resident memory {ws.worker.get('rss_mb', '?')} MB."]
        out += pg_markdown(ws, scenarios)
        rows = batch_table(ws, scenarios)
        if rows:
            out += ["", "Batches (fixed cost = wall time in .ninja_log minus the nodes' execution in "
                    "run_results.json):", "", "| scenario | arm | batch | wall | fixed cost |",
                    "| --- | --- | --- | --- | --- |", *rows]
    out += ["", "## Generation", ""]
    if gen.skipped:
        out.append(gen.skipped)
    else:
        out += ["| what | median | peak RSS | manifest |", "| --- | --- | --- | --- |"]
        for models, size, samples in gen.manifests:
            out.append(f"| `pa-gen --manifest` on {models:,} models, {2 * models:,} tests | "
                       f"{fmt_time(statistics.median(s.wall for s in samples))} | "
                       f"{max(s.rss_kb for s in samples) / 1024:.0f} MB | {size / 1e6:.1f} MB |")
        models, samples = gen.dbt_ls
        out.append(f"| `dbt ls` on a {models:,}-model project (full parse) | "
                   f"{fmt_time(statistics.median(s.wall for s in samples))} | "
                   f"{max(s.rss_kb for s in samples) / 1024:.0f} MB | |")
    return "\n".join(out) + "\n"


def flat_json(cfg, info, cases, gen, targets, total_wall):
    """One key per figure."""
    d = {f"meta.{k}": v for k, v in info.items()}
    d.update({"meta.command": cfg.command, "meta.quick": cfg.quick, "meta.smoke": cfg.smoke,
              "meta.reps": cfg.reps, "meta.total_wall_s": round(total_wall, 1),
              "meta.rows_per_ms": cfg.rows_per_ms})
    for ws, scenarios in cases:
        for k, v in ws.worker.items():
            d[f"{ws.case.name}.worker.{k}"] = v
        d.update(pg_json(ws, scenarios))
        for s in scenarios:
            prefix = f"{ws.case.name}.{s.key}"
            if s.skipped:
                d[f"{prefix}.skipped"] = s.skipped
                continue
            d[f"{prefix}.ratio"] = round(s.ratio, 4)
            for arm in s.arms:
                walls = [x.wall for x in arm.samples]
                p = f"{prefix}.{arm.key}"
                d.update({f"{p}.median_s": round(arm.median, 4), f"{p}.min_s": round(min(walls), 4),
                          f"{p}.max_s": round(max(walls), 4), f"{p}.runs": len(walls),
                          f"{p}.peak_rss_mb": round(max(x.rss_kb for x in arm.samples) / 1024, 1),
                          f"{p}.dbt_results": statistics.median(x.results for x in arm.samples),
                          f"{p}.vs_pagen": round(arm.median / s.arms[0].median, 3)})
                if arm.samples[0].sampled:
                    d[f"{p}.extrapolated_from_nodes"] = arm.samples[0].sampled[0]
                if (regen := regenerate_seconds(arm)) is not None:
                    d[f"{p}.regenerate_s"] = round(regen, 3)
                rows = batch_rows(arm)
                for batch, wall, fixed in rows:
                    d[f"{p}.batch.{batch}.wall_s"] = round(wall, 3)
                    d[f"{p}.batch.{batch}.fixed_s"] = round(fixed, 3)
                if rows:
                    fixed = [f for _, _, f in rows]
                    d[f"{p}.batch_fixed_s.median"] = round(statistics.median(fixed), 3)
                    d[f"{p}.batch_fixed_s.max"] = round(max(fixed), 3)
                    d[f"{p}.batch_fixed_s.batches"] = len(fixed)
    if gen.skipped:
        d["generation.skipped"] = gen.skipped
    else:
        for models, size, samples in gen.manifests:
            p = f"generation.pagen_{models}_models"
            d[f"{p}.median_s"] = round(statistics.median(s.wall for s in samples), 4)
            d[f"{p}.peak_rss_mb"] = round(max(s.rss_kb for s in samples) / 1024, 1)
            d[f"{p}.manifest_mb"] = round(size / 1e6, 2)
            d[f"{p}.rss_vs_manifest"] = round(max(s.rss_kb for s in samples) * 1024 / size, 3)
        models, samples = gen.dbt_ls
        d[f"generation.dbt_ls_{models}.median_s"] = round(statistics.median(s.wall for s in samples), 3)
    for case, t in targets:
        d[f"target.{case}.{t.key}.value"] = None if t.value is None else round(t.value, 4)
        d[f"target.{case}.{t.key}.met"] = t.met
    return d


# ---------------------------------------------------------------- PostgreSQL
#
# A case with `postgres` (name ending in -postgres) runs against one
# throwaway server for the whole run, started with scripts/pg-server.sh (a
# Unix socket in a folder of its own, no TCP, never a system service) and
# stopped at the end, whatever ends the run. Each working copy builds into a
# database of its own, named after the copy, written into its profiles.yml;
# a copy of the template starts from an empty one, a copy of a snapshot
# finds the warehouse that snapshot's build left.
#
# The cold scenario puts `pa-gen --threads 4 && ninja -j4` (the default
# policy) beside `dbt build --threads 4` and, once each, a sweep: -j2, and
# each folder's batch cut in 2 and in 4 (--max-batch-size), at -j4 and -j2,
# whole folders (`--policy folder`) and `--policy auto`. Each pa-gen arm also records `pa-gen explain --json`'s
# predicted build: before the build (no history: the cost model's guesses)
# and after it (with the node times and start-up that build measured),
# against the ninja part it measured. Leaf edit and recovery are DuckDB's.

PG_SERVER = ROOT / "scripts" / "pg-server.sh"
PG_JOBS = (4, 2)


@dataclass
class PgServer:
    dir: Path
    env: dict   # PA_PG_* of the server


def pg_start(cfg, progress):
    if not any(c.postgres for c in cfg.cases):
        return None
    # /tmp rather than TMP: short enough for a socket path, and reachable by
    # the `postgres` user the server runs as when the harness runs as root.
    server_dir = Path("/tmp") / f"pa-bench-pg-{os.getpid()}"
    r = subprocess.run(["bash", PG_SERVER, "start", server_dir], capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError(f"scripts/pg-server.sh start {server_dir} exited {r.returncode}: "
                         f"{r.stderr.strip()}" + (" (scripts/setup.sh installs postgresql)"
                                                  if r.returncode == 3 else ""))
    env = dict(re.findall(r"(PA_PG_\w+)='([^']*)'", r.stdout))
    ENV.update(env)
    # Should this process die without its finally (kill -9), the server goes too.
    subprocess.Popen(["setsid", "sh", "-c", f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
                      f"bash '{PG_SERVER}' remove '{server_dir}'"],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # SIGTERM (a CI timeout) ends the run through main's finally.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    progress(f"PostgreSQL server in {server_dir}")
    return PgServer(server_dir, env)


def pg_stop(server):
    """Stops and removes the server; its log is kept in TMP."""
    if server is None:
        return
    log = server.dir / "server.log"
    if log.exists():
        TMP.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, TMP / "pg-server.log")
    subprocess.run(["bash", PG_SERVER, "remove", server.dir], stdout=subprocess.DEVNULL)


def pg_psql(sql, database="postgres"):
    cmd = [Path(ENV["PA_PG_BIN"]) / "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", ENV["PA_PG_HOST"],
           "-p", ENV["PA_PG_PORT"], "-U", ENV["PA_PG_USER"], "-d", database, "-c", sql]
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError(f"psql {sql!r}: {r.stderr.strip()}")
    return r.stdout


def pg_copy_database(ws, name, project, empty):
    """Points the copy's profile at its own database; empty: dropped and
    created again (a cold start, as a fresh DuckDB file)."""
    database = f"bench_{ws.index}_{re.sub(r'[^a-z0-9]', '_', name.lower())}"
    profile = project / "profiles.yml"
    text = re.sub(r'dbname: .*', f'dbname: "{database}"', profile.read_text())
    if text != profile.read_text():  # a snapshot's copy keeps its file time: no regeneration
        profile.write_text(text)
    if empty:
        pg_psql(f"drop database if exists {database} with (force)")
        pg_psql(f"create database {database}")


def pg_explain(cmd, project, log):
    """pa-gen explain --json for the build `cmd` generates: (predicted s,
    batches). explain is read-only, so it changes nothing the build does."""
    cmd = [str(c) for c in cmd]
    r = subprocess.run([*cmd, "explain", "--json"], cwd=project, env=ENV, capture_output=True, text=True)
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(map(str, cmd))} explain --json\n{r.stderr}")
    if r.returncode != 0:
        raise BenchError(f"pa-gen explain exited {r.returncode} in {project}; see {log}")
    doc = json.loads(r.stdout)
    return doc["predicted_seconds"], len(doc["batches"])


def pg_cold_pagen(ws, rep, key, jobs, extra=(), policy=None):
    """pa-gen --jobs J (what auto and explain predict for) then ninja -jJ,
    from an empty database; explain before and after, untimed."""
    project = ws.fresh(f"cold-{key}")
    log = ws.log("cold", key, rep)
    cmd = [*pagen_cmd(policy), "--jobs", jobs, *extra]
    gen = timed(cmd, project, log)
    predicted, batches = pg_explain(cmd, project, log)
    build = run_ninja(["ninja", "-j", jobs], project, log)
    with_history, _ = pg_explain(cmd, project, log)
    return Sample(gen.wall + build.wall, max(gen.rss_kb, build.rss_kb), build.results, batches=build.batches,
                  predicted={"predicted_s": predicted, "predicted_after_s": with_history,
                             "ninja_s": build.wall, "batches": batches, "jobs": jobs})


def pg_scenarios(ws, cfg):
    folder = -(-ws.case.models // 4)  # models in a layer's folder (layered, chain, crosslinked)
    arm = lambda key, label, jobs, extra=(), reps=None, policy=None: Arm(
        key, label, lambda ws, r: pg_cold_pagen(ws, r, key, jobs, extra, policy), reps)
    sweep = []
    for jobs in PG_JOBS:
        if jobs != THREADS:
            sweep.append(arm(f"pagen_default_j{jobs}", f"`pa-gen --threads {THREADS} && ninja -j{jobs}`", jobs,
                             reps=1))
        for parts in (2, 4):
            size = max(1, -(-folder // parts))
            sweep.append(arm(f"pagen_split{parts}_j{jobs}",
                             f"`pa-gen --threads {THREADS} --max-batch-size {size} && ninja -j{jobs}` "
                             f"(each folder in {parts})", jobs, ("--max-batch-size", size), 1))
    sweep.append(arm("pagen_folder", f"`pa-gen --threads {THREADS} --policy folder && ninja -j{THREADS}` "
                     "(whole folders)", THREADS, (), 1, "folder"))
    sweep.append(arm("pagen_auto", f"`pa-gen --threads {THREADS} --policy auto && ninja -j{THREADS}`",
                     THREADS, (), 1, "auto"))
    cold = Scenario("postgres.cold", "full cold build on PostgreSQL", [
        arm("pagen_default", f"`pa-gen --threads {THREADS} && ninja -j{THREADS}` (default policy)", THREADS),
        Arm("dbt_build", f"`dbt build --threads {THREADS}`", cold_dbt_build), *sweep], versus="dbt_build")
    others = {s.key: s for s in scenarios_for(ws, cfg)}
    for key in ("leaf", "recovery"):
        others[key].key = f"postgres.{key}"
        others[key].title += " (PostgreSQL)"
    return [cold, others["leaf"], others["recovery"]]


def pg_targets(ws, scenarios):
    """Issue 15: cold build at most 0.7x dbt build's time on a server;
    leaf edit as on DuckDB (3x faster than state:modified+)."""
    sc = {s.key: s for s in scenarios}
    cold, leaf = sc["postgres.cold"].ratio, 1 / sc["postgres.leaf"].ratio
    recovery = sc["postgres.recovery"].ratio
    return [
        Target("postgres_cold_vs_dbt_build", "PostgreSQL cold build (default policy, -j4) ≤ 0.7x "
               "`dbt build --threads 4`", cold, f"{cold:.2f}x the time of dbt build", cold <= 0.7),
        Target("postgres_leaf_vs_state", "PostgreSQL leaf edit ≥ 3x faster than state:modified+", leaf,
               f"{leaf:.2f}x (dbt time / pa-gen time)", leaf >= 3),
        Target("postgres_recovery_vs_retry", "PostgreSQL recovery no slower than `dbt retry`", recovery,
               f"{recovery:.2f}x the time of dbt retry", recovery <= 1),
    ]


def pg_predictions(scenarios):
    """(arm, [Sample.predicted]) of the PostgreSQL cold scenario's pa-gen arms."""
    cold = next((s for s in scenarios if s.key == "postgres.cold"), None)
    if cold is None:
        return []
    return [(arm, [x.predicted for x in arm.samples]) for arm in cold.arms
            if arm.samples and arm.samples[0].predicted]


def pg_markdown(ws, scenarios):
    rows = pg_predictions(scenarios)
    if not rows:
        return []
    med = lambda ps, k: statistics.median(p[k] for p in ps)
    out = ["", f"PostgreSQL (a throwaway server on this machine; each model's work is a "
           f"{ws.case.cost_ms} ms pg_sleep). Predicted (`pa-gen explain --json`) and measured ninja time "
           "of each pa-gen arm; \"after\" is explain run after the build, with the node times and dbt "
           "start-up it measured:", "",
           "| arm | batches | -j | predicted before | predicted after | ninja measured | total measured |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for arm, ps in rows:
        out.append(f"| {arm.key} | {ps[0]['batches']} | {ps[0]['jobs']} | {fmt_time(med(ps, 'predicted_s'))} | "
                   f"{fmt_time(med(ps, 'predicted_after_s'))} | {fmt_time(med(ps, 'ninja_s'))} | "
                   f"{fmt_time(arm.median)} |")
    return out


def pg_json(ws, scenarios):
    d = {}
    for arm, ps in pg_predictions(scenarios):
        p = f"{ws.case.name}.postgres.cold.{arm.key}"
        for k in ("predicted_s", "predicted_after_s", "ninja_s"):
            d[f"{p}.{k}"] = round(statistics.median(x[k] for x in ps), 3)
        d[f"{p}.batches"] = ps[0]["batches"]
        d[f"{p}.jobs"] = ps[0]["jobs"]
    return d


# ---------------------------------------------------------------- main

@dataclass
class Config:
    quick: bool
    smoke: bool
    command: str
    reps: int
    sample: int         # nodes that the naive and per-model cold builds run at most
    cases: list
    gen_sizes: list
    ls_models: int      # models of the project `dbt ls` parses
    rows_per_ms: int = 0
    scenarios: list | None = None  # keys to measure (--scenarios); None: all

    @property
    def label(self):
        return "SMOKE" if self.smoke else "QUICK" if self.quick else "full"


# gen_sizes: models of bench/gen_manifest.py's manifests (two tests each);
# 10,000 models make the 98 MB manifest of the generation target.
QUICK = dict(reps=1, sample=10, cases=[Case("chain", 100)], gen_sizes=[1_000, 10_000], ls_models=2_000)
FULL = dict(reps=3, sample=50,
            cases=[Case("chain", 100), Case("chain", 500), Case("chain", 2_000), Case("wide", 500),
                   Case("layered", 500), Case("diamond", 500), Case("chain", 100, cost_ms=200),
                   # issue 11's project with per-model work, and issue 14's shapes
                   Case("crosslinked", 500, cost_ms=50), Case("crosslinked", 120, extras=True),
                   # issue 15: the server path, where ninja runs batches side by side
                   Case("layered", 500, cost_ms=50, postgres=True)],
            gen_sizes=[1_000, 10_000, 30_000], ls_models=2_000)
# Checks the harness end to end in minutes; its figures mean nothing.
SMOKE = dict(reps=1, sample=3, cases=[Case("chain", 8), Case("crosslinked", 8, extras=True),
                                     Case("layered", 8, cost_ms=10, postgres=True)],
             gen_sizes=[200], ls_models=8)


# What the harness needs beyond `make build`: tool -> Debian package.
TOOLS = {"/usr/bin/time": "time", "ninja": "ninja-build", "git": "git"}


def check_prerequisites():
    """Installs missing tools with apt-get when root, as scripts/setup.sh
    does; otherwise names the command to run."""
    packages = [pkg for tool, pkg in TOOLS.items() if not shutil.which(tool)]
    if packages and os.geteuid() != 0:
        raise BenchError(f"missing tools; run: sudo apt-get install -y {' '.join(packages)}")
    if packages:
        print(f"bench: installing {' '.join(packages)}", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env)
    missing = [str(p) for p in (PAGEN, DBT, VENV_PYTHON) if not p.exists()]
    if missing:
        raise BenchError(f"missing {', '.join(missing)}: run `make build`")


def calibrate_rows_per_ms():
    """Rows of gen_project's cost query that one DuckDB thread sums per ms here."""
    code = ("import duckdb, time\n"
            # No progress bar: on a busy machine the query is slow enough to draw one.
            "con = duckdb.connect(config={'threads': 1})\n"
            "con.execute('set enable_progress_bar = false')\n"
            "q = 'select sum(hash(i)) from range(50000000) t(i)'\n"
            "con.execute(q).fetchall()\n"
            "t = time.perf_counter(); con.execute(q).fetchall()\n"
            "print(round(50000000 / (time.perf_counter() - t) / 1000))\n")
    out = subprocess.run([VENV_PYTHON, "-c", code], capture_output=True, text=True, check=True).stdout
    return int(out.split()[-1])


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the short suite (under 10 minutes)")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny cases that check the harness; results in bench/results/tmp/smoke.*")
    ap.add_argument("--reps", type=int, help="repetitions per arm")
    ap.add_argument("--cases", help="comma-separated shape-models[-costNms], e.g. chain-100,wide-500")
    ap.add_argument("--scenarios", help="comma-separated scenario keys to measure, e.g. failing,leaf "
                                        "(default: all)")
    args = ap.parse_args()
    cfg = Config(quick=args.quick, smoke=args.smoke,
                 command="make bench" + (" QUICK=1" if args.quick else ""),
                 **(SMOKE if args.smoke else QUICK if args.quick else FULL))
    if args.reps:
        cfg.reps = args.reps
    if args.cases:
        cfg.cases = [parse_case(c) for c in args.cases.split(",")]
    if args.scenarios:
        cfg.scenarios = args.scenarios.split(",")
    if args.reps or args.cases or args.smoke or args.scenarios:
        cfg.command = "python3 bench/run.py " + " ".join(sys.argv[1:])
    return cfg


def parse_case(text):
    """shape-models[-costNms][-extras][-postgres]"""
    shape, models, *rest = text.split("-")
    extras, postgres = "extras" in rest, "postgres" in rest
    cost = [r for r in rest if r not in ("extras", "postgres")]
    return Case(shape, int(models), int(cost[0].removeprefix("cost").removesuffix("ms")) if cost else 0,
                extras, postgres)


def main():
    cfg = parse_args()
    check_prerequisites()
    started = time.perf_counter()
    progress = lambda msg: print(f"[{time.perf_counter() - started:7.1f} s] {msg}", file=sys.stderr, flush=True)
    info = {**machine(), "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    shutil.rmtree(TMP, ignore_errors=True)
    cfg.rows_per_ms = calibrate_rows_per_ms()
    server = pg_start(cfg, progress)  # None unless a case runs on PostgreSQL
    try:
        cases = [run_case(case, cfg, progress, i) for i, case in enumerate(cfg.cases)]
    finally:
        pg_stop(server)
    gen = run_generation(cfg, progress)
    targets = [(ws.case.name, t) for ws, scenarios in cases for t in case_targets(ws, scenarios)]
    targets += [("generation", t) for t in generation_targets(gen)]
    total = time.perf_counter() - started
    info["load_avg_at_end"] = load_average()
    # A smoke run's figures mean nothing: they never replace latest.*.
    out = TMP / "smoke" if cfg.smoke else RESULTS / "latest"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(markdown(cfg, info, cases, gen, targets, total))
    out.with_suffix(".json").write_text(json.dumps(flat_json(cfg, info, cases, gen, targets, total), indent=1) + "\n")
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        sys.exit(f"bench: {e}")
