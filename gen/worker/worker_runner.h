#pragma once

#include <string>

#include "util/command_runner.h"
#include "util/fs.h"
#include "worker/worker_protocol.h"

// A CommandRunner that runs dbt requests in pa-gen's resident dbt worker
// (pa_worker.py: a fork-server that has imported dbt once) and everything
// else, or anything the worker cannot serve, through `fallback` (a fresh
// process). The worker is started on demand, shared through a lock by
// concurrent pa-gen processes, and stops by itself after an idle timeout.
//
// Never a failed build because of the worker: if it cannot be started,
// answers wrongly, or dies before reporting the child's exit status, the
// request runs through `fallback` after one warning line on stderr.
// Signals and timeouts act on the child's process group as in
// RunSubprocess; if we die, the worker kills the child (it sees our socket
// close).
class WorkerRunner : public CommandRunner {
 public:
  explicit WorkerRunner(CommandRunner& fallback) : fallback_(fallback) {}
  bool Run(const CommandRequest& request, CommandResult* result, std::string* err) override;

  // How long an unused worker lives (PA_WORKER_IDLE_SECONDS, default 600).
  static int IdleSeconds();

 private:
  // kRefused: no dbt child started (no worker there, a stale one, another
  // key's, not a worker); kFallback: run a fresh process instead.
  enum class Outcome { kDone, kFallback, kRefused };
  Outcome TryWorker(const CommandRequest& request, const WorkerKey& key, CommandResult* result,
                    std::string* why);
  Outcome RunOnWorker(const CommandRequest& request, const WorkerKey& key,
                      const WorkerPaths& paths, CommandResult* result, std::string* why);
  bool Fallback(const CommandRequest& request, CommandResult* result, std::string* err,
                const std::string& why);

  CommandRunner& fallback_;
};

// Whether pa-gen should use the worker: not with PA_NO_WORKER set to
// anything but "" or "0", nor after SetWorkerDisabled (--no-worker).
bool WorkerEnabled();
void SetWorkerDisabled();

// The runner for dbt requests: the worker when enabled, else fresh processes.
CommandRunner& DbtCommandRunner();

// `pa-gen worker status|stop` for the workers of `project`: one line per
// worker on stdout. Returns the exit code.
int WorkerCommand(const fs::path& project, const std::string& action);

// Connects to the socket at `path` and checks the peer is a process of our
// user. Returns the fd, or -1 with *why set.
int ConnectWorker(const fs::path& path, std::string* why);
