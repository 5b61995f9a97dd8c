# pa-gen's resident dbt worker: a fork-server (zygote).
#
# Started by pa-gen (gen/worker/worker_client.cc) with the interpreter of the
# dbt it found; compiled into the pa-gen binary and written beside the socket.
# It imports dbt and the project's adapter once and never runs dbt itself:
# every request gets a child forked from this single-threaded process, and
# that child runs dbt's own command-line entry point in-process with the
# request's argv, cwd, environment and file descriptors, exactly as a fresh
# `dbt` process would. Copy-on-write keeps requests from seeing each other's
# state. See gen/worker/protocol.md for the messages.
import os
import sys

PROTOCOL = 1


def log(msg):
    sys.stderr.write("pa-worker[%d]: %s\n" % (os.getpid(), msg))
    sys.stderr.flush()


def read_config():
    # From the environment, not argv: the worker's command line (which its
    # dbt children share) names no project, so `ps` shows what it is.
    import json as _json

    opts = {"socket": None, "key": None, "idle": 600, "adapter": "", "ready_fd": None}
    opts.update(_json.loads(os.environ.pop("PA_WORKER_CONFIG", "{}")))
    opts["idle"] = float(opts["idle"])
    return opts


OPTS = read_config()
STARTED = __import__("time").time()

# ---- Imports, once. Nothing here may start a thread or open a database. ----
import json
import signal
import socket
import struct
import time
import gc
import atexit
import threading
import ctypes

_import_started = time.time()
import dbt.cli.main  # noqa: E402  (also runs load_dotenv from our cwd; children undo it)
import dbt.version  # noqa: E402

ADAPTER = OPTS["adapter"]
if ADAPTER:
    try:
        __import__("dbt.adapters." + ADAPTER)
    except Exception as e:  # only a warm-up: the child imports what it needs
        log("cannot preload adapter %s: %s" % (ADAPTER, e))
IMPORT_SECONDS = time.time() - _import_started

# The dbt installation this process imported: a request served after it was
# replaced on disk would run old code, so every request checks it.
INSTALL_FILES = [dbt.version.__file__, sys.executable]
if ADAPTER:
    try:
        INSTALL_FILES.append(sys.modules["dbt.adapters." + ADAPTER].__file__)
    except Exception:
        pass


def install_identity():
    out = []
    for f in INSTALL_FILES:
        try:
            st = os.stat(f)
            out.append((f, st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((f, None))
    return out


INSTALL = install_identity()
DBT_VERSION = str(dbt.version.__version__)
# The environment the zygote was started with: children replace it wholesale.
BASE_ENVIRON = dict(os.environ)


def thread_count():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


# ---- Messages: 4-byte big-endian length, then a JSON object. ----
def send_msg(sock, obj):
    data = json.dumps(obj).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)


def recv_exact(sock, n, fds=None):
    buf = b""
    while len(buf) < n:
        if fds is not None:
            chunk, anc, _flags, _addr = sock.recvmsg(n - len(buf), socket.CMSG_SPACE(16 * 4))
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.extend(struct.unpack("%di" % (len(data) // 4), data[: len(data) // 4 * 4]))
        else:
            chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def recv_msg(sock, fds=None):
    head = recv_exact(sock, 4, fds)
    if head is None:
        return None
    (n,) = struct.unpack(">I", head)
    if n > 64 * 1024 * 1024:
        return None
    body = recv_exact(sock, n, fds)
    return None if body is None else json.loads(body)


def peer_uid(sock):
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


# ---- The dbt child: one per request. ----
def run_dbt(req, fds):
    """Runs in the grandchild; never returns."""
    code = 2
    try:
        os.setpgid(0, 0)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        # What a fresh Python process starts with: SIGINT raises
        # KeyboardInterrupt, SIGPIPE is ignored, everything else default.
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        for sig in range(1, signal.NSIG):
            if sig in (signal.SIGKILL, signal.SIGSTOP):
                continue
            try:
                signal.signal(sig, signal.SIG_DFL)
            except (OSError, ValueError, RuntimeError):
                pass
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        for target, fd in zip((0, 1, 2), fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        if req.get("cwd"):
            os.chdir(req["cwd"])
        env = dict(kv.split("=", 1) for kv in req["env"] if "=" in kv)
        os.environ.clear()
        os.environ.update(env)
        argv = list(req["argv"])
        sys.argv = argv
        # A fresh dbt loads .env from its cwd when dbt.cli.main is imported.
        from dotenv import find_dotenv, load_dotenv

        load_dotenv(find_dotenv(usecwd=True), override=False)
        try:
            ret = dbt.cli.main.cli.main(args=argv[1:], prog_name=os.path.basename(argv[0]))
            code = 0 if ret is None else ret
        except SystemExit as e:
            # As Python maps sys.exit(): None 0, an int itself, anything else 1.
            if e.code is None:
                code = 0
            elif isinstance(e.code, int):
                code = e.code
            else:
                sys.stderr.write("%s\n" % (e.code,))
                code = 1
        except KeyboardInterrupt:
            code = 128 + signal.SIGINT
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        # What interpreter shutdown does: join threads, then atexit handlers
        # (dbt-duckdb closes its database there).
        try:
            threading._shutdown()
        except Exception:
            pass
        atexit._run_exitfuncs()
    except BaseException:
        try:
            import traceback

            traceback.print_exc()
        except BaseException:
            pass
        code = 2
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(code & 0xFF if isinstance(code, int) else 1)


def serve_connection(conn):
    """Runs in a handler child forked per connection; never returns."""
    try:
        conn.settimeout(30)
        fds = []
        req = recv_msg(conn, fds)
        if req is None or req.get("v") != PROTOCOL:
            send_msg(conn, {"error": "protocol"})
            os._exit(0)
        op = req.get("op")
        if op in ("hello", "status"):
            send_msg(conn, {"ok": True, "pid": os.getppid(), "key": OPTS["key"],
                            "dbt_version": DBT_VERSION, "python": sys.executable,
                            "started": STARTED, "import_seconds": IMPORT_SECONDS,
                            "idle_seconds": OPTS["idle"], "rss_kb": ZYGOTE_RSS_KB})
            os._exit(0)
        if op == "stop":
            send_msg(conn, {"ok": True})
            os.kill(os.getppid(), signal.SIGTERM)
            os._exit(0)
        if op != "run":
            send_msg(conn, {"error": "unknown op"})
            os._exit(0)
        if req.get("key") != OPTS["key"]:
            send_msg(conn, {"error": "key"})
            os._exit(0)
        if install_identity() != INSTALL:
            send_msg(conn, {"error": "stale-install"})
            os.kill(os.getppid(), signal.SIGTERM)
            os._exit(0)
        if len(fds) != 3:
            send_msg(conn, {"error": "fds"})
            os._exit(0)
        conn.settimeout(None)
        sys.stdout.flush()
        sys.stderr.flush()
        child = os.fork()
        if child == 0:
            conn.close()
            run_dbt(req, fds)
        for fd in fds:
            os.close(fd)
        send_msg(conn, {"pid": child})
        # Wait for the child, or for the client to go away (then the child goes too).
        import select

        pidfd = os.pidfd_open(child)
        while True:
            ready, _, _ = select.select([pidfd, conn], [], [])
            if conn in ready:
                try:
                    data = conn.recv(1)
                except OSError:
                    data = b""
                if not data:
                    try:
                        os.killpg(child, signal.SIGKILL)
                    except OSError:
                        pass
                    os.waitpid(child, 0)
                    os._exit(0)
            if pidfd in ready:
                _, status = os.waitpid(child, 0)
                try:
                    send_msg(conn, {"status": status})
                except OSError:
                    pass
                os._exit(0)
    except BaseException as e:
        try:
            log("request failed: %r" % (e,))
        except BaseException:
            pass
        os._exit(1)


ZYGOTE_RSS_KB = 0


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    global ZYGOTE_RSS_KB
    path = OPTS["socket"]
    threads = thread_count()
    if threads != 1:
        log("refusing to serve: %d threads after importing dbt (fork is unsafe)" % threads)
        sys.exit(3)
    # Bind a fresh name, then rename it over the old one: a client never sees
    # a missing socket, and a stale one is replaced atomically.
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    listener.bind(tmp)
    os.umask(old_umask)
    os.chmod(tmp, 0o600)
    listener.listen(64)
    os.rename(tmp, path)
    mine = os.stat(path).st_ino

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C in the terminal that started us
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    ZYGOTE_RSS_KB = rss_kb()
    gc.collect()
    gc.freeze()
    if OPTS["ready_fd"] is not None:
        fd = int(OPTS["ready_fd"])
        os.write(fd, b"ready\n")
        os.close(fd)
    log("serving %s (dbt %s, import %.2f s, rss %d kB)" % (path, DBT_VERSION, IMPORT_SECONDS, ZYGOTE_RSS_KB))
    import select

    handlers = set()
    last_active = time.time()
    while not stopping:
        try:
            ready, _, _ = select.select([listener], [], [], 1.0)
        except InterruptedError:
            ready = []
        while handlers:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                handlers.clear()
                break
            if pid == 0:
                break
            handlers.discard(pid)
        if handlers:
            last_active = time.time()
        try:
            if os.stat(path).st_ino != mine:
                log("socket replaced; exiting")
                return
        except OSError:
            log("socket removed; exiting")
            return
        if not ready:
            if time.time() - last_active > OPTS["idle"]:
                log("idle for %.0f s; exiting" % OPTS["idle"])
                break
            continue
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            continue
        last_active = time.time()
        if peer_uid(conn) != os.getuid():
            conn.close()
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            listener.close()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            serve_connection(conn)
        handlers.add(pid)
        conn.close()
    try:
        if os.stat(path).st_ino == mine:
            os.unlink(path)
    except OSError:
        pass


main()
