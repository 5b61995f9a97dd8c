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
import select
import signal
import socket
import struct
import time
import types
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
# What loading and serving a preloaded manifest needs (never parses).
try:
    import hashlib
    import dbt.compilation
    import dbt.flags
    import dbt.parser.manifest
    import dbt.parser.read_files
    import dbt.task.runnable
    from dbt.constants import DEFAULT_ENV_PLACEHOLDER
    from dbt.contracts.graph.manifest import Manifest
    from dbt_common.clients.system import load_file_contents
    from dbt.artifacts.resources.base import FileHash

    PRELOAD_AVAILABLE = True
except Exception as e:  # another dbt: no preload, requests still run
    log("no preloaded manifests: %r" % (e,))
    PRELOAD_AVAILABLE = False
# PA_WORKER_NO_PRELOAD=1: never preload (to measure, or to rule it out).
if os.environ.get("PA_WORKER_NO_PRELOAD", "") not in ("", "0"):
    PRELOAD_AVAILABLE = False
IMPORT_SECONDS = time.time() - _import_started


# ---- Warm-up: per-process work every dbt child would otherwise repeat. ----
# Each item fills a cache of pure functions or imports a module that every
# `dbt build` imports anyway, so a child computes exactly what a fresh
# process computes, only not again. Nothing here runs dbt, opens a database
# or starts a thread (main() checks `Threads: 1` after it).
# - Modules that `dbt build` imports after the CLI starts (the tasks and
#   runners, the adapter's local environment, agate's helpers, ...).
# - The JSON schemas dbt validates the project, profile, selectors, package
#   files and test results against: `dbtClassMixin.json_schema` is an
#   lru_cache of mashumaro's schema builder, which also compiles the
#   serialisers it uses on the way.
# - `inspect.getmodule`'s file-to-module caches: BehaviorFlag calls
#   `inspect.stack()` for every adapter behavior flag, which otherwise maps
#   the file of every loaded module with realpath().
WARM_MODULES = ("dbt.task.build", "dbt.parser.sql", "dbt.runners", "dbt.adapters.__about__",
                "dbt_common.clients.agate_helper", "babel.dates", "daff", "_strptime",
                "multiprocessing.dummy", "resource",
                # imported lazily by json_format's first map-entry check (each
                # child's first JSON log line), and by a parse's OSI document
                "google.protobuf.descriptor_pb2", "metricflow.converters.msi_to_osi")
WARM_SCHEMAS = (("dbt.contracts.project", "ProjectFlags"), ("dbt.contracts.project", "ProfileConfig"),
                ("dbt.contracts.project", "Project"), ("dbt.contracts.project", "PackageConfig"),
                ("dbt.contracts.project", "Configuration"), ("dbt.contracts.selection", "SelectorFile"),
                ("dbt.task.test", "TestResultData"))


# - mashumaro's serialisers: dbt's dataclasses compile their to_dict/from_dict
#   lazily, on first use, in every process. Compiled here with the arguments
#   mashumaro's own lazy stub passes: to_dict of every node, resource, result
#   and adapter contract class (the batch logs and writes them), from_dict of
#   the config classes every invocation reads.
WARM_PACK_MODULES = ("dbt.contracts.graph.nodes", "dbt.artifacts.resources.", "dbt.artifacts.schemas.results",
                     "dbt.artifacts.schemas.run.", "dbt.adapters.contracts.", "dbt_common.helper_types",
                     "dbt.contracts.project", "dbt.contracts.selection")
WARM_UNPACK = (("dbt.contracts.project", "ProjectFlags"), ("dbt.contracts.project", "Project"),
               ("dbt.contracts.project", "PackageConfig"), ("dbt.contracts.selection", "SelectorFile"),
               ("dbt.task.test", "TestResultData"), ("dbt.adapters.contracts.relation", "Path"),
               ("dbt.adapters.contracts.relation", "Policy"))


def lazily_compiled(cls, name):
    f = cls.__dict__.get(name)
    code = getattr(getattr(f, "__func__", f), "__code__", None)
    return code is not None and "CodeBuilder" in code.co_names


def compile_serialisers(unpack_classes):
    """Yields after each class (a step of the warm-up, see warm_some)."""
    from mashumaro.core.meta.code.builder import CodeBuilder
    from mashumaro.mixins.dict import DataClassDictMixin

    classes, todo = [], [DataClassDictMixin]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in classes:
                classes.append(sub)
                todo.append(sub)
    for cls in classes:
        try:
            if cls.__module__.startswith(WARM_PACK_MODULES) and lazily_compiled(cls, "__mashumaro_to_dict__"):
                CodeBuilder(cls, allow_postponed_evaluation=False, format_name="dict", encoder=None,
                            encoder_kwargs={}, default_dialect=None).add_pack_method()
                yield
        except Exception:
            pass  # stays lazy
    for cls in unpack_classes:
        try:
            if lazily_compiled(cls, "__mashumaro_from_dict__"):
                CodeBuilder(cls, allow_postponed_evaluation=False, format_name="dict", decoder=None,
                            default_dialect=None).add_unpack_method()
            if lazily_compiled(cls, "__mashumaro_to_dict__"):
                CodeBuilder(cls, allow_postponed_evaluation=False, format_name="dict", encoder=None,
                            encoder_kwargs={}, default_dialect=None).add_pack_method()
        except Exception:
            pass
        yield


def warm_up_known():
    """The known warm-up, as a generator: each step (an import, a schema, a
    class's codec) leaves the process consistent, so the zygote may fork
    between any two (see warm_some)."""
    import importlib
    import inspect

    names = list(WARM_MODULES)
    if ADAPTER:
        names += ["dbt.adapters.%s.__version__" % ADAPTER, "dbt.adapters.%s.environments.local" % ADAPTER]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:
            pass  # another dbt or adapter: the child imports what it needs
        yield
    classes = []
    for module, name in WARM_SCHEMAS:
        try:
            classes.append(getattr(importlib.import_module(module), name))
        except Exception:
            pass
    if ADAPTER:
        try:
            classes.append(sys.modules["dbt.adapters." + ADAPTER].Plugin.credentials)
        except Exception:
            pass
    for cls in classes:
        try:
            cls.json_schema()
            KNOWN_SCHEMA_CLASSES.append(cls)
        except Exception as e:
            log("warm-up: no schema for %s: %r" % (cls.__name__, e))
        yield
    unpack = []
    for module, name in WARM_UNPACK:
        try:
            unpack.append(getattr(importlib.import_module(module), name))
        except Exception:
            pass
    if ADAPTER:
        try:
            plugin = sys.modules["dbt.adapters." + ADAPTER].Plugin
            unpack += [plugin.credentials, plugin.adapter.Relation]
        except Exception:
            pass
    yield from compile_serialisers(unpack)
    inspect.getmodule(sys._getframe())
    yield
    yield from build_jinja_trees()


KNOWN_SCHEMA_CLASSES = []  # whose schema the known warm-up built (for the schemas file)

# PA_WORKER_NO_WARMUP=1: neither the known warm-up nor the learned one below.
WARMUP_ENABLED = os.environ.get("PA_WORKER_NO_WARMUP", "") in ("", "0")
# The known warm-up is not done before the worker says it is ready: it runs
# while the zygote has nothing else to do (warm_some), which on a cold build
# is while the first parse runs in its child.
KNOWN_STEPS = warm_up_known() if WARMUP_ENABLED else None

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


# ---- The preloaded manifest (issue 11 item 3). ----
# The zygote loads the partial-parse file a parse wrote (never the compiled
# manifest.json, never by parsing) so that children skip dbt's two costly
# steps before any node runs: decoding that file and reading and hashing
# every project file. Both shortcuts hand dbt exactly what it would have
# computed itself, and only when that is certain:
# - read_manifest_for_partial_parse gets the preloaded object only when the
#   file it would read is the one loaded (same path, inode, size, mtime and
#   ctime as when its bytes were hashed) and dbt's own is_partial_parsable
#   conditions hold (dbt version, vars/profile/target hash, profile hash,
#   env vars of dbt_project.yml, every project's hash); otherwise dbt reads
#   the file itself, as a fresh process does.
# - ReadFilesFromFileSystem.read_files returns the saved files unread only
#   when nothing dbt would read has changed since the load: every file of the
#   manifest has the stat it had when the load checked it against the
#   manifest (dbt's mtime, and the checksum for all but schema files, as
#   dbt's partial parse does), no folder dbt searches gained or lost an
#   entry, the config files named below are as they were, and every env var
#   the manifest records has its value. Otherwise dbt reads the files and
#   partially parses as usual (still correct, just slower).
PRELOAD = None  # dict, see load_preload
REFUSED = None  # (path, stat) of the last file that could not be preloaded
LOG_FD = None  # the worker's log, for children's one-line markers
CONFIG_FILES = ("dbt_project.yml", "packages.yml", "dependencies.yml", "package-lock.yml",
                "selectors.yml", "catalogs.yml", ".dbtignore", "profiles.yml", ".env", ".user.yml")
RESOURCE_DIRS = ("models", "seeds", "data", "macros", "snapshots", "tests", "analyses",
                 "analysis", "docs", "functions", "osi", "OSI")


def file_ident(st):
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def stat_or_none(path):
    try:
        return file_ident(os.stat(path))
    except OSError:
        return None


def walk_dirs(root, out):
    """Records the stat of root and of every folder below it (None: absent)."""
    out[root] = stat_or_none(root)
    if out[root] is None:
        return
    for dirpath, dirnames, _files in os.walk(root, followlinks=True):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            out[p] = stat_or_none(p)


def file_matches_manifest(sf, st):
    """Whether the file on disk is what the parse read, by dbt's own rules:
    the checksum of its normalised contents (seeds: of the file), except a
    schema file whose mtime is the one dbt recorded (dbt trusts that)."""
    from dbt.contracts.files import ParseFileType

    same_mtime = st.st_mtime == sf.path.modification_time
    if sf.checksum.name != "sha256":
        return same_mtime  # a big seed: dbt hashes its path; we ask for more
    if sf.parse_file_type == ParseFileType.Schema and same_mtime:
        return True
    path = sf.path.absolute_path
    if sf.parse_file_type == ParseFileType.Seed:
        return FileHash.from_path(path).checksum == sf.checksum.checksum
    contents = load_file_contents(path, strip=True)
    normalized = dbt.parser.read_files.normalize_file_contents(contents)
    return FileHash.from_contents(normalized).checksum == sf.checksum.checksum


# PA_WORKER_DBT_DECODE=1: every load decodes the whole file (dbt's own
# Manifest.from_msgpack on dbt's own unpacking, to compare).
REUSE_DECODED = os.environ.get("PA_WORKER_DBT_DECODE", "") in ("", "0")
# PA_WORKER_CHECK_DECODE=1: after a load that reused members, decode the
# whole file too and log whether both manifests are the same (for the tests).
CHECK_DECODE = os.environ.get("PA_WORKER_CHECK_DECODE", "") not in ("", "0")
# The Manifest collections whose members are dataclasses decoded each from
# its own value alone (mashumaro decodes a mapping value by value).
DECODED_MEMBERS = ("nodes", "sources", "macros", "docs", "exposures", "functions", "metrics",
                   "groups", "files", "semantic_models", "unit_tests", "saved_queries", "fixtures")
LAST_DECODE = None  # {"manifest", "members": {collection: {key: bytes}}}: the last decode


def msgpack_map_at(data, pos):
    """Whether the msgpack object starting at data[pos] is a map."""
    b = data[pos]
    return 0x80 <= b <= 0x8F or b in (0xDE, 0xDF)


def field_bytes(data):
    """The bytes of each top-level field's value of a partial-parse file, in
    its order, and of each member's value in the DECODED_MEMBERS collections
    ({field: bytes}, {collection: {key: bytes}}; a collection that is not a
    map is a field), found by skipping through it (no decoding)."""
    import msgpack

    u = msgpack.Unpacker(None, raw=False, ext_hook=dbt.parser.manifest.extended_msgpack_decoder,
                         max_buffer_size=len(data) + 1)
    u.feed(data)
    fields, members = {}, {}
    for _ in range(u.read_map_header()):
        name = u.unpack()
        start = u.tell()
        if not isinstance(name, str):
            raise ValueError("a field name that is not a string")
        if name not in DECODED_MEMBERS or not msgpack_map_at(data, start):
            u.skip()
            fields[name] = data[start:u.tell()]
            members.pop(name, None)
            continue
        raw = {}
        for _ in range(u.read_map_header()):
            key = u.unpack()
            start = u.tell()
            u.skip()
            if not isinstance(key, str):
                raise ValueError("%s has a key that is not a string" % name)
            raw[key] = data[start:u.tell()]  # a repeated key: its last value, in its first place
        members[name] = raw
        fields[name] = None  # its place
    if u.tell() != len(data):
        raise ValueError("%d bytes after the manifest" % (len(data) - u.tell()))
    return fields, members


def decode_manifest(data):
    """In the zygote: the Manifest dbt's Manifest.from_msgpack(data, decoder=
    extended_mashumuro_decoder) returns, decoding only what changed since the
    last decode. After an edit, a partial parse rewrites the whole file, but
    almost every node, macro and file in it is byte for byte what it was;
    decoding them (mashumaro building the dataclasses) was most of a load
    (about 1 CPU-s at 4,001 nodes). A member whose value has the same bytes
    under the same key in the same collection as in the last decode is that
    decode's object: decoding is a function of the bytes alone (msgpack has
    no back references, mashumaro decodes a mapping value by value), the
    zygote never mutates a preloaded manifest and its children mutate their
    own copies. The rest (the changed members and every other field) is
    unpacked with dbt's decoder and decoded by dbt's own from_msgpack; the
    collections are then put back in the file's order and the flat graph is
    rebuilt over them. With no last decode, dbt's from_msgpack decodes it
    all. Returns (manifest, members reused)."""
    global LAST_DECODE
    unpack = dbt.parser.manifest.extended_mashumuro_decoder
    previous, LAST_DECODE = LAST_DECODE, None
    if not REUSE_DECODED:
        return Manifest.from_msgpack(data, decoder=unpack), 0
    try:
        fields, members = field_bytes(data)
    except ValueError:  # not what dbt writes: dbt's decoder says what is wrong
        return Manifest.from_msgpack(data, decoder=unpack), 0
    if previous is None:
        manifest = Manifest.from_msgpack(data, decoder=unpack)
        LAST_DECODE = {"manifest": manifest, "members": members}
        return manifest, 0
    top = {}  # what unpack(data) returns, but members reused are left out
    keep = {}  # collection -> {key: the last decode's object}
    for name, b in fields.items():
        if name not in members:
            top[name] = unpack(b)
            continue
        old_bytes = previous["members"].get(name, {})
        old_objs = getattr(previous["manifest"], name)
        keep[name] = {k: old_objs[k] for k, b in members[name].items()
                      if old_bytes.get(k) == b and k in old_objs}
        top[name] = {k: unpack(b) for k, b in members[name].items() if k not in keep[name]}
    del previous
    manifest = Manifest.from_msgpack(data, decoder=lambda _data: top)
    reused = 0
    for name, raw in members.items():
        decoded, kept = getattr(manifest, name), keep[name]
        ordered = {k: kept[k] if k in kept else decoded[k] for k in raw}
        decoded.clear()
        decoded.update(ordered)
        reused += len(kept)
    manifest.build_flat_graph()  # over the whole collections (from_msgpack built it over the decoded ones)
    LAST_DECODE = {"manifest": manifest, "members": members}
    if CHECK_DECODE and reused:
        same = same_manifest(manifest, Manifest.from_msgpack(data, decoder=unpack))
        log("decode: %s a whole decode" % ("equal to" if same else "DIFFERENT from"))
    return manifest, reused


def same_manifest(a, b):
    """For PA_WORKER_CHECK_DECODE: the same serialisation, and in every
    collection the same keys in the same order, members of the same classes
    with the same attributes."""
    encode = dbt.parser.manifest.extended_mashumaro_encoder
    if a.to_msgpack(encode) != b.to_msgpack(encode):
        return False
    for name in DECODED_MEMBERS:
        x, y = getattr(a, name), getattr(b, name)
        if list(x) != list(y):
            return False
        for k in x:
            if type(x[k]) is not type(y[k]) or sorted(vars(x[k])) != sorted(vars(y[k])):
                return False
    return sorted(a.flat_graph) == sorted(b.flat_graph)


def load_preload(path):
    """In the zygote: loads `path` (a partial_parse.msgpack) or drops the preload."""
    global PRELOAD, REFUSED, ZYGOTE_RSS_KB, GC_PENDING
    started, cpu_started = time.time(), time.process_time()
    REFUSED = (os.path.realpath(path), stat_or_none(path))
    old, PRELOAD = PRELOAD, None
    del old
    # The old manifest's cycles are freed later, when the worker is idle
    # (collect_when_idle): a full collection walks every object dbt's
    # imports made, which took most of a reload, with the next batch waiting.
    GC_PENDING = True
    try:
        path = os.path.realpath(path)
        before = os.stat(path)
        with open(path, "rb") as f:
            data = f.read()
        after = os.stat(path)
        if file_ident(before) != file_ident(after) or len(data) != after.st_size:
            log("preload: %s changed while read; not preloaded" % path)
            return
        manifest, reused = decode_manifest(data)
        if manifest.metadata.dbt_version != DBT_VERSION:
            log("preload: %s is from dbt %s; not preloaded" % (path, manifest.metadata.dbt_version))
            return
        files = {}
        roots_by_project = set()  # (project name, its folder) as the files record them
        searched = set()
        project_roots = set()
        for sf in manifest.files.values():
            p = sf.path.absolute_path
            before = os.stat(p)
            if not file_matches_manifest(sf, before) or file_ident(os.stat(p)) != file_ident(before):
                log("preload: %s changed since the parse; not preloaded" % p)
                return
            files[p] = file_ident(before)
            searched.add(os.path.realpath(os.path.join(sf.path.project_root, sf.path.searched_path)))
            project_roots.add(os.path.realpath(sf.path.project_root))
            roots_by_project.add((sf.project_name, os.path.realpath(sf.path.project_root)))
        # The folders dbt searches (each file's, and the usual names, absent
        # ones too), never the project root itself: a database file there
        # changes it on every run. The child checks that every folder the
        # projects' configs name is among them.
        dirs = {}
        configs = {}
        for root in sorted(project_roots):
            searched.update(os.path.realpath(os.path.join(root, d)) for d in RESOURCE_DIRS)
            for name in CONFIG_FILES:
                configs[os.path.join(root, name)] = stat_or_none(os.path.join(root, name))
        for r in sorted(searched):
            if r not in dirs:
                walk_dirs(r, dirs)
        # from_msgpack has built the flat graph (Manifest.__post_deserialize__)
        # and made the manifest's multiprocessing Lock, which starts
        # multiprocessing's resource tracker: a process (not a thread), our
        # child, which the dbt children then share instead of each starting one.
        PRELOAD = {
            "path": path, "ident": file_ident(after), "sha256": hashlib.sha256(data).hexdigest(),
            "manifest": manifest, "files": files, "dirs": dirs, "configs": configs,
            "roots": sorted(roots_by_project),
            "env_vars": dict(manifest.env_vars), "nodes": len(manifest.nodes),
            "loaded_at": time.time(), "load_seconds": time.time() - started,
        }
        PRELOAD["prelinked"] = prelink(manifest)
        queue_macro_templates(m.macro_sql for _, m in sorted(manifest.macros.items()))
        REFUSED = None
        ZYGOTE_RSS_KB = rss_kb()
        log("preload: loaded %s (%d nodes, %d files, %d members reused, %.2f s, %.2f CPU-s)"
            % (path, len(manifest.nodes), len(files), reused, PRELOAD["load_seconds"],
               time.process_time() - cpu_started))
    except Exception as e:
        PRELOAD = None
        log("preload: cannot load %s: %r" % (path, e))
    finally:
        gc.freeze()


GC_PENDING = False  # garbage (an old manifest) may sit among frozen objects
GC_IDLE_SECONDS = 2.0


def collect_when_idle(idle_for, handlers):
    """In the zygote, between requests: the full collection load_preload
    left, once nothing is in flight and nothing came for GC_IDLE_SECONDS."""
    global GC_PENDING, ZYGOTE_RSS_KB
    if not GC_PENDING or handlers or idle_for < GC_IDLE_SECONDS:
        return
    GC_PENDING = False
    started = time.time()
    gc.unfreeze()
    n = gc.collect()
    gc.freeze()
    ZYGOTE_RSS_KB = rss_kb()
    log("gc: %d objects collected while idle (%.2f s, rss %d kB)" % (n, time.time() - started, ZYGOTE_RSS_KB))


def marker(msg):
    if LOG_FD is not None:
        try:
            os.write(LOG_FD, ("pa-worker[%d]: %s\n" % (os.getpid(), msg)).encode())
        except OSError:
            pass


def preload_unchanged(all_projects):
    """In the child: whether nothing dbt would read differs from the load."""
    p = PRELOAD
    # The files are where the manifest says only if every project is still
    # where it was: a partial parse keeps the folder of a copied or moved
    # project in every file it did not reread (dbt compares by relative path).
    for name, root in p["roots"]:
        project = all_projects.get(name)
        if project is None or os.path.realpath(project.project_root) != root:
            return "project %s is not at %s any more" % (name, root)
    for path, ident in p["files"].items():
        if stat_or_none(path) != ident:
            return "%s changed" % path
    for path, ident in p["dirs"].items():
        if stat_or_none(path) != ident:
            return "folder %s changed" % path
    for path, ident in p["configs"].items():
        if stat_or_none(path) != ident:
            return "%s changed" % path
    for name, value in p["env_vars"].items():
        now = os.environ.get(name)
        if (now is not None) if value == DEFAULT_ENV_PLACEHOLDER else (now != value):
            return "env var %s changed" % name
    # Every folder dbt searches now was searched at load time (or is absent).
    for project in all_projects.values():
        root = os.path.realpath(project.project_root)
        searched = list(project.osi_paths)
        for info in dbt.parser.read_files.get_file_types_for_project(project).values():
            searched.extend(info["paths"])
        for s in searched:
            d = os.path.realpath(os.path.join(root, s))
            if d not in p["dirs"] and os.path.exists(d):
                return "folder %s not known at load" % d
        for name in CONFIG_FILES:
            if os.path.join(root, name) not in p["configs"]:
                return "project %s not known at load" % root
    return None


def install_preload(argv):
    """In the child, before dbt runs: the two shortcuts above, and for a
    `build` no artifacts pa-gen never reads (manifest.json and graph.gpickle
    in the batch's target path; run_results.json is still written by dbt)."""
    if PRELOAD is None:
        return
    ML = dbt.parser.manifest.ManifestLoader
    RF = dbt.parser.read_files.ReadFilesFromFileSystem
    orig_read_manifest = ML.read_manifest_for_partial_parse
    orig_read_files = RF.read_files
    orig_safe_update = ML.safe_update_project_parser_files_partially
    state = {"all_projects": None, "faked": False}

    def read_manifest_for_partial_parse(self):
        flags = dbt.flags.get_flags()
        m = PRELOAD["manifest"]
        if getattr(flags, "USE_V2_PARSER", False) or not flags.PARTIAL_PARSE:
            return orig_read_manifest(self)
        path = flags.PARTIAL_PARSE_FILE_PATH or os.path.join(
            self.root_project.project_target_path, dbt.parser.manifest.PARTIAL_PARSE_FILE_NAME)
        why = None
        if os.path.realpath(path) != PRELOAD["path"]:
            why = "another partial-parse file (%s)" % path
        elif stat_or_none(PRELOAD["path"]) != PRELOAD["ident"]:
            why = "%s changed since it was loaded" % path
        else:
            new, old = self.manifest.state_check, m.state_check
            if (new.vars_hash != old.vars_hash or new.profile_hash != old.profile_hash
                    or new.project_env_vars_hash != old.project_env_vars_hash
                    or any(old.project_hashes.get(k) != v for k, v in new.project_hashes.items())):
                why = "vars, profile, target or a project config differ from the parse"
        if why:
            marker("preload: not used for %s: %s" % (argv[1], why))
            return orig_read_manifest(self)
        m.metadata.generated_at = datetime_now()
        m.metadata.invocation_id = dbt_invocation_id()
        state["all_projects"] = self.all_projects
        return m

    def read_files(self):
        if self.saved_files is PRELOAD["manifest"].files and state["all_projects"] is not None:
            why = preload_unchanged(state["all_projects"])
            if why is None:
                self.files = self.saved_files
                self.project_parser_files = {}
                state["faked"] = True
                return
            marker("preload: files not reused for %s: %s" % (argv[1], why))
        return orig_read_files(self)

    def safe_update(self, project_parser_files):
        if state["faked"]:
            from dbt.parser.partial import PartialParsing

            if not PartialParsing(self.saved_manifest, self.manifest.files).skip_parsing():
                # Not expected (preload_unchanged checks what dbt checks); read for real.
                marker("preload: dbt sees changes; files read after all")
                state["faked"] = False
                self.manifest.files = {}
                reader = RF(all_projects=self.all_projects, files=self.manifest.files,
                            saved_files=self.saved_manifest.files)
                orig_read_files(reader)
                self.manifest.files = reader.files
                project_parser_files = reader.project_parser_files
            else:
                marker("preload: %s served from the preloaded manifest %s (sha256 %s)"
                       % (argv[1], PRELOAD["path"], PRELOAD["sha256"][:16]))
        return orig_safe_update(self, project_parser_files)

    ML.read_manifest_for_partial_parse = read_manifest_for_partial_parse
    RF.read_files = read_files
    ML.safe_update_project_parser_files_partially = safe_update
    if argv[1:2] == ["build"]:
        dbt.task.runnable.write_manifest = lambda *a, **k: None
        dbt.parser.manifest.write_manifest = lambda *a, **k: None
        dbt.compilation.Compiler.write_graph_file = lambda *a, **k: None


def install_early_load(req):
    """In a `parse` child: once dbt has written the partial-parse file pa-gen
    asked for, the zygote is told to load it at once, while dbt goes on to
    write manifest.json and exits; the handler tells it again after the exit
    (then nothing is loaded twice: same path, same stat). The zygote loads
    and checks the file as always, so a file written by a parse that fails
    later is only what a fresh dbt would read from disk."""
    pp = partial_parse_file(req)
    ML = getattr(dbt.parser.manifest, "ManifestLoader", None)
    if not pp or ML is None or not hasattr(ML, "write_manifest_for_partial_parse"):
        return
    orig = ML.write_manifest_for_partial_parse
    wanted = os.path.realpath(pp)

    def write_manifest_for_partial_parse(self):
        orig(self)
        written = os.path.join(self.root_project.project_target_path, dbt.parser.manifest.PARTIAL_PARSE_FILE_NAME)
        if os.path.realpath(written) == wanted and REPORT_FD is not None:
            notify_zygote(wanted, True, REPORT_FD)

    ML.write_manifest_for_partial_parse = write_manifest_for_partial_parse


# PA_WORKER_NO_EARLY_LOAD=1: load a parse's file only after the parse exits.
EARLY_LOAD = os.environ.get("PA_WORKER_NO_EARLY_LOAD", "") in ("", "0")
# PA_WORKER_DBT_GRAPH_SUMMARY=1: dbt's own get_graph_summary (to compare).
CHEAP_GRAPH_SUMMARY = os.environ.get("PA_WORKER_DBT_GRAPH_SUMMARY", "") in ("", "0")


def install_cheap_graph_summary():
    """In the child: the same graph_summary.json, without serialising every
    node twice. dbt's Linker.get_graph_summary calls to_dict() on each node
    of the graph only to read its resource_type (once for the linked graph,
    again with test edges for `build`): O(nodes) full serialisations per
    invocation, whatever it selects. This reads the field itself; the
    summary is equal (the resource type serialises as its value)."""
    linker = getattr(dbt.compilation, "Linker", None)
    if linker is None or not hasattr(linker, "get_graph_summary"):
        return

    def get_graph_summary(self, manifest):
        graph_nodes = dict()
        index_dict = dict()
        for node_index, node_name in enumerate(self.graph):
            index_dict[node_name] = node_index
            kind = manifest.expect(node_name).resource_type
            graph_nodes[node_index] = {"name": node_name, "type": getattr(kind, "value", kind)}
        for node_index, node in graph_nodes.items():
            successors = [index_dict[n] for n in self.graph.successors(node["name"])]
            if successors:
                node["succ"] = successors
        return graph_nodes

    linker.get_graph_summary = get_graph_summary


# PA_WORKER_DBT_LINK=1: the child links the graph and adds test edges itself (to compare).
PRELINKED = os.environ.get("PA_WORKER_DBT_LINK", "") in ("", "0")
# The collections Linker.link_graph walks, in its order.
LINKED_MEMBERS = ("nodes", "semantic_models", "exposures", "functions", "metrics",
                  "unit_tests", "saved_queries")


def link_inputs(manifest):
    """Everything dbt's Linker.link_graph and its fast test edges read of a
    manifest, in their order: each collection's keys, each member's id,
    resource type and depends_on nodes, and the sources' keys and ids. Two manifests
    with equal inputs link to the same graph (nodes and edges in the same
    order, the same cycle check)."""
    out = [tuple((k, s.unique_id) for k, s in manifest.sources.items())]
    for name in LINKED_MEMBERS:
        out.append(tuple((k, n.unique_id, n.resource_type, tuple(n.depends_on_nodes))
                         for k, n in getattr(manifest, name).items()))
    return out


def prelink(manifest):
    """In the zygote, after a load: dbt's own linked graph of the preloaded
    manifest (Linker.link_graph, with its cycle check) and a copy with the
    fast test edges (Linker.add_test_edges_2, what DBT_USE_FAST_TEST_EDGES
    selects), for the children to take instead of linking again. Both depend
    on the manifest alone; nothing is kept if dbt's code raises (the child
    then raises it itself)."""
    linker_cls = getattr(dbt.compilation, "Linker", None)
    if not PRELINKED or linker_cls is None or not hasattr(linker_cls, "add_test_edges_2"):
        return None
    started, cpu_started = time.time(), time.process_time()
    # Tests on several nodes read manifest.child_map, which dbt builds just
    # before adding test edges; built here for that and then put back as the
    # load left it, so the preloaded object is what a child would decode.
    kept = {k: getattr(manifest, k) for k in ("child_map", "parent_map") if hasattr(manifest, k)}
    try:
        linker = linker_cls()
        linker.link_graph(manifest)
        linked = linker.graph
        linker.graph = linked.copy()
        manifest.build_parent_and_child_maps()
        child_map = manifest.child_map
        linker.add_test_edges_2(manifest)
        out = {"inputs": link_inputs(manifest), "linked": linked, "tested": linker.graph,
               "child_map": child_map}
    except Exception as e:
        log("prelink: not linked: %r" % (e,))
        return None
    finally:
        for k in ("child_map", "parent_map"):
            if k in kept:
                setattr(manifest, k, kept[k])
            elif hasattr(manifest, k):
                delattr(manifest, k)
    log("prelink: linked %d nodes, %d edges, %d with test edges (%.2f s, %.2f CPU-s)"
        % (linked.number_of_nodes(), linked.number_of_edges(), out["tested"].number_of_edges(),
           time.time() - started, time.process_time() - cpu_started))
    return out


def install_prelinked():
    """In the child: Linker.link_graph and add_test_edges hand back the
    zygote's graphs (prelink) when the manifest is the preloaded object and
    everything linking reads of it is as at the load (link_inputs, compared
    whole: a partial parse, injected external nodes or deferral give other
    inputs), and for the test edges when dbt would take the fast path and
    the manifest's child_map (dbt builds it just before) equals the zygote's.
    Each graph is handed out once per process (the child owns its copy of
    the zygote's memory); any other call runs dbt's own code."""
    linker_cls = dbt.compilation.Linker
    pre = PRELOAD.get("prelinked") if PRELOAD else None
    if pre is None:
        return
    orig_link, orig_tests = linker_cls.link_graph, linker_cls.add_test_edges
    left = dict(pre)

    def usable(manifest, key):
        return (key in left and manifest is PRELOAD["manifest"]
                and link_inputs(manifest) == pre["inputs"])

    def link_graph(self, manifest):
        if not usable(manifest, "linked"):
            return orig_link(self, manifest)
        self.graph = left.pop("linked")
        marker("prelink: graph linked in the zygote, reused")

    def add_test_edges(self, manifest):
        if (self.graph is not pre["linked"] or not dbt.flags.get_flags().USE_FAST_TEST_EDGES
                or not usable(manifest, "tested")
                or getattr(manifest, "child_map", None) != pre["child_map"]):
            return orig_tests(self, manifest)
        self.graph = left.pop("tested")
        marker("prelink: test edges added in the zygote, reused")

    linker_cls.link_graph = link_graph
    linker_cls.add_test_edges = add_test_edges


def rebind_everywhere(name, orig, replacement):
    """`replacement` wherever a module bound `orig` as `name`
    (`from ... import name` copies the function into the importer), and in
    the defining module, from which modules imported later take it."""
    replacement.__wrapped__ = orig
    for module in list(sys.modules.values()):
        try:
            if getattr(module, name, None) is orig:
                setattr(module, name, replacement)
        except Exception:
            pass


# ---- Event messages built without json_format's pure-Python parser. ----
# dbt builds every event twice through json_format.ParseDict (its data,
# then its info with the time stamp): 40 and 20 us an event, the time
# stamp parsed back with strptime, in every node thread. ParseDict of a
# dict whose values all have the types the message's fields declare is the
# message those values construct (upb's constructor, in C): fast_parse_dict
# checks every value against its field as ParseDict's converters would
# accept it unchanged (str for strings, int for integers, bool, finite
# floats within a float field's range, dicts for messages, lists for
# repeated fields, str for string maps, RFC 3339 text for time stamps) and
# builds the message from them; a Struct's contents go through json_format
# itself. Anything else (another type, an enum, bytes, a oneof, a key that
# is a field's JSON name, any error) is ParseDict's, from the start, so its
# result and its exceptions are dbt's. PA_WORKER_CHECK_EVENTS=1 builds
# each message both ways and logs a mismatch (the tests' check);
# PA_WORKER_DBT_EVENTS=1 leaves ParseDict (and MessageToDict, below) alone.
FAST_EVENTS = os.environ.get("PA_WORKER_DBT_EVENTS", "") in ("", "0")
CHECK_EVENTS = os.environ.get("PA_WORKER_CHECK_EVENTS", "") not in ("", "0")


class _Slow(Exception):
    pass


_EVENT_PLANS = {}  # message full name -> {key: (field name, kind, message descriptor)}
# What the conversions use, set by install_fast_events (no import per event).
_PB = types.SimpleNamespace()
_TIMESTAMP_TEXT = None  # compiled lazily: YYYY-MM-DDTHH:MM:SS[.fraction]Z


def _event_plan(desc):
    plan = _EVENT_PLANS.get(desc.full_name)
    if plan is not None:
        return plan
    from google.protobuf import descriptor as D

    F = D.FieldDescriptor
    ints = (F.CPPTYPE_INT32, F.CPPTYPE_INT64, F.CPPTYPE_UINT32, F.CPPTYPE_UINT64)
    plan = {}
    # ParseDict looks a key up among the JSON names first, then the names.
    keys = {f.json_name: f for f in desc.fields}
    for f in desc.fields:
        keys.setdefault(f.name, f)
    for key, f in keys.items():
        repeated = f.label == F.LABEL_REPEATED
        sub = f.message_type
        if f.containing_oneof is not None or key != f.name:
            kind = "slow"
        elif sub is not None and sub.GetOptions().map_entry:
            k, v = sub.fields_by_name["key"], sub.fields_by_name["value"]
            kind = "map_str" if k.type == F.TYPE_STRING and v.type == F.TYPE_STRING else "slow"
        elif sub is not None:
            if sub.full_name == "google.protobuf.Timestamp":
                kind = "timestamp"
            elif sub.full_name == "google.protobuf.Struct":
                kind = "struct"
            elif sub.full_name.startswith("google.protobuf."):
                kind = "slow"
            else:
                kind = "message"
        elif f.cpp_type in ints:
            kind = "int"
        elif f.cpp_type == F.CPPTYPE_DOUBLE:
            kind = "double"
        elif f.cpp_type == F.CPPTYPE_FLOAT:
            kind = "float"
        elif f.cpp_type == F.CPPTYPE_BOOL:
            kind = "bool"
        elif f.type == F.TYPE_STRING:
            kind = "str"
        else:
            kind = "slow"  # enums, bytes
        if repeated and kind != "map_str":  # a map is a repeated field of entries
            kind = "rep_" + kind
        plan[key] = (f.name, kind, sub)
    _EVENT_PLANS[desc.full_name] = plan
    return plan


def _timestamp(text):
    """A Timestamp of RFC 3339 text, as Timestamp.FromJsonString makes it."""
    global _TIMESTAMP_TEXT
    if _TIMESTAMP_TEXT is None:
        import re

        _TIMESTAMP_TEXT = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
                                     r"(?:\.([0-9]{1,9}))?Z", re.ASCII)
    m = _TIMESTAMP_TEXT.fullmatch(text)
    if m is None:
        ts = _PB.timestamp_pb2.Timestamp()
        ts.FromJsonString(text)  # its own checks; a ValueError is ParseDict's
        return ts
    y, mo, d, h, mi, sec, frac = m.groups()
    # strptime's checks are datetime's (no leap second, days of the month).
    td = _PB.datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec)) - _PB.epoch
    seconds = td.seconds + td.days * 86400
    nanos = round(float("0." + frac) * 1e9) if frac else 0
    if not (-62135596800 <= seconds <= 253402300799 and 0 <= nanos < 1000000000):
        raise _Slow()
    return _PB.timestamp_pb2.Timestamp(seconds=int(seconds), nanos=int(nanos))


def _event_scalar(kind, v):
    t = type(v)
    if kind == "str":
        if isinstance(v, str) and not _UNPAIRED_SURROGATE.search(v):
            return v
    elif kind == "int":
        if t is int:
            return v
    elif kind == "bool":
        if t is bool:
            return v
    elif kind in ("double", "float"):
        if t is int:
            return float(v)
        if t is float and v == v and v not in (float("inf"), float("-inf")):
            if kind == "float" and not (_FLOAT_MIN <= v <= _FLOAT_MAX):
                raise _Slow()
            return v
    raise _Slow()


def _event_kwargs(js, desc, depth):
    if type(js) is not dict or depth > 90:
        raise _Slow()
    plan = _event_plan(desc)
    out = {}
    for key, v in js.items():
        entry = plan.get(key)
        if entry is None:
            raise _Slow()
        name, kind, sub = entry
        if v is None:
            continue  # ParseDict clears the field: a new message has it unset
        if kind == "message":
            out[name] = _event_kwargs(v, sub, depth + 1)
        elif kind == "timestamp":
            if not isinstance(v, str):
                raise _Slow()
            out[name] = _timestamp(v)
        elif kind == "struct":
            if type(v) is not dict:
                raise _Slow()
            st = _PB.struct_pb2.Struct()
            if v:
                # json_format's own conversion, as deep as ParseDict would allow here
                _PB.json_format._Parser(False, None, 100 - depth).ConvertMessage(v, st, "")
            out[name] = st
        elif kind == "map_str":
            if type(v) is not dict:
                raise _Slow()
            for k, x in v.items():
                _event_scalar("str", k)
                _event_scalar("str", x)
            out[name] = v
        elif kind.startswith("rep_"):
            if not isinstance(v, (list, tuple)):
                raise _Slow()
            item = kind[4:]
            if item == "message":
                out[name] = [_event_kwargs(x, sub, depth + 1) for x in v]
            elif item == "timestamp":
                if not all(isinstance(x, str) for x in v):
                    raise _Slow()
                out[name] = [_timestamp(x) for x in v]
            elif item in ("str", "int", "bool", "double", "float"):
                out[name] = [_event_scalar(item, x) for x in v]
            else:
                raise _Slow()
        elif kind == "slow":
            raise _Slow()
        else:
            out[name] = _event_scalar(kind, v)
    return out


def install_fast_events():
    """In the zygote, for every child: dbt-common's event classes build
    their messages with fast_parse_dict."""
    global _UNPAIRED_SURROGATE, _FLOAT_MIN, _FLOAT_MAX
    try:
        import datetime

        import dbt_common.events.base_types as base_types
        from google.protobuf import json_format, struct_pb2, timestamp_pb2
        from google.protobuf.internal import type_checkers
    except Exception:
        return
    _PB.json_format, _PB.struct_pb2, _PB.timestamp_pb2 = json_format, struct_pb2, timestamp_pb2
    _PB.datetime, _PB.epoch = datetime.datetime, datetime.datetime(1970, 1, 1)
    orig = base_types.ParseDict
    if orig is not json_format.ParseDict:
        return
    _UNPAIRED_SURROGATE = json_format._UNPAIRED_SURROGATE_PATTERN
    _FLOAT_MIN, _FLOAT_MAX = type_checkers._FLOAT_MIN, type_checkers._FLOAT_MAX
    reported = set()

    def fast_parse_dict(js_dict, message, ignore_unknown_fields=False, descriptor_pool=None,
                        max_recursion_depth=100):
        if ignore_unknown_fields or descriptor_pool is not None or max_recursion_depth != 100 \
                or message.ListFields() or message.DESCRIPTOR.full_name.startswith("google.protobuf."):
            return orig(js_dict, message, ignore_unknown_fields, descriptor_pool, max_recursion_depth)
        try:
            built = type(message)(**_event_kwargs(js_dict, message.DESCRIPTOR, 1))
        except Exception:
            return orig(js_dict, message)
        if "fast" not in reported:
            reported.add("fast")
            marker("events: messages built without json_format")
        if CHECK_EVENTS:
            name = message.DESCRIPTOR.full_name
            try:
                slow = orig(js_dict, type(message)())
                same = slow == built and slow.SerializeToString(deterministic=True) == \
                    built.SerializeToString(deterministic=True)
            except Exception as e:
                slow, same = None, False
                built = None
                err = e
            if not same:
                if name not in reported:
                    reported.add(name)
                    marker("events: MISMATCH %s: %r" % (name, js_dict if slow is not None else err))
                if slow is None:
                    return orig(js_dict, message)
                message.MergeFrom(slow)
                return message
            if "checked" not in reported:
                reported.add("checked")
                marker("events: checked against json_format")
        message.MergeFrom(built)
        return message

    base_types.ParseDict = fast_parse_dict


# The JSON log's line of each event: dbt-common's msg_to_dict calls
# json_format.MessageToDict (field names kept, fields without presence
# printed), whose printer looks every field's kind up again for every
# message. _FastPrinter is that printer with its one per-message method,
# _RegularMessageToJsonObject, working from a table made once per message
# type: the same keys, values and order; every other method (time stamps,
# Structs, floats, enums) is the printer's own, and any field it does not
# know (an extension) or any error has the printer's method redo the whole
# message. PA_WORKER_CHECK_EVENTS=1 compares each dict with the printer's.
_DICT_PLANS = {}  # message full name -> ({field number: (name, kind)}, [(name, default)])


def _dict_plan(printer, desc):
    plan = _DICT_PLANS.get(desc.full_name)
    if plan is not None:
        return plan
    from google.protobuf import descriptor as D

    F = D.FieldDescriptor
    kinds, defaults = {}, []
    for f in desc.fields:
        sub = f.message_type
        if sub is not None and sub.GetOptions().map_entry:
            kind = "map"
        elif f.label == F.LABEL_REPEATED:
            kind = "repeated"
        elif f.cpp_type == F.CPPTYPE_MESSAGE:
            kind = "message"
        elif f.cpp_type == F.CPPTYPE_STRING and f.type == F.TYPE_STRING:
            kind = "str"
        elif f.cpp_type == F.CPPTYPE_BOOL:
            kind = "bool"
        elif f.cpp_type in (F.CPPTYPE_INT64, F.CPPTYPE_UINT64):
            kind = "int64"
        elif f.cpp_type in (F.CPPTYPE_INT32, F.CPPTYPE_UINT32):
            kind = "int32"
        else:
            kind = "printer"  # floats, enums, bytes
        kinds[f.number] = (f.name, kind)
        if not f.has_presence:
            if kind == "map":
                defaults.append((f.name, dict))
            elif kind == "repeated":
                defaults.append((f.name, list))
            else:
                value = printer._FieldToJsonObject(f, f.default_value)
                defaults.append((f.name, lambda value=value: value))
    plan = (kinds, defaults)
    _DICT_PLANS[desc.full_name] = plan
    return plan


def install_fast_event_dicts():
    """In the zygote, for every child: msg_to_dict prints with _FastPrinter."""
    try:
        import dbt_common.events.functions as functions
        from google.protobuf import json_format
    except Exception:
        return
    orig = functions.MessageToDict
    if orig is not json_format.MessageToDict:
        return

    class _FastPrinter(json_format._Printer):
        def _RegularMessageToJsonObject(self, message, js):
            if js:
                return super()._RegularMessageToJsonObject(message, js)
            try:
                kinds, defaults = _dict_plan(self, message.DESCRIPTOR)
                for field, value in message.ListFields():
                    name, kind = kinds[field.number] if not field.is_extension else (None, None)
                    if kind == "str":
                        js[name] = str(value)
                    elif kind == "message":
                        js[name] = self._MessageToJsonObject(value)
                    elif kind == "bool":
                        js[name] = bool(value)
                    elif kind == "int64":
                        js[name] = str(value)
                    elif kind == "int32":
                        js[name] = value
                    elif kind == "repeated":
                        js[name] = [self._FieldToJsonObject(field, v) for v in value]
                    elif kind == "map":
                        v_field = field.message_type.fields_by_name["value"]
                        js[name] = {(("true" if key else "false") if isinstance(key, bool) else str(key)):
                                    self._FieldToJsonObject(v_field, value[key]) for key in value}
                    elif kind == "printer":
                        js[name] = self._FieldToJsonObject(field, value)
                    else:
                        raise _Slow()
                for name, default in defaults:
                    if name not in js:
                        js[name] = default()
                return js
            except Exception:
                js.clear()
                return super()._RegularMessageToJsonObject(message, js)

    reported = set()

    def message_to_dict(message, always_print_fields_with_no_presence=False,
                        preserving_proto_field_name=False, use_integers_for_enums=False,
                        descriptor_pool=None, float_precision=None):
        if not (always_print_fields_with_no_presence and preserving_proto_field_name) \
                or use_integers_for_enums or descriptor_pool is not None or float_precision is not None:
            return orig(message, always_print_fields_with_no_presence, preserving_proto_field_name,
                        use_integers_for_enums, descriptor_pool, float_precision)
        fast = _FastPrinter(True, False, None, None, True)._MessageToJsonObject(message)
        if CHECK_EVENTS:
            slow = orig(message, True, True)
            same = json.dumps(fast, sort_keys=True, default=repr) == json.dumps(slow, sort_keys=True, default=repr)
            name = message.DESCRIPTOR.full_name
            if not same:
                if name not in reported:
                    reported.add(name)
                    marker("events: MISMATCH in the dict of %s" % name)
                return slow
            if "dicts" not in reported:
                reported.add("dicts")
                marker("events: dicts checked against json_format")
        return fast

    functions.MessageToDict = message_to_dict


# PA_WORKER_DBT_CACHE_EVENTS=1: dbt builds every cache event's message (to compare).
QUIET_CACHE_EVENTS = os.environ.get("PA_WORKER_DBT_CACHE_EVENTS", "") in ("", "0")


def install_quiet_cache_events():
    """In the child: a CacheAction or CacheDumpGraph event (the adapter
    cache fires one per relation it adds, 2,001 at 2,000 models, whatever
    the batch selects) that nothing would take is dropped before dbt builds
    its message. dbt_common's EventManager.fire_event first turns every
    event into a protobuf message (ParseDict of its info: most of what
    filling the cache cost), then hands it to each logger whose filter
    takes it and to each callback. Dropped only when all of that is certain
    to do nothing: the manager is dbt_common's own class, the event is one
    of those two debug events fired at its own level and not forced through
    the warn/error handling, dbt's test hook DBT_TEST_BINARY_SERIALIZATION
    is unset, every logger's filter is dbt's stdout or file filter built
    with log_cache_events false (both drop these two by name), and the only
    callback is dbt's track_behavior_change_warn (which returns at once for
    any other event). Otherwise (--log-cache-events, a logger or callback
    of someone else) dbt's fire_event runs."""
    try:
        from dbt_common.events import event_manager, functions as common_functions
        from dbt_common.events.base_types import EventLevel
        from dbt.adapters.events.types import CacheAction, CacheDumpGraph
        import dbt.events.logging as dbt_logging
        import dbt.tracking
    except Exception:
        return
    import functools

    manager_cls = event_manager.EventManager
    orig = manager_cls.fire_event
    dropped_types = (CacheAction, CacheDumpGraph)
    dbt_filters = (common_functions.stdout_filter, dbt_logging._logfile_filter)
    seen = []

    def nobody_takes(self, e, level, force):
        if type(self) is not manager_cls or type(e) not in dropped_types or level is not None or force:
            return False
        if e.level_tag() != EventLevel.DEBUG or os.environ.get("DBT_TEST_BINARY_SERIALIZATION"):
            return False
        for logger in self.loggers:
            f = logger.filter
            if not (type(f) is functools.partial and f.func in dbt_filters and not f.keywords
                    and len(f.args) == 2 and f.args[0] is False):
                return False
        return all(cb is dbt.tracking.track_behavior_change_warn for cb in self.callbacks)

    def fire_event(self, e, level=None, node=None, force_warn_or_error_handling=False):
        if nobody_takes(self, e, level, force_warn_or_error_handling):
            if not seen:
                seen.append(1)
                marker("cache events: dropped before their messages were built (no logger takes them)")
            return
        return orig(self, e, level=level, node=node, force_warn_or_error_handling=force_warn_or_error_handling)

    manager_cls.fire_event = fire_event


# PA_WORKER_DBT_ENV_SECRETS=1: dbt's own env_secrets on every call (to compare).
CHEAP_ENV_SECRETS = os.environ.get("PA_WORKER_DBT_ENV_SECRETS", "") in ("", "0")


def install_cheap_env_secrets():
    """In the zygote, for every child: dbt's env_secrets() (the values of DBT_ENV_SECRET_*
    variables, which dbt scrubs from every log line and error) with its
    result kept while the environment is unchanged. dbt calls it for every
    event it logs (57,000 times in a 1,000-node build: 18% of the profiled
    CPU of a 500-model batch, in a fresh dbt as in the worker), and each call
    decodes the whole environment. This compares the environment's raw
    bytes with those of the last call (a C-level dict comparison) and
    decodes only when they differ, from that same snapshot, so the result is
    always what dbt computes from the environment as it is now."""
    try:
        import dbt_common.exceptions.base as base
        from dbt_common.constants import SECRET_ENV_PREFIX
    except Exception:
        return
    orig = base.env_secrets
    # One (snapshot, secrets) pair, replaced whole: dbt's node threads call
    # this at once, and none may see a new snapshot with the old secrets.
    last = [None]

    def env_secrets():
        env = os.environ
        raw = getattr(env, "_data", None)
        if not isinstance(env, os._Environ) or not isinstance(raw, dict):
            return orig()
        kept = last[0]
        if kept is None or raw != kept[0]:
            snap = dict(raw)
            secrets = []
            for k, v in snap.items():
                value = env.decodevalue(v)
                if env.decodekey(k).startswith(SECRET_ENV_PREFIX) and value.strip():
                    secrets.append(value)
            kept = (snap, secrets)
            last[0] = kept
        return list(kept[1])

    rebind_everywhere("env_secrets", orig, env_secrets)



# PA_WORKER_DBT_SELECTION=1: dbt resolves each selector on every pass (to compare).
SELECTION_ONCE = os.environ.get("PA_WORKER_DBT_SELECTION", "") in ("", "0")


def install_selection_once():
    """In the child: each selector of a `dbt build` resolved once instead of
    once per pass. BuildTask.get_graph_queue resolves the same spec object
    three times (get_selected with unit tests, without them, then the
    selector's get_graph_queue), and each criterion of it walks every node
    of the manifest (a batch's 5 fqn: selectors: 15 walks).
    NodeSelector.get_nodes_from_criteria(spec) is a function of the spec,
    the graph of enabled members (built from the task's graph and manifest,
    the same for both of build's selectors), the manifest, the previous
    state and the selectors.yml definitions; a selector's resource types
    only filter its result afterwards (filter_selection), and the warnings
    for an empty selection are fired by its caller, dbt's own
    select_nodes_recursively, on every pass. So while one
    BuildTask.get_graph_queue runs (nothing in it changes the manifest; the
    deferral that merges another manifest in comes later, in before_run)
    each criterion's result is kept, for the same spec object with the same
    inputs (compared by identity, with the selector's methods that compute
    it, should a subclass override one), and dropped when it returns. Not
    kept: a `selector:` criterion (it resolves through the calling
    selector's own get_selected, which filters by that selector's resource
    types and fires warnings), and a call in which dbt caught an
    InvalidSelectorError (it fires an event each time). Each caller gets
    its own copies of the two sets, as from dbt."""
    try:
        from dbt.exceptions import InvalidSelectorError
        from dbt.graph.selector import NodeSelector
        from dbt.graph.selector_methods import MethodName
        from dbt.task.build import BuildTask
    except Exception:
        return
    orig_queue = BuildTask.get_graph_queue
    orig_criteria = NodeSelector.get_nodes_from_criteria
    orig_included = NodeSelector.select_included
    kept = [None]  # while a BuildTask.get_graph_queue runs: id(spec) -> (inputs, direct, indirect)
    invalid = [0]  # InvalidSelectorErrors raised so far, for dbt to catch
    reused = [0]

    def get_graph_queue(self):
        kept[0] = {}
        try:
            return orig_queue(self)
        finally:
            kept[0] = None

    def select_included(self, included_nodes, spec):
        try:
            return orig_included(self, included_nodes, spec)
        except InvalidSelectorError:
            invalid[0] += 1
            raise

    def get_nodes_from_criteria(self, spec):
        if kept[0] is None or getattr(spec, "method", None) == MethodName.Selector:
            return orig_criteria(self, spec)
        cls = type(self)
        inputs = (spec, self.full_graph, self.manifest, self.previous_state, self._selectors,
                  cls._is_graph_member, cls.select_included, cls.get_method,
                  cls.collect_specified_neighbors, cls.expand_selection)
        hit = kept[0].get(id(spec))
        if hit is not None and all(a is b for a, b in zip(hit[0], inputs)):
            if not reused[0]:
                marker("selection: criteria resolved once, reused by the later passes")
            reused[0] += 1
            return set(hit[1]), set(hit[2])
        before = invalid[0]
        direct, indirect = orig_criteria(self, spec)
        if invalid[0] == before and kept[0] is not None:
            kept[0][id(spec)] = (inputs, set(direct), set(indirect))
        return direct, indirect

    BuildTask.get_graph_queue = get_graph_queue
    NodeSelector.select_included = select_included
    NodeSelector.get_nodes_from_criteria = get_nodes_from_criteria


# PA_WORKER_DBT_WRITE_JSON=1: dbt's own write_json (to compare).
ONE_SHOT_JSON = os.environ.get("PA_WORKER_DBT_WRITE_JSON", "") in ("", "0")


def install_one_shot_write_json():
    """In the zygote, for every child: dbt's artifacts (run_results.json, and a parse's
    manifest.json) written with the same bytes, encoded by json's C encoder.
    dbt_common's write_json calls json.dump, which always encodes in pure
    Python (the C encoder serves only json.dumps); dumps with the same
    encoder class and options gives the same text (the same checks in the
    same order, the same default()), which is then written whole. If the
    encoding fails, dbt's own write_json runs and fails as it does (leaving
    what it leaves); opening and writing fail as in dbt's on POSIX (where
    dbt re-raises; the worker forks, so it runs nowhere else). The text is
    held in memory whole (a 2,000-model manifest.json is some tens of MB)."""
    try:
        import dbt_common.clients.system as system
        from dbt_common.utils.encoding import JSONEncoder
    except Exception:
        return
    orig = system.write_json

    def write_json(path, data):
        try:
            text = json.dumps(data, cls=JSONEncoder)
        except Exception:
            return orig(path, data)
        path = system.convert_path(path)
        system.make_directory(os.path.dirname(path))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return True

    rebind_everywhere("write_json", orig, write_json)


def datetime_now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(tzinfo=None)


def dbt_invocation_id():
    from dbt_common.invocation import get_invocation_id

    return get_invocation_id()


def partial_parse_file(req):
    """The partial-parse file a request reads (build...) or writes (parse)."""
    argv = req.get("argv") or []
    flags = {}
    i = 2
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and "=" in a:
            k, v = a.split("=", 1)
            flags[k] = v
        elif a.startswith("--") and i + 1 < len(argv):
            flags[a] = argv[i + 1]
        i += 1
    cwd = req.get("cwd") or "."
    if len(argv) > 1 and argv[1] == "parse":
        target = flags.get("--target-path")
        return os.path.join(cwd, target, "partial_parse.msgpack") if target else None
    p = flags.get("--partial-parse-file-path")
    return os.path.join(cwd, p) if p else None


def preload_status():
    if PRELOAD is None:
        return None
    return {k: PRELOAD[k] for k in ("path", "sha256", "nodes", "loaded_at", "load_seconds")}


# ---- Warm-up: what dbt builds lazily, per class, in every process. ----
# dbt validates its contracts against JSON schemas that mashumaro builds on
# first use (dbtClassMixin.json_schema, cached per class), and its classes'
# to_dict/from_dict code is compiled on first call (lazy_compilation). A
# fresh process, and so each forked child, pays that again: at 100 models it
# is most of a warm `dbt parse` and a good part of a batch's set-up. Both
# results depend on the class alone, so the zygote builds them once and
# every later child inherits them: the child's dbt runs the same code on the
# same values, it only finds the cache filled. Which classes: those children
# built themselves (each child reports them when it ends), kept in
# <socket>.warm so that a new worker starts warm. Names are looked up in
# modules already imported (nothing is imported for them); anything that
# does not resolve or fails is skipped, which only leaves that work to the child.
WARMED = set()  # entries tried in this process
WARM_OK = set()  # of which built (what <socket>.warm keeps)
WARM_RECORD = []  # in a child: what it built itself, reported at its end
LINES_WARMED = set()  # ("lines", file, "", "") read into linecache here
GETMODULE_WARMED = []


def warm_file():
    sock = OPTS.get("socket") or ""
    return (sock[:-len(".sock")] if sock.endswith(".sock") else sock) + ".warm" if sock else None


def record_warm_ups():
    """In the dbt child, before dbt runs: notes each class whose schema or
    codec it builds itself, for the zygote to build before the next fork."""
    try:
        import dbt_common.dataclass_schema as ds
        from mashumaro.core.meta.code.builder import CodeBuilder
    except Exception:
        return
    orig_schema = ds.build_json_schema
    orig_pack, orig_unpack = CodeBuilder.add_pack_method, CodeBuilder.add_unpack_method

    def build_json_schema(cls, *a, **k):
        out = orig_schema(cls, *a, **k)
        if not a and not k:
            WARM_RECORD.append(("schema", cls.__module__, cls.__qualname__, ""))
        return out

    def lazy(builder):  # a lazy stub's compilation: no dialect, no type args
        return builder.dialect is None and not builder.initial_type_args \
            and not builder.allow_postponed_evaluation

    def add_pack_method(self):
        orig_pack(self)
        if lazy(self):
            name = self.get_pack_method_name(format_name=self.format_name, encoder=self.encoder)
            WARM_RECORD.append(("pack", self.cls.__module__, self.cls.__qualname__, str(name)))

    def add_unpack_method(self):
        orig_unpack(self)
        if lazy(self):
            name = self.get_unpack_method_name(format_name=self.format_name, decoder=self.decoder)
            WARM_RECORD.append(("unpack", self.cls.__module__, self.cls.__qualname__, str(name)))

    ds.build_json_schema = build_json_schema
    CodeBuilder.add_pack_method = add_pack_method
    CodeBuilder.add_unpack_method = add_unpack_method


def report_warm_ups(fd, command=""):
    """In the dbt child, at its end: the records, as JSON lines each under
    PIPE_BUF (written whole), to the zygote's pipe. Also the source files
    whose lines it read (dbt's behaviour flags call inspect.stack(), which
    reads the source of every frame): linecache checks a file's size and
    mtime before using its cached lines, so lines read in the zygote are
    what the child would read."""
    import linecache

    lines = [("lines", f, "", "") for f, v in list(linecache.cache.items())
             if len(v) == 4 and v[1] is not None and os.path.isabs(f)]
    entries = sorted(set(WARM_RECORD) | set(lines) - LINES_WARMED)
    while entries:
        chunk = []
        while entries and len(json.dumps({"warm": chunk + [entries[0]], "cmd": command})) < 3500:
            chunk.append(entries.pop(0))
        if not chunk:  # one entry too long for a line: dropped
            entries.pop(0)
            continue
        try:
            os.write(fd, (json.dumps({"warm": chunk, "cmd": command}) + "\n").encode())
        except OSError:
            return


def resolve_class(module, qualname):
    obj = sys.modules.get(module)
    for part in qualname.split("."):
        if obj is None or part == "<locals>":
            return None
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, type) else None


def warm_up_learned(entries):
    """In the zygote: builds what `entries` name; returns the new ones."""
    new = []
    if not WARMUP_ENABLED:
        return new
    for e in entries:
        e = tuple(e)
        if len(e) != 4 or e in WARMED:
            continue
        WARMED.add(e)
        kind, module, qualname, method = e
        cls = resolve_class(module, qualname) if kind != "lines" else None
        if cls is None and kind != "lines":
            continue
        try:
            if kind == "lines":
                import inspect
                import linecache

                if linecache.getlines(module):
                    LINES_WARMED.add(e)
                    new.append(e)
                    WARM_OK.add(e)
                    if not GETMODULE_WARMED:  # inspect.getmodule's map of module files
                        inspect.getmodule(sys._getframe())
                        GETMODULE_WARMED.append(1)
                continue
            if kind == "schema" and hasattr(cls, "json_schema"):
                cls.json_schema()
            elif kind == "pack" and method.startswith("__mashumaro_") and lazily_compiled(cls, method):
                try:  # the stub compiles, then packs an empty object: that fails
                    getattr(cls, method)(object.__new__(cls))
                except Exception:
                    pass
            elif kind == "unpack" and method.startswith("__mashumaro_") and lazily_compiled(cls, method):
                try:
                    getattr(cls, method)({})
                except Exception:
                    pass
            else:
                continue
        except Exception:
            continue
        new.append(e)
        WARM_OK.add(e)
    return new


def read_warm_entries(path):
    """The entries of a warm file, or [] if it is missing, too big, corrupt
    or not what we write: only lists of four strings are kept."""
    try:
        if os.stat(path).st_size > WARM_FILE_MAX_BYTES:
            return []
        with open(path) as f:
            entries = json.load(f)
    except (OSError, ValueError, TypeError, UnicodeDecodeError):
        return []
    if not isinstance(entries, list):
        return []
    out = []
    for e in entries:
        if isinstance(e, list) and len(e) in (4, 5) and all(isinstance(x, str) for x in e):
            out.append(tuple(e[:4]))
            if len(e) == 5:
                WARM_USES.setdefault(out[-1], set()).update(e[4].split())
    return out


def write_warm_entries(path, entries):
    """Whole or not at all: a temporary file renamed over `path`, so a
    reader (another worker) never sees a half-written one."""
    write_cache_file(path, json.dumps(sorted(list(e) + [" ".join(sorted(WARM_USES.get(e, ())))]
                                             for e in entries)).encode())


# The warm file shared by every project whose worker runs this dbt, adapter
# and interpreter ($XDG_CACHE_HOME/pa-gen, else ~/.cache/pa-gen): a fresh
# project's worker then knows what a batch builds before its first batch
# ran, and builds it while the first parse runs. Its name is a hash of the
# installation's identity (dbt version, adapter, Python, and the stat of
# dbt/version.py, the adapter module and the interpreter), so another
# installation never reads it. It holds only names of dbt's (and its
# libraries') classes and Python source files inside the installation,
# never anything of a project (see shareable). A stale, corrupt or foreign
# entry only fails to resolve and is skipped; two workers that write it at
# once each rename a whole file over it, and at worst one's new entries
# are lost (learnt again later).
WARM_FILE_MAX_BYTES = 4 << 20
SHARED_WARM_ENABLED = os.environ.get("PA_WORKER_NO_SHARED_WARM", "") in ("", "0")


def user_cache_file(prefix, suffix, ident=()):
    """$XDG_CACHE_HOME/pa-gen/<prefix>-<digest of this installation and ident><suffix>,
    or None without an absolute cache folder."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # unset or relative: the XDG default
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    import hashlib as _hashlib

    key = json.dumps([PROTOCOL, DBT_VERSION, ADAPTER, sys.version, INSTALL] + list(ident))
    return os.path.join(base, "pa-gen", "%s-%s%s" % (prefix, _hashlib.sha256(key.encode()).hexdigest()[:16], suffix))


def shared_warm_file():
    return user_cache_file("warm", ".json") if SHARED_WARM_ENABLED else None


def write_cache_file(path, data):
    """Whole or not at all (a temporary file renamed over `path`, mode 0600,
    its folder 0700), so that another worker never reads half of it.
    Returns None, or the error."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.rename(tmp, path)
        return None
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return e


def read_cache_file(path, limit):
    """The bytes of `path`; None if it is missing or over `limit` bytes."""
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size > limit:
                return None
            return f.read()
    except FileNotFoundError:
        return None


def install_roots():
    import site
    import sysconfig

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sysconfig.get_paths().get("stdlib", "")}
    try:
        roots.update(site.getsitepackages())
    except Exception:
        pass
    return tuple(os.path.realpath(r).rstrip(os.sep) + os.sep for r in roots if r)


INSTALL_ROOTS = None


def shareable(e):
    """Whether an entry names only the installation: a class of a module
    loaded from it, or a Python source file inside it."""
    global INSTALL_ROOTS
    if INSTALL_ROOTS is None:
        INSTALL_ROOTS = install_roots()
    kind, module, _qualname, _method = e
    if kind == "lines":
        f = module if module.endswith(".py") else None
    else:
        f = getattr(sys.modules.get(module), "__file__", None)
    return bool(f) and os.path.realpath(f).startswith(INSTALL_ROOTS)


# ---- JSON schemas of dbt's contracts, kept per installation. ----
# The warm-up builds schemas while the zygote is idle, which on a cold build
# is after the first parse was forked: that parse builds every schema it
# validates against itself (the node, config and project contracts: about
# a third of its CPU at 100 models). A schema is a function of the class,
# and so of the installation: the zygote keeps those it has (the known
# list's and the learnt `schema` entries of shareable classes) in
# $XDG_CACHE_HOME/pa-gen/schemas-<hash>.json, whose key adds the versions of
# dbt-core, dbt-common, dbt-adapters and mashumaro to the warm file's, and a
# later worker puts them into `dbtClassMixin.json_schema`'s cache before it
# serves, by running that method with dbt-common's `build_json_schema`
# answering the kept value for that class alone. Only schemas made of JSON's
# own types (dicts with string keys, lists, strings, numbers, booleans,
# None) are kept, so reading one back gives an equal value of the same
# types. A class that no longer resolves is skipped (the child builds it).
# PA_WORKER_NO_SCHEMA_FILE=1 (or PA_WORKER_NO_SHARED_WARM=1) turns it off.
SCHEMA_FILE_ENABLED = os.environ.get("PA_WORKER_NO_SCHEMA_FILE", "") in ("", "0")
SCHEMAS_KEPT = {}  # (module, qualname) -> schema: what the file holds (read or written)
SCHEMA_FILE_MAX_BYTES = 16 << 20


def schemas_file():
    if not (SCHEMA_FILE_ENABLED and SHARED_WARM_ENABLED):
        return None
    try:
        import importlib.metadata as md

        ident = []
        for dist in ("dbt-core", "dbt-common", "dbt-adapters", "mashumaro"):
            try:
                ident.append(md.version(dist))
            except md.PackageNotFoundError:
                ident.append(None)
    except Exception:
        return None
    return user_cache_file("schemas", ".json", ident)


def plain_json(x):
    """Whether x is made of JSON's own types only."""
    if x is None or type(x) in (str, int, float, bool):
        return True
    if type(x) is list:
        return all(plain_json(v) for v in x)
    if type(x) is dict:
        return all(type(k) is str and plain_json(v) for k, v in x.items())
    return False


def prime_schema(cls, schema):
    import dbt_common.dataclass_schema as ds

    orig = ds.build_json_schema

    class Kept:
        def to_dict(self):
            return schema

    def build_json_schema(c, *a, **k):
        return Kept() if c is cls and not a and not k else orig(c, *a, **k)

    ds.build_json_schema = build_json_schema
    try:
        cls.json_schema()
    finally:
        ds.build_json_schema = orig


def read_schemas():
    """At start, before serving: primes the schemas the file keeps."""
    path = schemas_file()
    if not path:
        return
    started = time.time()
    try:
        data = read_cache_file(path, SCHEMA_FILE_MAX_BYTES)
        if data is None:
            return
        doc = json.loads(data)
        entries = doc["schemas"] if doc.get("v") == 1 else []
        kept = {(e[0], e[1]): e[2] for e in entries
                if type(e) is list and len(e) == 3 and type(e[0]) is str and type(e[1]) is str
                and type(e[2]) is dict}
        primed = 0
        for (module, qualname), schema in kept.items():
            cls = resolve_class(module, qualname)  # only in modules imported by now
            if cls is not None and hasattr(cls, "json_schema"):
                prime_schema(cls, schema)
                primed += 1
        SCHEMAS_KEPT.update(kept)
    except Exception as e:
        log("schemas: ignoring %s: %r" % (path, e))
        return
    log("schemas: %d of %d from %s (%.2f s)" % (primed, len(SCHEMAS_KEPT), path, time.time() - started))


def save_schemas():
    """With the warm files: the schemas this zygote has, if any is new."""
    path = schemas_file()
    if not path:
        return
    classes = {(c.__module__, c.__qualname__): c for c in KNOWN_SCHEMA_CLASSES}
    for e in WARM_OK:
        if e[0] == "schema" and shareable(e):
            cls = resolve_class(e[1], e[2])
            if cls is not None:
                classes[(e[1], e[2])] = cls
    new = {}
    for key, cls in classes.items():
        if key in SCHEMAS_KEPT:
            continue
        try:
            schema = cls.json_schema()  # built already: by the known list or a learnt entry
        except Exception:
            continue
        if type(schema) is dict and plain_json(schema):
            new[key] = schema
    if not new:
        return
    kept = [[m, q, schema] for (m, q), schema in sorted({**SCHEMAS_KEPT, **new}.items())]
    error = write_cache_file(path, json.dumps({"v": 1, "schemas": kept}).encode())
    if error is not None:
        log("schemas: cannot write %s: %r" % (path, error))
        return
    SCHEMAS_KEPT.update(new)
    log("schemas: %d kept in %s" % (len(kept), path))


# ---- Parsed Jinja of the installation's own macros, for a project's first parse. ----
# A parse without a partial-parse file (a cold build) spends about a fifth
# of its time in jinja2's pure-Python parser on the macros of dbt and its
# adapters (some 500, each parsed twice: dbt reads the macro, then looks for
# the macros it calls). Those texts are the installation's, the same in
# every project, and a parse is a function of the text, the parser (jinja2's
# and dbt-common's versions, in the file's key) and the environment's
# extensions. So a zygote with nothing else to do parses the macro blocks of
# every `dbt.include.*` package once and keeps the trees, pickled, in
# $XDG_CACHE_HOME/pa-gen/jinja-<key>.pickle (texts of the installation only,
# never a project's); the nodes' Environment is left out and supplied again
# on load. A later worker reads the file before it serves, and in a child
# MacroFuzzEnvironment._parse of such a text (no name or file, dbt's own
# extensions, that class exactly) unpickles a fresh copy of the tree rather
# than parsing: equal to what parsing gives, new objects on every call, so
# nothing is shared between callers. Anything else, or a tree that does not
# load, is parsed by dbt's code. PA_WORKER_NO_JINJA_CACHE=1 turns it off.
JINJA_TREES_ENABLED = os.environ.get("PA_WORKER_NO_JINJA_CACHE", "") in ("", "0")
JINJA_TREES = {}  # text -> pickled tree (bytes), read before serving
JINJA_TREES_MAX_BYTES = 64 << 20
JINJA_MACRO_BLOCKS = {"macro", "materialization", "test", "data_test"}


def jinja_trees_file():
    if not JINJA_TREES_ENABLED:
        return None
    try:
        import importlib.metadata as md

        import jinja2

        ident = [jinja2.__version__, md.version("dbt-common")]
    except Exception:
        return None
    return user_cache_file("jinja", ".pickle", ident)


def jinja_extensions(env):
    return sorted(env.extensions)


def jinja_tree_pickler(out):
    import pickle

    import jinja2

    class TreePickler(pickle.Pickler):
        def persistent_id(self, obj):
            return "env" if isinstance(obj, jinja2.Environment) else None

    return TreePickler(out, protocol=pickle.HIGHEST_PROTOCOL)


def load_jinja_tree(data, env):
    """A tree of JINJA_TREES with its nodes pointing at `env`. Only
    jinja2's node classes are constructed."""
    import io
    import pickle

    import jinja2.nodes

    class TreeUnpickler(pickle.Unpickler):
        def persistent_load(self, pid):
            if pid != "env":
                raise pickle.UnpicklingError("unknown persistent id")
            return env

        def find_class(self, module, name):
            cls = getattr(jinja2.nodes, name, None) if module == "jinja2.nodes" else None
            if not (isinstance(cls, type) and issubclass(cls, jinja2.nodes.Node)):
                raise pickle.UnpicklingError("not a jinja2 node: %s.%s" % (module, name))
            return cls

    return TreeUnpickler(io.BytesIO(data)).load()


def read_jinja_trees():
    """At start, before serving: the trees file, if it is ours and whole."""
    path = jinja_trees_file()
    if not path:
        return
    started = time.time()
    try:
        import io
        import pickle

        data = read_cache_file(path, JINJA_TREES_MAX_BYTES)
        if data is None:
            return

        class Plain(pickle.Unpickler):  # str, bytes, dicts and lists only
            def find_class(self, module, name):
                raise pickle.UnpicklingError("no classes here")

        doc = Plain(io.BytesIO(data)).load()
        import dbt_common.clients.jinja as J

        trees = doc["trees"] if doc.get("v") == 1 and doc.get("ext") == jinja_extensions(J.get_environment()) else {}
        if isinstance(trees, dict) and all(isinstance(k, str) and isinstance(v, bytes) for k, v in trees.items()):
            JINJA_TREES.update(trees)
    except Exception as e:
        log("jinja: ignoring %s: %r" % (path, e))
        return
    log("jinja: %d macro trees from %s (%.2f s)" % (len(JINJA_TREES), path, time.time() - started))


def build_jinja_trees():
    """In the zygote, as steps of the known warm-up (one file per step) when
    no file was read: parses the installation's macro blocks as dbt's
    macro parser finds them, then writes the file whole (0600, renamed)."""
    if not JINJA_TREES_ENABLED or JINJA_TREES:
        return
    path = jinja_trees_file()
    if not path:
        return
    import glob
    import io
    import pickle

    import dbt.include
    import dbt_common.clients.jinja as J
    from dbt_common.clients.system import load_file_contents

    started, cpu_started = time.time(), time.process_time()
    env = J.get_environment()
    files = []
    for folder in dbt.include.__path__:
        files += glob.glob(os.path.join(folder, "*", "**", "*.sql"), recursive=True)
    trees = {}
    for name in sorted(files):
        try:
            text = load_file_contents(name)
            blocks = J.extract_toplevel_blocks(text, allowed_blocks=JINJA_MACRO_BLOCKS, collect_raw_data=False)
            for block in blocks:
                source = getattr(block, "full_block", None)
                if isinstance(block, J.BlockTag) and isinstance(source, str) and source not in trees:
                    out = io.BytesIO()
                    jinja_tree_pickler(out).dump(env.parse(source))
                    trees[source] = out.getvalue()
        except Exception:
            pass  # that file's macros are parsed by the children themselves
        yield
    if not trees:
        return
    error = write_cache_file(path, pickle.dumps({"v": 1, "ext": jinja_extensions(env), "trees": trees},
                                                protocol=pickle.HIGHEST_PROTOCOL))
    if error is not None:
        log("jinja: cannot write %s: %r" % (path, error))
        return
    JINJA_TREES.update(trees)
    log("jinja: %d macro trees parsed into %s (%.2f s, %.2f CPU-s)"
        % (len(trees), path, time.time() - started, time.process_time() - cpu_started))


def install_jinja_trees():
    """In the dbt child: MacroFuzzEnvironment._parse takes a kept tree."""
    import dbt_common.clients.jinja as J

    env_class = J.MacroFuzzEnvironment
    orig = env_class._parse
    extensions = None
    reused = False

    def _parse(self, source, name, filename):
        nonlocal extensions, reused
        data = JINJA_TREES.get(source) if name is None and filename is None and type(self) is env_class \
            and isinstance(source, str) else None
        if data is not None:
            if extensions is None:
                extensions = jinja_extensions(J.get_environment())
            if jinja_extensions(self) == extensions:
                try:
                    tree = load_jinja_tree(data, self)
                except Exception:
                    tree = None
                if tree is not None:
                    if not reused:
                        reused = True
                        marker("jinja: macro trees reused, not parsed again")
                    return tree
        return orig(self, source, name, filename)

    env_class._parse = _parse


# ---- Compiled macro templates, for every child. ----
# A dbt child compiles each macro it calls into a jinja2 Template (parse,
# code generation, Python compile) and keeps it in dbt-common's
# TemplateCache, keyed by the macro's text: some 80 macros in a build of
# tables and tests, 2-3 ms each, paid again by every batch. The texts of
# the installation's macros are known before any project is loaded (the
# keys of JINJA_TREES) and a preloaded manifest holds its project's and
# packages', so the zygote compiles each text once, while idle, exactly as
# TemplateCache does (get_template of the text, no context), and every
# child starts with them: a lookup that misses dbt's cache takes the
# zygote's template for that text, which is what dbt's own cache hands to
# the second caller in one process (one template for every macro of that
# text). A child that debugs macros (--macro-debugging: the text goes into
# linecache) compiles its own. 565 macros: 0.74 CPU-s once, 9 MB.
# PA_WORKER_NO_MACRO_TEMPLATES=1 turns it off.
MACRO_TEMPLATES_ENABLED = os.environ.get("PA_WORKER_NO_MACRO_TEMPLATES", "") in ("", "0")
MACRO_TEMPLATES = {}  # macro text -> jinja2.Template, compiled in the zygote


TEMPLATE_QUEUE = []  # macro texts to compile while idle, in order
TEMPLATE_QUEUED = set()
TEMPLATE_PROGRESS = {"built": 0, "seconds": 0.0, "cpu": 0.0}
MACRO_TEMPLATES_MAX = 20000  # texts kept (an edited macro adds one)


def queue_macro_templates(texts):
    """In the zygote: texts to compile once it is idle (the installation's
    after the known warm-up; a preloaded manifest's, its project's and
    packages' macros included, after each load)."""
    if not MACRO_TEMPLATES_ENABLED:
        return
    for text in texts:
        if isinstance(text, str) and text not in MACRO_TEMPLATES and text not in TEMPLATE_QUEUED \
                and len(MACRO_TEMPLATES) + len(TEMPLATE_QUEUE) < MACRO_TEMPLATES_MAX:
            TEMPLATE_QUEUE.append(text)
            TEMPLATE_QUEUED.add(text)


def compile_macro_template():
    """In the zygote, only while no request is in flight (warm_some): one
    template. A batch already running would only lose CPU to it; the next
    one takes the templates."""
    import dbt_common.clients.jinja as J

    started, cpu_started = time.time(), time.process_time()
    text = TEMPLATE_QUEUE.pop(0)
    TEMPLATE_QUEUED.discard(text)
    try:
        MACRO_TEMPLATES[text] = J.get_template(string=text, ctx={})
        TEMPLATE_PROGRESS["built"] += 1
    except Exception:
        pass  # dbt compiles it in the child, and reports what it reports
    TEMPLATE_PROGRESS["seconds"] += time.time() - started
    TEMPLATE_PROGRESS["cpu"] += time.process_time() - cpu_started
    if not TEMPLATE_QUEUE and TEMPLATE_PROGRESS["built"]:
        log("jinja: %d macro templates compiled (%.2f s, %.2f CPU-s; %d kept)"
            % (TEMPLATE_PROGRESS["built"], TEMPLATE_PROGRESS["seconds"], TEMPLATE_PROGRESS["cpu"],
               len(MACRO_TEMPLATES)))
        TEMPLATE_PROGRESS.update(built=0, seconds=0.0, cpu=0.0)


def install_macro_templates():
    """In the dbt child: TemplateCache takes the zygote's template of a text
    it has not compiled itself."""
    import dbt_common.clients.jinja as J

    orig = J.TemplateCache.get_node_template
    reused = False

    def get_node_template(self, node):
        nonlocal reused
        key = node.macro_sql
        if key not in self.file_cache and not J.MACRO_DEBUGGING and isinstance(key, str):
            template = MACRO_TEMPLATES.get(key)
            if template is not None:
                self.file_cache[key] = template
                if not reused:
                    reused = True
                    marker("jinja: macro templates compiled in the zygote, reused")
                return template
        return orig(self, node)

    J.TemplateCache.get_node_template = get_node_template


# What the zygote is to build when it has nothing else to do (warm_some):
# the known warm-up's steps first, then entries from the warm files and
# from children's reports, each once.
WARM_QUEUE = []
WARM_QUEUED = set()
# Which commands' children built an entry themselves ("build", "parse"):
# while a request is in flight only what a build needs (or what no report
# named: a file of an older worker) is built, since a parse forked before
# builds its own, and building it twice would only take CPU from the
# requests running; the rest once the zygote is idle.
WARM_USES = {}
WARM_PROGRESS = {"built": 0, "seconds": 0.0, "cpu": 0.0, "unfrozen": False}


def queue_warm_ups(entries):
    n = 0
    for e in entries:
        e = tuple(e)
        if len(e) == 4 and all(isinstance(x, str) for x in e) and e not in WARMED and e not in WARM_QUEUED:
            WARM_QUEUE.append(e)
            WARM_QUEUED.add(e)
            n += 1
    return n


def load_warm_file():
    """At start: queues what the project's and the shared warm files name."""
    if not WARMUP_ENABLED:
        return
    for path in (warm_file(), shared_warm_file()):
        if path:
            started = time.time()
            n = queue_warm_ups(read_warm_entries(path))
            log("warm-up: %d from %s (%.2f s to read; built while idle)" % (n, path, time.time() - started))


def save_warm_file():
    # What was built, and what is still queued (deferred until idle, maybe
    # never reached before the worker stopped): a name a child built itself.
    save_schemas()
    known = WARM_OK | WARM_QUEUED
    path = warm_file()
    if path:
        write_warm_entries(path, known)
    shared = shared_warm_file()
    if shared:
        mine = set(e for e in known if shareable(e))
        old = set(read_warm_entries(shared))
        if not mine <= old:
            try:
                os.makedirs(os.path.dirname(shared), mode=0o700, exist_ok=True)
            except OSError:
                return
            write_warm_entries(shared, old | mine)


def wanted_now(e, busy):
    uses = WARM_USES.get(e)
    return not busy or not uses or "build" in uses


def warm_pending(busy=False):
    return KNOWN_STEPS is not None or (bool(TEMPLATE_QUEUE) and not busy) \
        or any(wanted_now(e, busy) for e in WARM_QUEUE)


def warm_some(busy=False, budget=0.02):
    """In the zygote, when no connection or notice is waiting: builds queued
    warm-up steps for about `budget` seconds, then returns so that a request
    waits at most one step. Each step leaves the process consistent; the GC
    is frozen again before the next fork (freeze_for_fork). Once the queue
    is empty, the warm files are updated."""
    global KNOWN_STEPS
    started, cpu_started = time.time(), time.process_time()
    built = 0
    while time.time() - started < budget:
        if KNOWN_STEPS is not None:
            try:
                next(KNOWN_STEPS)
            except StopIteration:
                KNOWN_STEPS = None
                queue_macro_templates(sorted(JINJA_TREES))
                log("warm-up: known list built (%.2f s, %.2f CPU-s)"
                    % (WARM_PROGRESS["seconds"] + time.time() - started,
                       WARM_PROGRESS["cpu"] + time.process_time() - cpu_started))
            except Exception:
                KNOWN_STEPS = None
            continue
        if TEMPLATE_QUEUE and not busy:
            compile_macro_template()
            continue
        i = next((i for i, e in enumerate(WARM_QUEUE) if wanted_now(e, busy)), None)
        if i is None:
            break
        e = WARM_QUEUE.pop(i)
        WARM_QUEUED.discard(e)
        built += len(warm_up_learned([e]))
    WARM_PROGRESS["seconds"] += time.time() - started
    WARM_PROGRESS["cpu"] += time.process_time() - cpu_started
    WARM_PROGRESS["built"] += built
    WARM_PROGRESS["unfrozen"] = True
    if thread_count() != 1:
        log("refusing to serve: %d threads after the warm-up (fork is unsafe)" % thread_count())
        sys.exit(3)
    if not warm_pending(busy):
        if WARM_PROGRESS["built"]:
            save_warm_file()
            log("warm-up: %d more (%.2f s, %.2f CPU-s)"
                % (WARM_PROGRESS["built"], WARM_PROGRESS["seconds"], WARM_PROGRESS["cpu"]))
        WARM_PROGRESS["built"], WARM_PROGRESS["seconds"], WARM_PROGRESS["cpu"] = 0, 0.0, 0.0
        freeze_for_fork()
        global ZYGOTE_RSS_KB
        ZYGOTE_RSS_KB = rss_kb()


def freeze_for_fork():
    """Before a fork: objects the warm-up made since the last freeze join the
    frozen generation, so the children's collector leaves their pages shared."""
    if WARM_PROGRESS["unfrozen"]:
        gc.freeze()
        WARM_PROGRESS["unfrozen"] = False


# ---- Profiling a request (PA_WORKER_PROFILE=<dir> in the worker's environment). ----
# Each dbt child then writes <dir>/<command>-<pid>.prof (cProfile of the main
# thread's CPU time, from before the preload shortcuts are installed to after
# the atexit handlers), <command>-<pid>.threads.prof (dbt's node threads,
# merged) and a .json beside it with the child's wall and CPU
# seconds over the same span (`python -m pstats` reads the .prof).
PROFILE_DIR = os.environ.get("PA_WORKER_PROFILE") or None


def start_profile():
    if not PROFILE_DIR:
        return None
    import cProfile

    # Each thread's CPU time (the machine may be shared): the main thread in
    # one profile, dbt's node threads (its thread pool) each in their own,
    # merged into <base>.threads.prof at the end.
    profiler = cProfile.Profile(time.thread_time)
    profiler.pa_started = (time.time(), time.process_time())
    profiler.pa_threads = []
    orig_run = threading.Thread.run

    def run(self):
        p = cProfile.Profile(time.thread_time)
        p.enable()
        try:
            return orig_run(self)
        finally:
            p.disable()
            profiler.pa_threads.append(p)

    threading.Thread.run = run
    profiler.enable()
    return profiler


def stop_profile(profiler, argv):
    if profiler is None:
        return
    profiler.disable()
    try:
        import pstats

        wall0, cpu0 = profiler.pa_started
        base = os.path.join(PROFILE_DIR, "%s-%d" % (argv[1] if len(argv) > 1 else "dbt", os.getpid()))
        os.makedirs(PROFILE_DIR, exist_ok=True)
        profiler.dump_stats(base + ".prof")
        threads = list(profiler.pa_threads)
        if threads:
            stats = pstats.Stats(threads[0])
            for p in threads[1:]:
                stats.add(p)
            stats.dump_stats(base + ".threads.prof")
        with open(base + ".json", "w") as f:
            json.dump({"argv": argv, "wall_seconds": time.time() - wall0,
                       "cpu_seconds": time.process_time() - cpu0, "forked_at": FORKED_AT,
                       "profiled_at": wall0, "threads_profiled": len(threads)}, f)
    except Exception as e:
        marker("profile: cannot write: %r" % (e,))


FORKED_AT = None


# ---- The dbt child: one per request. ----
def run_dbt(req, fds):
    """Runs in the grandchild; never returns."""
    code = 2
    global FORKED_AT
    FORKED_AT = time.time()
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
        global LOG_FD
        os.close(NOTIFY_R)
        global REPORT_FD
        REPORT_FD = NOTIFY_W  # for report_warm_ups
        LOG_FD = os.dup(2)  # the worker's log, for the preload markers
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
        profiler = start_profile()
        try:
            record_warm_ups()
            if PRELOAD_AVAILABLE and PRELOAD is not None:
                install_preload(argv)
            if PRELOAD_AVAILABLE and CHEAP_GRAPH_SUMMARY:
                install_cheap_graph_summary()
            if PRELOAD_AVAILABLE and PRELOAD is not None and PRELINKED:
                install_prelinked()
            if QUIET_CACHE_EVENTS:
                install_quiet_cache_events()
            if SELECTION_ONCE:
                install_selection_once()
            if JINJA_TREES:
                install_jinja_trees()
            if MACRO_TEMPLATES:
                install_macro_templates()
            if PRELOAD_AVAILABLE and EARLY_LOAD and argv[1:2] == ["parse"]:
                install_early_load(req)
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
        stop_profile(profiler, argv)
        report_warm_ups(REPORT_FD, argv[1] if len(argv) > 1 else "")
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
                            "idle_seconds": OPTS["idle"], "rss_kb": ZYGOTE_RSS_KB,
                            "preload": preload_status(),
                            # this handler is a fork: the zygote's queue as of now
                            "warm_pending": bool(warm_pending())})
            os._exit(0)
        if op == "stop":
            os.kill(os.getppid(), signal.SIGTERM)  # even if the client is gone
            send_msg(conn, {"ok": True})
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
        # A request that reads a partial-parse file the zygote has not
        # loaded: ask it to load that file for the requests that follow.
        pp = partial_parse_file(req) if PRELOAD_AVAILABLE else None
        is_parse = req["argv"][1:2] == ["parse"]
        if pp and not is_parse and (PRELOAD is None or os.path.realpath(pp) != PRELOAD["path"]
                                    or stat_or_none(PRELOAD["path"]) != PRELOAD["ident"]) \
                and REFUSED != (os.path.realpath(pp), stat_or_none(pp)):
            notify_zygote(pp, False)
        sys.stdout.flush()
        sys.stderr.flush()
        forked = time.time()
        child = os.fork()
        if child == 0:
            conn.close()
            run_dbt(req, fds)
        for fd in fds:
            os.close(fd)
        send_msg(conn, {"pid": child})
        # Wait for the child, or for the client to go away (then the child goes too).
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
                _, status, usage = os.wait4(child, 0)
                # A parse that succeeded wrote (or kept) the partial-parse
                # file: the zygote loads it before it accepts the requests
                # that follow, because we tell it before we tell the client.
                if pp and is_parse and status == 0:
                    notify_zygote(pp, True)
                log("%s: status %d after %.2f s, %.2f CPU-s" % (
                    req["argv"][1] if len(req["argv"]) > 1 else "dbt", status, time.time() - forked,
                    usage.ru_utime + usage.ru_stime))
                try:
                    send_msg(conn, {"status": status,
                                    "cpu_seconds": usage.ru_utime + usage.ru_stime})
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
REPORT_FD = None  # in a dbt child: the pipe to the zygote
NOTIFY_R, NOTIFY_W = os.pipe()  # handlers -> zygote: partial-parse files to load


def notify_zygote(path, retry, fd=None):
    # One line of JSON, shorter than PIPE_BUF, so written whole. Without
    # `retry`, a file that could not be preloaded is not tried again until
    # it changes (a parse always retries: it may have made the files match).
    line = (json.dumps({"load": os.path.realpath(path), "retry": retry}) + "\n").encode()
    if len(line) < 4096:
        try:
            os.write(NOTIFY_W if fd is None else fd, line)
        except OSError:
            pass


def handle_notifications():
    """In the zygote: loads the newest file asked for (all lines pending)."""
    data = b""
    while True:
        r, _, _ = select.select([NOTIFY_R], [], [], 0)
        if not r:
            break
        chunk = os.read(NOTIFY_R, 65536)
        if not chunk:
            break
        data += chunk
    wanted = {}
    warm = []
    for line in data.decode(errors="replace").splitlines():
        try:
            m = json.loads(line)
            if "warm" in m:
                command = m.get("cmd") if isinstance(m.get("cmd"), str) else ""
                for e in m["warm"]:
                    if isinstance(e, list) and len(e) == 4 and all(isinstance(x, str) for x in e):
                        warm.append(e)
                        WARM_USES.setdefault(tuple(e), set()).add(command)
                continue
            wanted[m["load"]] = wanted.get(m["load"], False) or bool(m.get("retry"))
        except Exception:
            continue
    if warm and WARMUP_ENABLED and queue_warm_ups(warm):
        save_warm_file()  # learnt now, built after the loads below while idle
    for path, retry in wanted.items():  # each once, in order
        if PRELOAD is not None and PRELOAD["path"] == path and stat_or_none(path) == PRELOAD["ident"]:
            continue
        if not retry and REFUSED == (path, stat_or_none(path)):
            continue
        load_preload(path)
    if thread_count() != 1:
        log("refusing to serve: %d threads after loading a manifest (fork is unsafe)" % thread_count())
        sys.exit(3)


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def entry_gone():
    # A socket outside the project (its path too long for one inside) is
    # reached through the project's .pa/worker/<hash>.sock link: once the
    # link or the project is gone, no pa-gen finds this worker again.
    entry = OPTS.get("entry")
    return bool(entry) and entry != OPTS["socket"] and not os.path.lexists(entry)


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

    # Stateless patches, installed once here and inherited by every child:
    # each rebinding walks every module (11 ms in a child, where some
    # modules' __getattr__ imports on the first look).
    if CHEAP_ENV_SECRETS:
        install_cheap_env_secrets()
    if ONE_SHOT_JSON:
        install_one_shot_write_json()
    if FAST_EVENTS:
        install_fast_events()
        install_fast_event_dicts()
    load_warm_file()
    read_jinja_trees()
    read_schemas()
    if thread_count() != 1:
        log("refusing to serve: %d threads after the warm-up (fork is unsafe)" % thread_count())
        sys.exit(3)
    ZYGOTE_RSS_KB = rss_kb()
    gc.collect()
    gc.freeze()
    if OPTS["ready_fd"] is not None:
        fd = int(OPTS["ready_fd"])
        os.write(fd, b"ready\n")
        os.close(fd)
    log("serving %s (dbt %s, import %.2f s, rss %d kB)" % (path, DBT_VERSION, IMPORT_SECONDS, ZYGOTE_RSS_KB))

    handlers = set()
    last_active = time.time()
    while not stopping:
        try:
            # Handlers in flight: wake often to reap them (no zombies left
            # after a request, whatever the load). Warm-up pending: only
            # look, and build some of it if nothing is waiting.
            timeout = 0 if warm_pending(bool(handlers)) else 0.1 if handlers else 1.0
            ready, _, _ = select.select([listener, NOTIFY_R], [], [], timeout)
        except InterruptedError:
            ready = []
        if NOTIFY_R in ready:
            # Before accepting: a batch queued behind a parse gets its manifest.
            handle_notifications()
            last_active = time.time()
            ready = [r for r in ready if r is not NOTIFY_R]
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
        if entry_gone():
            log("%s removed; exiting" % OPTS["entry"])
            break  # below: the socket outside the project goes too
        if not ready:
            if warm_pending(bool(handlers)):
                warm_some(bool(handlers))
                continue
            collect_when_idle(time.time() - last_active, handlers)
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
        freeze_for_fork()
        pid = os.fork()
        if pid == 0:
            listener.close()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            serve_connection(conn)
        handlers.add(pid)
        conn.close()
    if WARM_PROGRESS["built"] or WARM_QUEUE:  # stopped while warming up: keep what was learnt
        save_warm_file()
    try:
        if os.stat(path).st_ino == mine:
            os.unlink(path)
    except OSError:
        pass


main()
