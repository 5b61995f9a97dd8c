#pragma once

#include <functional>
#include <string>
#include <vector>

#include "util/command_runner.h"
#include "util/disk.h"
#include "util/fs.h"

// `pa-gen build`'s live progress (exec/progress.h) while Ninja runs: Ninja's
// output goes to a file in the build's progress folder and comes back on
// stdout through the display, so that the status line never garbles it. In
// a terminal: one status line redrawn in place, Ninja's own "[k/n]" lines
// left out (the status line stands for them), everything else Ninja prints
// (regeneration, errors, exec's lines) above it, failures as they happen,
// and a summary line at the end. Not a terminal: Ninja's lines as they are,
// a line per finished batch and per failure, and totals every 30 s.

// Whether `pa-gen build ARGS` shows progress: not for Ninja's tools (-t),
// dry runs (-n), -h and --version, nor with PA_PROGRESS=0.
bool WantsProgress(const std::vector<std::string>& ninja_args);

// Runs `command` (ninja) through `runner` while showing the progress of the
// plan `plan_file`'s batches; the same result and error as runner.Run.
// `ninja_args` say which batches Ninja builds (exec/progress.h KeepTargets).
bool RunWithProgress(CommandRunner& runner, CommandRequest command, const fs::path& plan_file,
                     const std::vector<std::string>& ninja_args, CommandResult* result,
                     std::string* err);

// Removes the progress folders (.pa/progress/<build>/) of builds that no
// longer run: a `pa-gen build` killed with -9 could not remove its own. A
// build holds the lock in its folder while it runs, so a folder whose lock
// is free is left over. A folder without a lock file (being made just now,
// or left by a pa-gen before the lock) is left over once the pid in its
// name (<start>-<pid>) is not `running`. Returns how many it removed.
int RemoveFinishedProgress(Disk& disk, const fs::path& project,
                           const std::function<bool(int pid)>& running);
