#include "exec/merged_results.h"

#include <map>
#include <set>
#include <ctime>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "plan/layout.h"

using nlohmann::json;

namespace {

// The flags pa-gen adds to a batch's `dbt build` (exec/batch_runner.cc):
// replayed by `dbt retry`, they would select one batch's folders, read
// pa-gen's partial parse, or write pa-gen's log format.
const char* const kBatchOnlyArgs[] = {
    "select", "indirect_selection", "log_format_file", "partial_parse_file_path",
    "warn_error_options", "target_path", "log_path", "full_refresh", "threads",
};

json Parse(const std::string& text) {
  if (text.empty()) return json();
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

json OwnEntry(const NodeResult& r) {
  return {{"status", r.status},
          {"timing", json::array()},
          {"thread_id", "pa-gen"},
          {"execution_time", r.execution_time},
          {"adapter_response", json::object()},
          {"message", r.message.empty() ? json() : json(r.message)},
          {"failures", nullptr},
          {"unique_id", r.unique_id},
          {"compiled", nullptr},
          {"compiled_code", nullptr},
          {"relation_name", nullptr},
          {"batch_results", nullptr}};
}

}  // namespace

std::string MergeRunResults(const std::string& existing, BatchResults batch, const Plan& plan) {
  std::set<std::string> members;
  for (const PlanBatch& b : plan.batches)
    for (const PlanMember& m : b.members) members.insert(m.unique_id);

  json old = Parse(existing);
  if (!old.is_object() || !old.contains("results") || !old["results"].is_array()) old = json();
  std::map<std::string, json> by_id;  // sorted: the same results give the same file
  if (old.is_object())
    for (json& r : old["results"])
      if (r.is_object() && r.contains("unique_id") && r["unique_id"].is_string()) {
        std::string id = r["unique_id"].get<std::string>();  // before r is moved from
        by_id[id] = std::move(r);
      }

  json doc = old.is_object() ? old : json::object();
  double elapsed = doc.contains("elapsed_time") && doc["elapsed_time"].is_number()
                       ? doc["elapsed_time"].get<double>()
                       : 0.0;
  json& run = batch.dbt_run_results;
  if (run.is_object() && run.contains("results") && run["results"].is_array()) {
    for (json& r : run["results"])
      if (r.is_object() && r.contains("unique_id") && r["unique_id"].is_string()) {
        std::string id = r["unique_id"].get<std::string>();
        by_id[id] = std::move(r);
      }
    if (run.contains("metadata")) doc["metadata"] = run["metadata"];
    if (run.contains("elapsed_time") && run["elapsed_time"].is_number())
      elapsed += run["elapsed_time"].get<double>();
    if (run.contains("args") && run["args"].is_object()) {
      json args = run["args"];
      for (const char* key : kBatchOnlyArgs) args.erase(key);
      if (plan.dbt.threads > 0) args["threads"] = plan.dbt.threads;
      args["invocation_command"] = "pa-gen build (merged from the batches' dbt build runs)";
      doc["args"] = std::move(args);
    }
  }
  for (const NodeResult& r : batch.own) by_id[r.unique_id] = OwnEntry(r);

  json results = json::array();
  for (auto& [id, r] : by_id)
    if (members.count(id)) results.push_back(std::move(r));
  doc["results"] = std::move(results);
  doc["elapsed_time"] = elapsed;
  if (!doc.contains("metadata"))
    doc["metadata"] = {{"dbt_schema_version", "https://schemas.getdbt.com/dbt/run-results/v6.json"},
                       {"dbt_version", "unknown"},
                       {"generated_at", fmt::format("{:%Y-%m-%dT%H:%M:%S}Z",
                                                    fmt::gmtime(std::time(nullptr)))},
                       {"invocation_id", nullptr},
                       {"env", json::object()}};
  if (!doc.contains("args")) doc["args"] = {{"which", "build"}};
  return doc.dump(1) + "\n";
}

bool MergeIntoBuildResults(Disk& disk, const fs::path& project, const Plan& plan,
                           BatchResults batch, std::string* err) {
  FileLock lock;
  if (!disk.Lock(MergedRunResultsLockFile(project), &lock, [](const std::string&) {}, err))
    return false;
  fs::path file = MergedRunResultsFile(project);
  std::string existing, ignored;
  if (disk.Exists(file)) disk.ReadFile(file, &existing, &ignored);
  std::string merged;
  try {
    merged = MergeRunResults(existing, std::move(batch), plan);
  } catch (const std::exception& e) {  // nlohmann's: a message that is not UTF-8, say
    *err = fmt::format("{}: cannot merge this batch's results: {}", file.string(), e.what());
    return false;
  }
  bool changed = false;
  return disk.WriteFileIfChanged(file, merged, &changed, err);
}
