#!/usr/bin/env python3
"""One dbt request through pa-gen's real worker (gen/worker/pa_worker.py)
with and without its preloaded manifest, and as a fresh process.

    .venv/bin/python bench/preload_bench.py PROJECT SELECTOR [ROUNDS]

PROJECT is a dbt project whose profiles.yml is in it (bench/gen_project.py
makes them) and that has been built once. Two workers are started from
this source (one with PA_WORKER_NO_PRELOAD=1); each arm first runs the
parse pa-gen runs, then arms alternate a one-selector `dbt build` with the
argv pa-gen's batches use. Wall seconds are measured here; CPU seconds are
the dbt child's (wait4 in the worker, or here for the fresh process).
Also reported: a warm `dbt parse` after an edit, and how long the zygote
took to load the manifest that parse wrote.
"""
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import time

project, selector = os.path.abspath(sys.argv[1]), sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
here = os.path.dirname(os.path.abspath(__file__))
worker_py = os.path.join(here, "..", "gen", "worker", "pa_worker.py")
DBT = os.path.join(os.path.dirname(sys.executable), "dbt")
pa = os.path.join(project, ".pa")
msgpack = os.path.join(pa, "parse", "partial_parse.msgpack")
os.environ["DO_NOT_TRACK"] = "1"


def parse_argv():
    return [DBT, "parse", "--project-dir", project, "--profiles-dir", project,
            "--target-path", os.path.join(pa, "parse"), "--log-path", os.path.join(pa, "parse", "logs")]


def build_argv(run):
    return [DBT, "build", "--project-dir", project, "--profiles-dir", project, "--select", selector,
            "--indirect-selection", "cautious", "--target-path", run + "/target",
            "--log-path", run + "/logs", "--log-format-file", "json",
            "--partial-parse-file-path", msgpack,
            "--warn-error-options", '{"error":["NoNodesForSelectionCriteria"]}']


def send(sock, obj, fds=None):
    data = json.dumps(obj).encode()
    data = struct.pack(">I", len(data)) + data
    if fds:
        sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("3i", *fds))])
    else:
        sock.sendall(data)


def recv(sock):
    buf = b""
    while len(buf) < 4:
        chunk = sock.recv(4 - len(buf))
        if not chunk:
            return None
        buf += chunk
    (n,) = struct.unpack(">I", buf)
    body = b""
    while len(body) < n:
        body += sock.recv(n - len(body))
    return json.loads(body)


def ask(path, obj, fds=None):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    send(s, obj, fds)
    return s


def start_worker(name, extra_env):
    path = os.path.join("/tmp", "pa-preload-bench-%d-%s.sock" % (os.getpid(), name))
    log = open(os.path.join(pa, "bench-%s.log" % name), "w")
    env = dict(os.environ, **extra_env)
    env["PA_WORKER_CONFIG"] = json.dumps({"socket": path, "key": "bench", "idle": 900, "adapter": "duckdb"})
    t = time.time()
    proc = subprocess.Popen([sys.executable, worker_py], cwd=project, env=env, stdout=log, stderr=log)
    while not os.path.exists(path):
        time.sleep(0.05)
        assert proc.poll() is None, "worker %s died" % name
    return path, proc, time.time() - t


def via_worker(path, argv, out):
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    t = time.time()
    s = ask(path, {"v": 1, "op": "run", "key": "bench", "argv": argv, "cwd": project,
                   "env": ["%s=%s" % kv for kv in os.environ.items()]}, [0, fd, fd])
    os.close(fd)
    assert "pid" in recv(s)
    status = recv(s)
    wall = time.time() - t
    assert os.waitstatus_to_exitcode(status["status"]) == 0, open(out).read()[-2000:]
    return wall, status["cpu_seconds"]


def fresh(argv, out):
    with open(out, "w") as f:
        t = time.time()
        pid = subprocess.Popen(argv, cwd=project, stdout=f, stderr=f).pid
        _, status, ru = os.wait4(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, open(out).read()[-2000:]
    return time.time() - t, ru.ru_utime + ru.ru_stime


def preload_of(path):
    s = ask(path, {"v": 1, "op": "status"})
    return recv(s).get("preload")


workers = {"worker": start_worker("plain", {"PA_WORKER_NO_PRELOAD": "1"}),
           "worker+preload": start_worker("preload", {})}
print("worker start: " + ", ".join("%s %.2f s" % (k, w[2]) for k, w in workers.items()))
for name, (path, _, _) in workers.items():
    via_worker(path, parse_argv(), os.path.join(pa, "bench-parse.out"))
time.sleep(0.5)
print("preload after parse:", preload_of(workers["worker+preload"][0]))

arms = {"fresh": lambda out: fresh(build_argv(os.path.join(pa, "bench-fresh")), out)}
for name, (path, _, _) in workers.items():
    arms[name] = (lambda p, n: lambda out: via_worker(p, build_argv(os.path.join(pa, "bench-" + n)), out))(path, name)
res = {k: [] for k in arms}
for i in range(rounds):
    for name, run in arms.items():
        res[name].append(run(os.path.join(pa, "bench-%s.out" % name)))
print("load: %s" % open("/proc/loadavg").read().strip())
for name, xs in res.items():
    print("%-16s wall %.2f s  cpu %.2f s  (median of %d; walls %s; cpus %s)" % (
        name, statistics.median(w for w, _ in xs), statistics.median(c for _, c in xs), len(xs),
        " ".join("%.2f" % w for w, _ in xs), " ".join("%.2f" % c for _, c in xs)))
served = sum(1 for line in open(os.path.join(pa, "bench-preload.log"))
             if "served from the preloaded manifest" in line)
print("requests served from the preloaded manifest: %d" % served)

# An edit: touch a model (its content changes) and parse warm; the zygote
# then loads the new partial-parse file before it accepts the next request.
models = sorted(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(project, "models"))
                for f in fs if f.endswith(".sql"))
victim = models[-1]
original = open(victim).read()
try:
    for name, (path, _, _) in workers.items():
        with open(victim, "w") as f:
            f.write(original + "\n-- bench edit %s %f\n" % (name, time.time()))
        wall, cpu = via_worker(path, parse_argv(), os.path.join(pa, "bench-parse.out"))
        t = time.time()
        s = ask(path, {"v": 1, "op": "status"})  # answered after the reload
        p = recv(s).get("preload")
        print("%-16s warm parse after an edit: wall %.2f s cpu %.2f s; next request waited %.2f s%s"
              % (name, wall, cpu, time.time() - t,
                 "; zygote load %.2f s" % p["load_seconds"] if p else ""))
finally:
    with open(victim, "w") as f:
        f.write(original)
    for path, proc, _ in workers.values():
        recv(ask(path, {"v": 1, "op": "stop"}))
        proc.wait()
