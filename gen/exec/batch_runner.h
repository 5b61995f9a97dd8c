#pragma once

#include <string>

#include "util/fs.h"

// `pa-gen exec`: runs one batch of the plan as one dbt invocation, decides
// per node from that invocation's run_results.json, and writes the batch's
// stamp only when every member succeeded. Returns the process exit code:
// 0 success, 1 the batch failed, 2 the plan is unusable. Failures are
// reported on stderr, one line per failed node.
int RunBatch(const fs::path& plan_file, const std::string& batch_name);
