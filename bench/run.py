#!/usr/bin/env python3
"""pa-gen's benchmark suite: `make bench` (full) or `make bench QUICK=1`.

For each case (a project from bench/gen_project.py of a shape and size) it
measures the competing ways of doing the same work, alternating between
them repetition after repetition, each from a fresh copy of the same
project and database state:

  cold      full build: naive `dbt build --select <node>` per node in
            topological order, `dbt build --threads 4`, `pa-gen && ninja -j4`
            with --policy folder (the default) and --policy per-model
  noop      after a complete build: `ninja` vs
            `dbt build --select state:modified+ --state <saved manifest>`
  leaf      one leaf model edited: the same pair
  middle    one staging model edited, its descendants must rebuild: same pair
  recovery  a model fails in a full build and is fixed: `ninja` vs `dbt retry`

and, when bench/gen_manifest.py exists, generation: pa-gen's wall time and
peak RSS on synthetic manifests vs `dbt ls` on a generated project.

Where one dbt process per node would take hours (naive, --policy per-model),
only the first nodes in topological order run and the total is
extrapolated; the tables say so.

Wall time is measured around each command; peak RSS comes from
/usr/bin/time: that of the largest process of the command's tree.
Results: bench/results/latest.md and latest.json; every command's output:
bench/results/tmp/<case>/logs/.

    python3 bench/run.py [--quick] [--reps N] [--cases chain-100,wide-500,chain-100-cost200ms]
"""

import argparse
import json
import os
import platform
import shutil
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
PAGEN = ROOT / "build" / "pa-gen"
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


def last_line_has(log, text):
    return text in Path(log).read_text().rstrip().splitlines()[-1]


# ---------------------------------------------------------------- projects

@dataclass
class Case:
    shape: str
    models: int
    cost_ms: int = 0

    @property
    def name(self):
        return f"{self.shape}-{self.models}" + (f"-cost{self.cost_ms}ms" if self.cost_ms else "")


@dataclass
class Workspace:
    """A case's generated project and its working copies, all under TMP.
    Working copies live at fixed paths: build.ninja and pa-gen's plan hold
    absolute paths, so a built project stays valid only where it was built,
    and is restored there (with its file times) from a snapshot."""
    case: Case
    rows_per_ms: int
    root: Path = field(init=False)
    meta: dict = field(init=False)

    def __post_init__(self):
        self.root = TMP / self.case.name
        (self.root / "logs").mkdir(parents=True)
        template = self.root / "template"
        subprocess.run([sys.executable, GEN_PROJECT, "--shape", self.case.shape,
                        "--models", str(self.case.models), "--out", template,
                        "--cost-ms", str(self.case.cost_ms), "--rows-per-ms", str(self.rows_per_ms),
                        "--threads", str(THREADS)], check=True)
        self.meta = json.loads((template / "bench.json").read_text())

    def log(self, scenario, arm, rep):
        return self.root / "logs" / f"{scenario}-{arm}-{rep}.log"

    def fresh(self, name, source="template"):
        """A copy of `source` (the template or a snapshot) at work/<name>.
        copytree keeps file times, which Ninja's log compares against."""
        path = self.root / "work" / name
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(self.root / source, path, symlinks=True)
        return path

    def snapshot(self, name):
        path = self.root / f"snap-{name}"
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(self.root / "work" / name, path, symlinks=True)

    def replace(self, project, rel, old, new):
        """Edits one model file; the same edit in every arm."""
        path = project / rel
        text = path.read_text()
        if old not in text:
            raise BenchError(f"{path} does not contain {old!r}")
        path.write_text(text.replace(old, new))


def pagen_cmd(policy="folder"):
    return [PAGEN, "--threads", THREADS, "--dbt", DBT, "--policy", policy]


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
    project = ws.fresh(f"cold-pagen-{policy}")
    log = ws.log("cold", f"pagen_{policy}", rep)
    gen = timed(pagen_cmd(policy), project, log)
    order = ws.meta["topological_order"]
    run = order[:sample_size] if sample_size else []
    build = run_counted(["ninja", "-j", THREADS, *run], project, log)
    if not run or len(run) >= len(order):
        return Sample(gen.wall + build.wall, max(gen.rss_kb, build.rss_kb), build.results)
    scale = len(order) / len(run)
    return Sample(gen.wall + build.wall * scale, max(gen.rss_kb, build.rss_kb),
                  round(build.results * scale), (len(run), len(order)))


def build_snapshots(ws):
    """One complete build per tool, kept as snapshots that every incremental
    measurement starts from: pa-gen's (.pa/, stamps, .ninja_log) and dbt's
    (target/ and the manifest saved for --state)."""
    project = ws.fresh("pagen")
    timed(pagen_cmd(), project, ws.log("setup", "pagen", 0))
    timed(["ninja", "-j", THREADS], project, ws.log("setup", "pagen", 0))
    ws.snapshot("pagen")
    project = ws.fresh("dbt")
    timed(dbt_cmd("build", "--threads", THREADS), project, ws.log("setup", "dbt", 0))
    (project / "state").mkdir()
    shutil.copy(project / "target" / "manifest.json", project / "state" / "manifest.json")
    ws.snapshot("dbt")


def state_modified_cmd():
    return dbt_cmd("build", "--select", "state:modified+", "--state", "state", "--threads", THREADS)


def incremental_pagen(ws, rep, scenario, edit):
    project = ws.fresh("pagen", "snap-pagen")
    if edit:
        ws.replace(project, ws.meta[edit], ws.meta["version_text"], ws.meta["edit_text"])
    return run_counted(["ninja", "-j", THREADS], project, ws.log(scenario, "pagen", rep))


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
    ws.replace(project, ws.meta["broken"], ws.meta["break_text"], ws.meta["version_text"])
    return run_counted(["ninja", "-j", THREADS], project, log)


def recovery_dbt(ws, rep):
    project = ws.fresh("recovery-dbt")
    log = ws.log("recovery", "dbt_retry", rep)
    ws.replace(project, ws.meta["broken"], ws.meta["version_text"], ws.meta["break_text"])
    timed(dbt_cmd("build", "--threads", THREADS), project, log, ok=(1,))
    ws.replace(project, ws.meta["broken"], ws.meta["break_text"], ws.meta["version_text"])
    return run_counted(dbt_cmd("retry"), project, log)


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


def scenarios_for(ws, cfg):
    sampled = len(ws.meta["topological_order"]) > cfg.sample
    sampled_reps = 1 if sampled else None
    inc = lambda key, edit: [
        Arm("pagen", "`ninja`", lambda ws, r: incremental_pagen(ws, r, key, edit)),
        Arm("dbt_state", "`dbt build --select state:modified+ --state <saved>`",
            lambda ws, r: incremental_dbt(ws, r, key, edit))]
    middle = Scenario("middle", "one model in the middle edited", inc("middle", "middle"))
    if ws.meta["middle"] is None:
        middle.skipped = "no model of this shape has both parents and children"
    return [
        Scenario("cold", "full cold build", [
            Arm("pagen_folder", f"`pa-gen --threads {THREADS} && ninja -j{THREADS}` (--policy folder)",
                lambda ws, r: cold_pagen(ws, r, "folder")),
            Arm("pagen_auto", f"`pa-gen --threads {THREADS} --policy auto && ninja -j{THREADS}`",
                lambda ws, r: cold_pagen(ws, r, "auto")),
            Arm("pagen_per_model", f"`pa-gen --threads {THREADS} --policy per-model && ninja -j{THREADS}`",
                lambda ws, r: cold_pagen(ws, r, "per-model", cfg.sample if sampled else None),
                sampled_reps),
            Arm("dbt_build", f"`dbt build --threads {THREADS}`", cold_dbt_build),
            Arm("naive", "naive: `dbt build --select <node>` per node, topological order",
                lambda ws, r: cold_naive(ws, r, cfg.sample), sampled_reps),
        ]),
        Scenario("noop", "no-op after a complete build", [
            Arm("pagen", f"`ninja` (median of {NOOP_RUNS} runs per repetition)", noop_pagen),
            Arm("dbt_state", "`dbt build --select state:modified+ --state <saved>`",
                lambda ws, r: incremental_dbt(ws, r, "noop", None))]),
        Scenario("leaf", "one leaf model edited", inc("leaf", "leaf")),
        middle,
        Scenario("recovery", "a model failed in a full build, then fixed", [
            Arm("pagen", "`ninja` (the failed build ran `ninja -k 0`)", recovery_pagen),
            Arm("dbt_retry", "`dbt retry`", recovery_dbt)]),
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


def run_case(case, cfg, progress):
    ws = Workspace(case, cfg.rows_per_ms)
    build_snapshots(ws)
    scenarios = scenarios_for(ws, cfg)
    for scenario in scenarios:
        if not scenario.skipped:
            measure(scenario, ws, cfg.reps, progress)
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
    """pa-gen alone on manifests of cfg.gen_sizes nodes (no dbt runs: the
    manifest is given), against `dbt ls` (dbt's parse) on a generated project."""
    if not GEN_MANIFEST.exists():
        return Generation(skipped="skipped: bench/gen_manifest.py missing")
    gen = Generation()
    root = TMP / "generation"
    (root / "logs").mkdir(parents=True)
    for nodes in cfg.gen_sizes:
        out = root / f"manifest-{nodes}"
        subprocess.run([sys.executable, GEN_MANIFEST, "--nodes", str(nodes), "--out", out], check=True)
        manifest = out / "target" / "manifest.json"
        samples = []
        for rep in range(cfg.reps):
            # Each run generates from scratch, as the first pa-gen in a project does.
            for stale in ["build.ninja", ".pa-plan.json", ".pa"]:
                remove(out / stale)
            samples.append(timed([PAGEN, "--project-dir", out, "--manifest", manifest, "--dbt", "/bin/true"],
                                 out, root / "logs" / f"pagen-{nodes}.log"))
            progress(f"generation {nodes} nodes rep {rep + 1}: {fmt_time(samples[-1].wall)}")
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
    s = next(s for s in scenarios if s.key == scenario)
    return None if s.skipped else next(a for a in s.arms if a.key == arm)


def case_targets(ws, scenarios):
    """The issue's targets that a case measures, from its medians."""
    models = ws.case.models
    at = "" if models == 2000 else f"measured at {models} models; the target is for 2,000"
    noop, noop_dbt = arm_of(scenarios, "noop", "pagen"), arm_of(scenarios, "noop", "dbt_state")
    cold, dbt, naive = (arm_of(scenarios, "cold", k) for k in ("pagen_folder", "dbt_build", "naive"))
    leaf, leaf_dbt = arm_of(scenarios, "leaf", "pagen"), arm_of(scenarios, "leaf", "dbt_state")
    ratio = lambda a, b: a.median / b.median
    naive_note = (f"naive extrapolated from {naive.samples[0].sampled[0]} nodes"
                  if naive.samples[0].sampled else "")
    return [
        Target("noop_ms", "no-op on 2,000 models ≤ 50 ms", noop.median * 1000,
               fmt_time(noop.median), noop.median <= 0.050, at),
        Target("noop_vs_state", "no-op ≥ 100x faster than state:modified+", ratio(noop_dbt, noop),
               f"{ratio(noop_dbt, noop):.0f}x", ratio(noop_dbt, noop) >= 100, at),
        Target("cold_vs_dbt_build", "cold build (default policy) within 5% of `dbt build --threads 4` or faster",
               ratio(cold, dbt), f"{ratio(cold, dbt):.2f}x the time of dbt build", ratio(cold, dbt) <= 1.05),
        Target("cold_vs_naive", "cold build (default policy) ≥ 5x faster than naive per node",
               ratio(naive, cold), f"{ratio(naive, cold):.1f}x", ratio(naive, cold) >= 5, naive_note),
        Target("leaf_vs_state", "leaf edit ≥ 3x faster than state:modified+", ratio(leaf_dbt, leaf),
               f"{ratio(leaf_dbt, leaf):.2f}x", ratio(leaf_dbt, leaf) >= 3),
    ]


def generation_targets(gen):
    entry = next((m for m in gen.manifests if m[0] == 10_000), None)
    if gen.skipped or entry is None:
        why = gen.skipped or "no 10,000-node manifest in this run"
        return [Target("gen_10k_s", "generation of 10,000 nodes ≤ 0.3 s", None, "—", None, why),
                Target("gen_10k_rss_vs_manifest", "generation peak RSS ≤ 3x manifest size",
                       None, "—", None, why)]
    _, size, samples = entry
    wall = statistics.median(s.wall for s in samples)
    rss = max(s.rss_kb for s in samples) * 1024 / size
    return [Target("gen_10k_s", "generation of 10,000 nodes ≤ 0.3 s", wall, fmt_time(wall), wall <= 0.3),
            Target("gen_10k_rss_vs_manifest", "generation peak RSS ≤ 3x manifest size", rss,
                   f"{rss:.2f}x ({max(s.rss_kb for s in samples) / 1024:.0f} MB for {size / 2**20:.0f} MB)",
                   rss <= 3)]


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


def markdown(cfg, info, cases, gen, reference, targets, total_wall):
    out = [f"# pa-gen benchmarks ({'QUICK' if cfg.quick else 'full'})", "",
           f"`{cfg.command}`, {info['date']}, commit {info['commit']}, total wall time {fmt_time(total_wall)}.",
           f"Machine: {info['nproc']} cores, {info['cpu']}, {info['ram_gb']} GB RAM, Linux {info['kernel']}, "
           f"load average at start {info['load_avg_at_start']}, at the end {info['load_avg_at_end']} "
           f"(other work on the machine slows every arm); {info['dbt']}, ninja {info['ninja']}.",
           f"{cfg.reps} repetition(s) per arm (an arm extrapolated from a sample: one), arms alternating; "
           "times are medians; peak RSS is that of the largest process (dbt's, for every arm that runs dbt).", "",
           "## Targets", "", f"Measured on {reference} (the largest plain `chain` case of this run) and on "
           "the 10,000-node manifest.", "",
           "| target | measured | status |", "| --- | --- | --- |"]
    out += [f"| {t.text} | {t.shown} | {fmt_status(t)} |" for t in targets]
    for ws, scenarios in cases:
        m = ws.meta
        cost = f", each model's query ~{ws.case.cost_ms} ms" if ws.case.cost_ms else ""
        out += ["", f"## {ws.case.name}: `{m['shape']}`, {m['models']} models, {m['seeds']} seed, "
                f"{m['tests']} tests{cost}", "",
                "| scenario | arm | median | peak RSS | dbt results | runs | time vs pa-gen |",
                "| --- | --- | --- | --- | --- | --- | --- |", *case_rows(ws, scenarios)]
    out += ["", "## Generation", ""]
    if gen.skipped:
        out.append(gen.skipped)
    else:
        out += ["| what | median | peak RSS | manifest |", "| --- | --- | --- | --- |"]
        for nodes, size, samples in gen.manifests:
            out.append(f"| `pa-gen --manifest` on {nodes:,} nodes | {fmt_time(statistics.median(s.wall for s in samples))} | "
                       f"{max(s.rss_kb for s in samples) / 1024:.0f} MB | {size / 2**20:.1f} MB |")
        models, samples = gen.dbt_ls
        out.append(f"| `dbt ls` on a {models:,}-model project (full parse) | "
                   f"{fmt_time(statistics.median(s.wall for s in samples))} | "
                   f"{max(s.rss_kb for s in samples) / 1024:.0f} MB | |")
    return "\n".join(out) + "\n"


def flat_json(cfg, info, cases, gen, targets, total_wall):
    """One key per figure."""
    d = {f"meta.{k}": v for k, v in info.items()}
    d.update({"meta.command": cfg.command, "meta.quick": cfg.quick, "meta.reps": cfg.reps,
              "meta.total_wall_s": round(total_wall, 1), "meta.rows_per_ms": cfg.rows_per_ms})
    for ws, scenarios in cases:
        for s in scenarios:
            prefix = f"{ws.case.name}.{s.key}"
            if s.skipped:
                d[f"{prefix}.skipped"] = s.skipped
                continue
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
    if gen.skipped:
        d["generation.skipped"] = gen.skipped
    else:
        for nodes, size, samples in gen.manifests:
            d[f"generation.pagen_{nodes}.median_s"] = round(statistics.median(s.wall for s in samples), 4)
            d[f"generation.pagen_{nodes}.peak_rss_mb"] = round(max(s.rss_kb for s in samples) / 1024, 1)
            d[f"generation.pagen_{nodes}.manifest_mb"] = round(size / 2**20, 2)
        models, samples = gen.dbt_ls
        d[f"generation.dbt_ls_{models}.median_s"] = round(statistics.median(s.wall for s in samples), 3)
    for t in targets:
        d[f"target.{t.key}.value"] = None if t.value is None else round(t.value, 4)
        d[f"target.{t.key}.met"] = t.met
    return d


# ---------------------------------------------------------------- main

@dataclass
class Config:
    quick: bool
    command: str
    reps: int
    sample: int         # nodes that the naive and per-model cold builds run at most
    cases: list
    gen_sizes: list
    ls_models: int
    rows_per_ms: int = 0


QUICK = dict(reps=1, sample=10, cases=[Case("chain", 100)], gen_sizes=[2_000, 10_000], ls_models=2_000)
FULL = dict(reps=3, sample=50,
            cases=[Case("chain", 100), Case("chain", 500), Case("chain", 2_000), Case("wide", 500),
                   Case("layered", 500), Case("diamond", 500), Case("chain", 100, cost_ms=200)],
            gen_sizes=[2_000, 10_000, 50_000], ls_models=2_000)


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
            "con = duckdb.connect(config={'threads': 1})\n"
            "q = 'select sum(hash(i)) from range(50000000) t(i)'\n"
            "con.execute(q).fetchall()\n"
            "t = time.perf_counter(); con.execute(q).fetchall()\n"
            "print(round(50000000 / (time.perf_counter() - t) / 1000))\n")
    return int(subprocess.run([VENV_PYTHON, "-c", code], capture_output=True, text=True, check=True).stdout)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the short suite (under 10 minutes)")
    ap.add_argument("--reps", type=int, help="repetitions per arm")
    ap.add_argument("--cases", help="comma-separated shape-models[-costNms], e.g. chain-100,wide-500")
    args = ap.parse_args()
    cfg = Config(quick=args.quick, command="make bench" + (" QUICK=1" if args.quick else ""),
                 **(QUICK if args.quick else FULL))
    if args.reps:
        cfg.reps = args.reps
    if args.cases:
        cfg.cases = [parse_case(c) for c in args.cases.split(",")]
    if args.reps or args.cases:
        cfg.command = "python3 bench/run.py " + " ".join(sys.argv[1:])
    return cfg


def parse_case(text):
    shape, models, *cost = text.split("-")
    return Case(shape, int(models), int(cost[0].removeprefix("cost").removesuffix("ms")) if cost else 0)


def main():
    cfg = parse_args()
    check_prerequisites()
    started = time.perf_counter()
    progress = lambda msg: print(f"[{time.perf_counter() - started:7.1f} s] {msg}", file=sys.stderr, flush=True)
    info = {**machine(), "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    shutil.rmtree(TMP, ignore_errors=True)
    cfg.rows_per_ms = calibrate_rows_per_ms()
    cases = [run_case(case, cfg, progress) for case in cfg.cases]
    gen = run_generation(cfg, progress)
    reference = max((c for c in cases if c[0].case.shape == "chain" and not c[0].case.cost_ms),
                    key=lambda c: c[0].case.models, default=cases[0])
    targets = case_targets(*reference) + generation_targets(gen)
    total = time.perf_counter() - started
    info["load_avg_at_end"] = load_average()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text(markdown(cfg, info, cases, gen, reference[0].case.name, targets, total))
    (RESULTS / "latest.json").write_text(json.dumps(flat_json(cfg, info, cases, gen, targets, total), indent=1) + "\n")
    print((RESULTS / "latest.md").read_text())


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        sys.exit(f"bench: {e}")
