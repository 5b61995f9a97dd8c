#pragma once

#include <string>
#include <vector>

#include "util/command_runner.h"
#include "util/disk.h"
#include "util/fs.h"

// `pa-gen build [NINJA ARGS...]`: runs Ninja on the build.ninja just
// generated and, when the build fails, prints one summary of what failed:
// Ninja has no hook at the end of a build. Returns Ninja's exit code.
// `build_ninja` has the plan beside it; the summary reads the state
// through `disk`.
int RunNinja(CommandRunner& runner, Disk& disk, const fs::path& build_ninja,
             const std::vector<std::string>& ninja_args);
