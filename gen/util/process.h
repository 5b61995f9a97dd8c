#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "util/command_runner.h"

// The real CommandRunner: every command is a fresh process.
using Subprocess = CommandRequest;
using SubprocessResult = CommandResult;

// The executable `name` in $PATH, or empty.
std::filesystem::path FindInPath(const std::string& name);

// Runs the command in a process group of its own and waits for it. A
// SIGINT, SIGTERM or SIGHUP we receive is passed to the whole group, and
// after a timeout the group gets SIGTERM; either way SIGKILL follows when
// it has not exited 5 s later. The group never outlives
// us: if we die, the kernel sends the child SIGKILL. Returns false with
// *err set when the command could not be started.
bool RunSubprocess(const Subprocess& command, SubprocessResult* result, std::string* err);

class SubprocessRunner : public CommandRunner {
 public:
  bool Run(const CommandRequest& request, CommandResult* result, std::string* err) override {
    return RunSubprocess(request, result, err);
  }
};
