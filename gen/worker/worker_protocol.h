#pragma once

#include <cstdint>
#include <optional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/command_runner.h"
#include "util/fs.h"

// The pure parts of talking to pa-gen's resident dbt worker (pa_worker.py):
// which requests it may serve, which worker serves them (the key), where
// that worker's socket lives, and the framing of its messages. No sockets
// or processes here, so all of it is unit-tested.

constexpr int kWorkerProtocol = 1;

// What makes two dbt requests servable by the same worker: the project, the
// dbt executable (and its file's identity, so a reinstalled dbt gets a new
// worker), the profiles folder, profile, target and vars. Everything else
// (env, cwd, selection, threads) is per request.
struct WorkerKey {
  std::string text;  // the full key, compared by the worker
  std::string hash;  // 16 hex digits, names the socket
};

// The dbt commands a worker runs; anything else runs as a fresh process.
bool IsWorkerCommand(const std::string& command);

// The value each `--flag` of argv[from..] has, as click reads it: `--flag
// value` or `--flag=value`; the last one wins.
std::map<std::string, std::string> FlagValues(const std::vector<std::string>& argv, size_t from);

// The key for `request` when a worker may serve it: argv[0] is a Python
// script (dbt), argv[1] a dbt command, and the cwd is set. nullopt otherwise.
std::optional<WorkerKey> KeyFor(const CommandRequest& request);

// The interpreter named by a script's "#!" line when it is a Python (a
// direct path, not `/usr/bin/env`), else the `python` beside the script.
// Empty when neither exists.
fs::path PythonFor(const fs::path& script);
// The "#!" line's interpreter path in `first_line`, or empty.
std::string ShebangInterpreter(std::string_view first_line);

// Where the worker for `project` and `hash` lives. The socket is
// <project>/.pa/worker/<hash>.sock when that path fits in sun_path (108
// bytes); otherwise it is under $XDG_RUNTIME_DIR (or /tmp/pa-gen-<uid>) and
// the .pa/worker entry is a symlink to it, for `pa-gen worker status`.
struct WorkerPaths {
  fs::path dir;     // <project>/.pa/worker
  fs::path entry;   // dir/<hash>.sock (the socket or a symlink to it)
  fs::path socket;  // what the worker binds and clients connect to
  fs::path lock;    // dir/<hash>.lock, flock'ed while a worker is started
  fs::path log;     // dir/<hash>.log, the worker's stderr
  fs::path script;  // <runtime dir>/pa_worker-<hash>.py, the compiled-in source
};
WorkerPaths PathsFor(const fs::path& project, const std::string& hash,
                     const std::string& runtime_dir, unsigned uid);
constexpr size_t kMaxSocketPath = 107;  // sun_path is 108 bytes with its NUL

// Framing: a 4-byte big-endian length, then that many bytes of JSON.
std::string EncodeMessage(const nlohmann::json& message);
// Takes one whole message off the front of *buffer. Returns false while the
// buffer holds less than a message; *bad is set when it can never be one.
bool DecodeMessage(std::string* buffer, nlohmann::json* message, bool* bad);

// The request the worker gets: argv, cwd and the whole environment the
// child would have had (ours plus request.env).
nlohmann::json RunMessage(const CommandRequest& request, const WorkerKey& key,
                          char** environ_list);

// A waitpid status as CommandResult.exit_code: the code, or 128 + signal.
int ExitCodeFromStatus(int status);

// One line of `pa-gen worker status` for the worker `hash` at `socket` from
// its status reply, at time `now` (seconds since the epoch): pid, dbt,
// age, memory, idle timeout, the manifest it has preloaded (or none).
std::string StatusLine(const std::string& hash, const nlohmann::json& reply, double now,
                       const fs::path& socket);

// The compiled-in pa_worker.py.
extern const char kWorkerSource[];
