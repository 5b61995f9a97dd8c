#pragma once

#include <string>

#include "util/command_runner.h"
#include "util/fs.h"

// `pa-gen exec`: runs the members of one batch that need work as one dbt
// invocation, decides per node from that invocation's run_results.json,
// records each node's outcome in the batch's state, and writes the stamp
// only when every member succeeded. When no member needs work it starts no
// dbt and leaves the stamp alone (the edge has restat). Returns the exit
// code: 0 success, 1 the batch failed, 2 the plan is unusable. Failures are
// reported on stderr, one line per failed node.
// dbt runs through `runner`.
int RunBatch(CommandRunner& runner, const fs::path& plan_file, const std::string& digest, const std::string& batch_name);
