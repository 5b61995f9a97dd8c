#pragma once

#include <string>
#include <vector>

#include "util/fs.h"

// `pa-gen status`: for every node of the plan, whether the next `ninja`
// runs it and why, in the order the batches run. Returns the exit code.
int PrintStatus(const fs::path& plan_file);

// `pa-gen forget [--full-refresh] [NAME...]`: makes the named batches or
// nodes (by batch name, node name or unique_id; none: everything) count as
// never built, so the next `ninja` rebuilds them and what depends on them;
// with `full_refresh` their next dbt run adds --full-refresh.
int Forget(const fs::path& plan_file, const std::vector<std::string>& names, bool full_refresh);
