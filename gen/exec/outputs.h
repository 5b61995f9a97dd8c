#pragma once

#include <string>

#include "plan/plan.h"
#include "util/disk.h"
#include "util/fs.h"

// A project's .pa/ (state, stamps, split markers) is the project's, not a
// build file's: two build files of one project (-o a/build.ninja, -o
// b/build.ninja) share it. That is safe while they batch the nodes alike;
// with other batches, each generation would move the state into its own
// batches' files and remove the other's stamps and state files, so the
// other would rebuild what it had built. pa-gen refuses that generation.
// .pa/outputs lists the build files generated for the project, one
// absolute path a line.

// Before `plan` is written for the build file `output`: fails, with one
// line naming it, when another build file of this project (one in
// .pa/outputs that is still there, with its plan, for this project)
// batches a node otherwise. A batch split node by node counts as the batch
// it was split from: both split it at their next generation.
bool CheckOtherOutputs(Disk& disk, const fs::path& project_dir, const fs::path& output, const Plan& plan,
                       std::string* err);

// After a generation: `output` in .pa/outputs, and those that are gone out.
bool RecordOutput(Disk& disk, const fs::path& project_dir, const fs::path& output, std::string* err);
