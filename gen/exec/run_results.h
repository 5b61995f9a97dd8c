#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "util/disk.h"
#include "util/fs.h"

// One entry of dbt's run_results.json.
struct NodeResult {
  std::string unique_id;
  std::string status;   // success, error, skipped, pass, fail, warn, ...
  std::string message;  // may be empty
  double execution_time = 0;
};

// `elapsed_seconds`, when given, receives dbt's elapsed_time: the run from
// its first node on, without dbt's start-up. `doc`, when given, keeps the
// parsed file for a caller that uses it again (a batch's 4,001 results
// take 50 ms to parse).
bool LoadRunResults(Disk& disk, const fs::path& path, std::vector<NodeResult>* results, std::string* err,
                    double* elapsed_seconds = nullptr, nlohmann::json* doc = nullptr);

// The nodes a dbt run finished, from its JSON log (`--log-format-file json`):
// what survives when dbt is killed before it writes run_results.json. Lines
// that do not parse (the last one, cut by a kill) are skipped.
bool LoadFinishedFromLog(Disk& disk, const fs::path& log, std::vector<NodeResult>* results, std::string* err);

// Whether dbt counts the status as done: `dbt build` does not stop for a warning.
bool IsSuccessStatus(const std::string& status);
