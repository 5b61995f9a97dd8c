#include "exec/batch_runner.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include <fmt/format.h>

#include "exec/run_results.h"
#include "manifest/dbt.h"
#include "util/process.h"
#include "write/plan.h"

namespace {

constexpr const char* kEmptySelectionIsError = R"({"error":["NoNodesForSelectionCriteria"]})";

// dbt's messages span lines ("Runtime Error in model x", then the database's
// error): one line each, for a terminal and for grep.
std::string OneLine(const std::string& text) {
  std::string line;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') {
      space = !line.empty();
      continue;
    }
    if (space) line.push_back(' ');
    space = false;
    line.push_back(c);
  }
  return line.empty() ? "(no message)" : line;
}

}  // namespace

int RunBatch(const fs::path& plan_file, const std::string& batch_name) {
  std::string err;
  Plan plan;
  if (!LoadPlan(plan_file, &plan, &err)) {
    fmt::print(stderr, "pa-gen: {}\n", err);
    return 2;
  }
  auto batch = std::find_if(plan.batches.begin(), plan.batches.end(),
                            [&](const PlanBatch& b) { return b.name == batch_name; });
  if (batch == plan.batches.end()) {
    fmt::print(stderr, "pa-gen: {}: no batch '{}'; run pa-gen again\n", plan_file.string(), batch_name);
    return 2;
  }
  fs::path project = (fs::absolute(plan_file).parent_path() / plan.project_dir).lexically_normal();
  fs::path run_dir = project / RunDir(batch->name);
  fs::path stamp = project / StampPath(batch->name);
  fs::path results_file = run_dir / "target" / "run_results.json";
  fs::path log_file = run_dir / "logs" / "dbt.log";
  std::error_code ec;
  // Results of an earlier run must never be read as this run's.
  fs::remove(results_file, ec);
  fs::create_directories(run_dir, ec);

  Subprocess dbt;
  dbt.argv = {plan.dbt.dbt.string(), "build", "--project-dir", project.string()};
  std::vector<std::string> shared = SharedDbtArgs(plan.dbt);
  dbt.argv.insert(dbt.argv.end(), shared.begin(), shared.end());
  if (plan.dbt.threads > 0) dbt.argv.insert(dbt.argv.end(), {"--threads", std::to_string(plan.dbt.threads)});
  dbt.argv.push_back("--select");
  dbt.argv.insert(dbt.argv.end(), batch->selectors.begin(), batch->selectors.end());
  dbt.argv.insert(dbt.argv.end(),
                  {"--indirect-selection", "cautious",
                   "--target-path", (run_dir / "target").string(),
                   "--log-path", (run_dir / "logs").string(),
                   "--partial-parse-file-path", (project / ".pa" / "parse" / "partial_parse.msgpack").string(),
                   "--warn-error-options", kEmptySelectionIsError});
  dbt.cwd = project;
  dbt.output = run_dir / "dbt.out";
  dbt.env = DbtEnvironment();
  int code = RunSubprocess(dbt, &err);
  if (code < 0) {
    fmt::print(stderr, "pa-gen: batch {}: {}\n", batch->name, err);
    return 1;
  }

  std::vector<NodeResult> results;
  std::string results_err;
  bool have_results = LoadRunResults(results_file, &results, &results_err);
  std::map<std::string, const NodeResult*> by_id;
  for (const NodeResult& r : results) by_id[r.unique_id] = &r;
  int failed = 0;
  int skipped = 0;
  for (const std::string& member : batch->members) {
    auto it = by_id.find(member);
    if (it != by_id.end() && IsSuccessStatus(it->second->status)) continue;
    ++failed;
    if (!have_results) continue;
    if (it == by_id.end()) {
      fmt::print(stderr, "pa-gen: FAILED {} (not run): dbt did not report it [log: {}]\n", member,
                 log_file.string());
    } else if (it->second->status == "skipped") {
      ++skipped;  // a consequence of another failure: counted, not listed
    } else {
      fmt::print(stderr, "pa-gen: FAILED {} ({}): {} [log: {}]\n", member, it->second->status,
                 OneLine(it->second->message), log_file.string());
    }
  }
  if (skipped > 0)
    fmt::print(stderr, "pa-gen: batch {}: {} more node{} skipped by dbt because of the above\n",
               batch->name, skipped, skipped == 1 ? "" : "s");
  if (code == 0 && failed == 0) {
    if (!Touch(stamp, &err)) {
      fmt::print(stderr, "pa-gen: batch {}: {}\n", batch->name, err);
      return 1;
    }
    return 0;
  }
  if (!have_results || failed == 0) {
    // dbt stopped before or after its nodes (bad profile, parse error, hook): say why.
    std::string output;
    ReadFile(dbt.output, &output, &err);
    fmt::print(stderr, "pa-gen: batch {} failed: dbt exited {}: {} [output: {}]\n", batch->name, code,
               DbtErrorSummary(output), dbt.output.string());
  }
  fs::remove(stamp, ec);
  return 1;
}
