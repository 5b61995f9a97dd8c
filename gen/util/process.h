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
// after a timeout the group gets SIGINT; either way SIGKILL follows when
// it has not exited stop_grace_seconds (5) later, or at a second signal
// (see CommandRequest::second_signal_to_children). The group never outlives
// us: if we die, the kernel sends the child SIGKILL. Returns false with
// *err set when the command could not be started.
bool RunSubprocess(const Subprocess& command, SubprocessResult* result, std::string* err);

// The monotonic clock commands are timed with, in milliseconds.
long long MonotonicMs();

// How every runner stops a command's process group (`group` > 0): SIGINT
// once `timeout_seconds` (0: none) have passed since construction, and
// SIGKILL `grace_seconds` after that timeout, or after the first signal we
// passed on, when it is still running.
//
// A second signal passed on kills the group at once unless
// `kill_on_second` is false (CommandRequest::second_signal_to_children).
class GroupStopper {
 public:
  GroupStopper(int group, int timeout_seconds, int grace_seconds = 5, bool kill_on_second = true);
  // Sends whatever is due now and marks result->timed_out; `signals`: how
  // many signals we passed on.
  void Step(int signals, CommandResult* result);
  // When Step next has something to do (on MonotonicMs), or -1.
  long long NextDeadline(const CommandResult& result) const;

 private:
  int group_;
  long long timeout_at_;  // -1: none
  long long grace_ms_;
  bool kill_on_second_;
  long long kill_at_ = 0;  // 0: not scheduled; -1: sent
};

class SubprocessRunner : public CommandRunner {
 public:
  bool Run(const CommandRequest& request, CommandResult* result, std::string* err) override {
    return RunSubprocess(request, result, err);
  }
};
