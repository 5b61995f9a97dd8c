#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "exec/run_results.h"
#include "plan/plan.h"
#include "util/disk.h"
#include "util/fs.h"

// One run_results.json for the whole build, in dbt's own schema, at
// .pa/run_results.json: every node's last result, merged from the batches'
// runs, so that `dbt retry --state .pa` and `dbt build --select
// result:error+ --state .pa` work on a pa-gen build. Each batch merges its
// run in (under .pa/locks/.run_results.lock, batches may run side by side):
// dbt's own entries for what dbt reported, entries of pa-gen's for members
// pa-gen skipped or dbt did not report. Entries of nodes that left the plan
// are dropped; the rest are kept, so a node up to date keeps the result of
// its last run. `metadata` and `args` are those of the last batch that ran
// dbt, with args as of a plain `dbt build` of the project (pa-gen's
// selection and per-batch paths removed), which `dbt retry` replays.

// What one batch adds: dbt's run_results.json, parsed (null when dbt wrote
// none; the merge moves its entries out), and results of pa-gen's own
// (skipped, or not reported by dbt).
struct BatchResults {
  nlohmann::json dbt_run_results;
  std::vector<NodeResult> own;
};

// Merges into `existing` (the merged file's text; "" or unreadable: start
// afresh) and returns the new text. Keeps only ids that are members of `plan`.
std::string MergeRunResults(const std::string& existing, BatchResults batch, const Plan& plan);

// Reads, merges and writes .pa/run_results.json under its lock. Errors are
// returned, not fatal: the batch's own state is what pa-gen relies on.
bool MergeIntoBuildResults(Disk& disk, const fs::path& project, const Plan& plan,
                           BatchResults batch, std::string* err);
