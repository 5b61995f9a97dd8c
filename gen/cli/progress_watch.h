#pragma once

#include <string>
#include <vector>

#include "util/command_runner.h"
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
