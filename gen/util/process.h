#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

struct Subprocess {
  std::vector<std::string> argv;  // argv[0] is a path, not looked up in PATH
  std::filesystem::path cwd;      // empty: inherit
  std::filesystem::path output;   // stdout and stderr go here; empty: inherit
  std::vector<std::pair<std::string, std::string>> env;  // added to ours
  int timeout_seconds = 0;        // 0: none
};

struct SubprocessResult {
  int exit_code = -1;      // 128 + signal when killed by one
  bool timed_out = false;  // killed by us after timeout_seconds
  int interrupted_by = 0;  // SIGINT/SIGTERM/SIGHUP we received and passed on; 0: none
};

// The executable `name` in $PATH, or empty.
std::filesystem::path FindInPath(const std::string& name);

// Runs the command in a process group of its own and waits for it. A
// SIGINT, SIGTERM or SIGHUP we receive is passed to the whole group, and
// after a timeout the group gets SIGTERM; either way SIGKILL follows when
// it has not exited 5 s later. The group never outlives
// us: if we die, the kernel sends the child SIGKILL. Returns false with
// *err set when the command could not be started.
bool RunSubprocess(const Subprocess& command, SubprocessResult* result, std::string* err);
