#!/usr/bin/env python3
"""Where the CPU of a PostgreSQL cold build goes, and the bound it sets
(issue 15): for each arm, from an empty database on one throwaway server,

  client  the CPU of every process the arm started, dbt's and the worker's
          included: this process is a child subreaper (prctl), so the
          resident worker and its children, which leave the arm's process
          tree, are reaped here once `pa-gen worker stop` ends them, and
          getrusage(RUSAGE_CHILDREN) counts them;
  server  the PostgreSQL server's CPU: the postmaster's own and its reaped
          backends' (cutime/cstime in /proc/<postmaster>/stat) plus its
          live children's, before and after;
  batches pa-gen's per-batch wall (.ninja_log), the dbt CPU its state
          recorded per node, and each batch's fixed cost.

From those: the best a perfect schedule on the machine's cores could do,
(client + server CPU) / cores, beside the measured wall time. The pg_sleep
per model is wall time on a connection, not CPU.

    python3 bench/pg_cpu.py [--arms dbt,folder,auto,split2,split4] [--models 500] [--cost-ms 50]

Prints a table and writes bench/results/tmp/pg_cpu.json. Figures are one
repetition; on a shared machine compare CPU seconds, not wall time.
"""

import argparse
import ctypes
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as R  # noqa: E402  (the harness's paths, environment and server helpers)

TICK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    """(ppid, utime+stime, cutime+cstime) of pid in seconds, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    f = text[text.rindex(")") + 2:].split()
    return int(f[1]), (int(f[11]) + int(f[12])) / TICK, (int(f[13]) + int(f[14])) / TICK


def children_of(ppid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and (s := proc_stat(int(d))) and s[0] == ppid:
            out.append(int(d))
    return out


def server_cpu(server_dir):
    pm = int((server_dir / "data" / "postmaster.pid").read_text().split()[0])
    _, own, reaped = proc_stat(pm)
    live = sum(sum(proc_stat(c)[1:]) for c in children_of(pm) if proc_stat(c))
    return own + reaped + live, len(children_of(pm))


def client_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def reap_orphans(limit_s=30):
    """Waits until no process but the ones this script keeps has it as
    parent, reaping what the subreaper collected."""
    deadline = time.time() + limit_s
    while time.time() < deadline:
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            return
        if not children_of(os.getpid()):
            return
        time.sleep(0.2)
    print(f"warning: children left: {children_of(os.getpid())}", file=sys.stderr)


def batch_table(project):
    """batch -> {wall, nodes, cpu, busy} from .ninja_log and .pa/state."""
    rows = {}
    log = project / ".ninja_log"
    if not log.exists():
        return rows
    for line in log.read_text().splitlines()[1:]:
        start, end, _, out, _ = line.split("\t")
        if out.endswith(".stamp") or "/stamps/" in out:
            name = Path(out).stem
            rows[name] = {"start": int(start) / 1000, "end": int(end) / 1000,
                          "wall": (int(end) - int(start)) / 1000}
    for name, (wall, busy) in R.batch_costs(project, set(), 0).items():
        if busy is not None and name in rows:
            rows[name]["fixed_s"] = round(wall - busy, 2)
    for f in sorted((project / ".pa" / "state").glob("*.json")):
        nodes = json.loads(f.read_text())["nodes"]
        r = rows.setdefault(f.stem, {})
        r["nodes"] = len(nodes)
        r["node_s"] = round(sum(n.get("seconds", 0) for n in nodes.values()), 3)
        r["cpu_s"] = round(sum(n.get("cpu_seconds", 0) for n in nodes.values()), 3)
    return rows


def worker_requests(project):
    """(kind, wall s, CPU s) of each request the worker's children served,
    in the order they ended (the worker log's "build: status 0 after ...")."""
    import re
    out = []
    for log in sorted((project / ".pa" / "worker").glob("*.log")):
        for m in re.finditer(r"\]: (\w+): status (-?\d+) after ([\d.]+) s, ([\d.]+) CPU-s", log.read_text()):
            out.append((m.group(1), float(m.group(3)), float(m.group(4))))
        for m in re.finditer(r"import ([\d.]+) s", log.read_text()):
            out.append(("import", float(m.group(1)), None))
    return out


def arm_cmds(arm, folder_size):
    pagen = [str(R.PAGEN), "--threads", str(R.THREADS), "--dbt", str(R.DBT), "--jobs", str(R.THREADS)]
    if arm == "dbt":
        return [[str(R.DBT), "build", "--threads", str(R.THREADS), "--profiles-dir", "."]]
    if arm == "folder":
        gen = [*pagen, "--policy", "folder"]
    elif arm == "auto":
        gen = [*pagen, "--policy", "auto"]
    elif arm.startswith("split"):
        parts = int(arm[5:])
        gen = [*pagen, "--policy", "folder", "--max-batch-size", str(-(-folder_size // parts))]
    else:
        raise SystemExit(f"unknown arm {arm}")
    return [gen, ["ninja", "-j", str(R.THREADS)]]


def measure(ws, server, arm, folder_size, out):
    project = ws.fresh(f"cpu-{arm}")
    log = ws.log("cpu", arm, 0)
    reap_orphans()
    time.sleep(1)
    s0, c0, t0 = server_cpu(server.dir)[0], client_cpu(), time.time()
    walls = []
    for cmd in arm_cmds(arm, folder_size):
        t = time.time()
        with open(log, "a") as f:
            f.write(f"\n$ {' '.join(cmd)}\n")
            f.flush()
            r = subprocess.run(cmd, cwd=project, env=R.ENV, stdout=f, stderr=subprocess.STDOUT)
        walls.append(round(time.time() - t, 2))
        if r.returncode != 0:
            raise SystemExit(f"{cmd} exited {r.returncode}; see {log}")
    wall = time.time() - t0
    if arm != "dbt":
        R.stop_workers(project)
    reap_orphans()
    time.sleep(1)  # the backends' exit reaches the postmaster
    server = server_cpu(server.dir)[0] - s0
    client = client_cpu() - c0
    explain = None  # after the readings: its own CPU is not the build's
    if arm != "dbt":
        r = subprocess.run([*arm_cmds(arm, folder_size)[0], "explain", "--json"], cwd=project, env=R.ENV,
                           capture_output=True, text=True)
        if r.returncode == 0:
            explain = json.loads(r.stdout)
        R.stop_workers(project)
        reap_orphans()
    row = {"arm": arm, "wall_s": round(wall, 2), "steps_wall_s": walls, "client_cpu_s": round(client, 2),
           "server_cpu_s": round(server, 2), "total_cpu_s": round(client + server, 2),
           "cpu_bound_s": round((client + server) / os.cpu_count(), 2),
           "batches": batch_table(project) if arm != "dbt" else {},
           "worker_requests": worker_requests(project) if arm != "dbt" else [],
           "predicted_after_s": explain and explain.get("predicted_seconds"),
           "alternatives_after_s": explain and explain.get("alternatives"),
           "cost_model_after": explain and explain.get("cost_model"),
           "fixed_cost_s": (project / ".pa" / "dbt-fixed-cost").read_text().strip()
           if (project / ".pa" / "dbt-fixed-cost").exists() else None}
    reqs = row["worker_requests"]
    if reqs:
        # Batches and the server's work for them start after the parse (they
        # need its manifest): a second bound beside all the CPU over the cores.
        parse = sum(r[2] for r in reqs if r[0] == "parse")
        batches = sum(r[2] for r in reqs if r[0] == "build")
        cores = os.cpu_count()
        row["parse_cpu_s"], row["batches_cpu_s"] = round(parse, 2), round(batches, 2)
        row["bound_s"] = round(max((client + server) / cores, parse + (batches + server) / cores), 2)
    out.append(row)
    print(f"{arm:8} wall {row['wall_s']:6.1f} s ({walls})  client CPU {row['client_cpu_s']:6.1f} s  server CPU "
          f"{row['server_cpu_s']:5.1f} s  (total)/{os.cpu_count()} {row['cpu_bound_s']:5.1f} s  "
          f"bound {row.get('bound_s')}  predicted after {row['predicted_after_s']}  fixed {row['fixed_cost_s']}",
          flush=True)
    reqs = row["worker_requests"]
    if reqs:
        builds = [r for r in reqs if r[0] == "build"]
        print(f"    worker: {len(builds)} batch children, CPU {sum(r[2] for r in builds):.1f} s "
              f"(each {', '.join(f'{r[2]:.1f}' for r in builds)}); parse CPU "
              f"{sum(r[2] for r in reqs if r[0] == 'parse'):.1f} s; import {[r[1] for r in reqs if r[0] == 'import']}")
    for name, b in sorted(row["batches"].items(), key=lambda kv: kv[1].get("start", 0)):
        print(f"    {name:40} start {b.get('start', 0):6.1f} wall {b.get('wall', 0):5.1f} "
              f"fixed {b.get('fixed_s', 0):4.1f} nodes {b.get('nodes', 0):4} node_s {b.get('node_s', 0):6.1f} cpu_s {b.get('cpu_s', 0):5.1f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arms", default="dbt,folder,auto")
    ap.add_argument("--models", type=int, default=500)
    ap.add_argument("--cost-ms", type=int, default=50)
    args = ap.parse_args()
    case = R.Case("layered", args.models, cost_ms=args.cost_ms, postgres=True)
    shutil.rmtree(R.TMP / case.name, ignore_errors=True)
    shutil.rmtree(R.TMP / "w" / "9", ignore_errors=True)
    server_dir = Path("/tmp") / f"pa-pgcpu-{os.getpid()}"
    r = subprocess.run(["bash", R.PG_SERVER, "start", server_dir], capture_output=True, text=True, check=True)
    import re
    R.ENV.update(dict(re.findall(r"(PA_PG_\w+)='([^']*)'", r.stdout)))
    server = R.PgServer(server_dir, {})
    # After the server's start: its postmaster is not ours to reap.
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    out = []
    try:
        ws = R.Workspace(case, 1, 9)
        folder = -(-args.models // 4)
        for arm in args.arms.split(","):
            measure(ws, server, arm, folder, out)
    finally:
        subprocess.run(["bash", R.PG_SERVER, "remove", server_dir], stdout=subprocess.DEVNULL)
        (R.TMP / "pg_cpu.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
