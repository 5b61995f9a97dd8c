#pragma once

#include <string>
#include <vector>

#include "util/disk.h"
#include "util/fs.h"

// `pa-gen status`: for every node of the plan, whether the next `ninja`
// runs it and why, in the order the batches run; then the failed nodes and
// the split batches. Reads through `disk` (an OverlayDisk after a read-only
// generation). Returns the exit code.
class Disk;
int PrintStatus(Disk& disk, const fs::path& plan_file);

// After a build: one summary of the nodes whose last run, at `since` (ns
// since the epoch) or later, did not succeed: dbt's status and message and
// the batch's log; how many were skipped because of them and how many still
// need work but were not run (with `count_pending`: after a ninja that
// failed, their batch stopped or never started); the batches split node by
// node. Returns how many nodes run since `since` did not succeed.
int PrintFailures(Disk& disk, const fs::path& plan_file, long long since, bool count_pending);

// The build's last edge (`pa-gen check`, the default target's input): exit
// 0 and touch .pa/build.ok when every node of the plan has succeeded;
// otherwise remove it, say how many nodes failed or were skipped in one
// line, and exit 1, so that `ninja` ends non-zero when a batch went past
// its nodes' failures (exec/batch_runner.h).
int CheckBuild(Disk& disk, const fs::path& plan_file);

// `pa-gen forget [--full-refresh] [NAME...]`: makes the named batches or
// nodes (by batch name, node name or unique_id; none: everything) count as
// never built, so the next `ninja` rebuilds them and what depends on them;
// with `full_refresh` their next dbt run adds --full-refresh. Reads and
// writes the state and stamps through `disk`.
int Forget(Disk& disk, const fs::path& plan_file, const std::vector<std::string>& names,
           bool full_refresh);
