#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

// The one seam through which pa-gen starts a program: dbt for a batch or
// the parse, ninja for `pa-gen build`, dot for `pa-gen graph --svg`. The
// real implementation starts a process (SubprocessRunner, util/process.h);
// a resident dbt worker is a second one (it serves dbt requests from a warm
// process and falls back to a process for anything else); unit tests use a
// fake that writes dbt's files and exit codes as scripted.
//
// Whatever runs the command, the caller sees the same thing: the same
// argv, working directory and environment as a fresh process would get,
// the same files written, the same exit status, the same reaction to
// signals and timeouts.

struct CommandRequest {
  std::vector<std::string> argv;  // argv[0] is a path, not looked up in PATH
  std::filesystem::path cwd;      // empty: inherit
  std::filesystem::path output;   // stdout and stderr go here; empty: inherit
  std::vector<std::pair<std::string, std::string>> env;  // added to ours
  int timeout_seconds = 0;        // 0: none; then the command is killed
  // After a signal we passed on (or the timeout's SIGTERM), how long the
  // command has to stop before its group gets SIGKILL.
  int stop_grace_seconds = 5;
  // A second signal we pass on means "stop now": the group gets SIGKILL at
  // once rather than at the end of the grace. Ninja (true here) is not
  // killed: it puts each edge in a process group of its own and passes
  // only the first signal on, so the second goes to its children's groups
  // as well, and each `pa-gen exec` then kills its dbt at once and records
  // what dbt finished before it exits.
  bool second_signal_to_children = false;
};

struct CommandResult {
  int exit_code = -1;      // 128 + signal when killed by one
  bool timed_out = false;  // killed by the runner after timeout_seconds
  int interrupted_by = 0;  // SIGINT/SIGTERM/SIGHUP we received and passed on; 0: none
  // The command's CPU time (user + system, all its threads); < 0: unknown.
  // pa-gen's cost model splits a batch's node times into its dbt's own
  // work and waiting on the database with it (group/predict.h).
  double cpu_seconds = -1;
  // Who ran it, for messages and tests: "process", or "worker".
  std::string ran_by = "process";
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;

  // Runs the command and waits for it. While it runs, a SIGINT, SIGTERM or
  // SIGHUP we receive is passed on to it (and to every process it started);
  // after `timeout_seconds` it is stopped. Returns false with *err set only
  // when the command could not be started at all; a command that ran and
  // failed is a true return with its exit code.
  virtual bool Run(const CommandRequest& request, CommandResult* result, std::string* err) = 0;
};
