#pragma once

#include <string>
#include <vector>

#include "util/fs.h"

// `pa-gen status`: for every node of the plan, whether the next `ninja`
// runs it and why, in the order the batches run; then the failed nodes and
// the split batches. Reads through `disk` (an OverlayDisk after a read-only
// generation). Returns the exit code.
class Disk;
int PrintStatus(Disk& disk, const fs::path& plan_file);

// After a failed build: one summary of the nodes whose last run, at
// `since` (ns since the epoch) or later, did not succeed: dbt's status and
// message and the batch's log, with the batches now split node by node.
void PrintFailures(const fs::path& plan_file, long long since);

// `pa-gen forget [--full-refresh] [NAME...]`: makes the named batches or
// nodes (by batch name, node name or unique_id; none: everything) count as
// never built, so the next `ninja` rebuilds them and what depends on them;
// with `full_refresh` their next dbt run adds --full-refresh.
int Forget(const fs::path& plan_file, const std::vector<std::string>& names, bool full_refresh);
