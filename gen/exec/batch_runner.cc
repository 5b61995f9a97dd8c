#include "exec/batch_runner.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>

#include <fmt/format.h>

#include "exec/run_results.h"
#include "exec/state.h"
#include "exec/work.h"
#include "manifest/dbt.h"
#include "util/process.h"
#include "worker/worker_runner.h"
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

// Whether every member of every batch split from `group` has succeeded;
// `own` is the fresh state of batch `self`.
bool GroupSucceeded(const Plan& plan, const std::string& group, StateCache* states,
                    const std::string& self, const BatchState& own) {
  for (const PlanBatch& sibling : plan.batches) {
    if (sibling.group != group) continue;
    std::string err;
    const BatchState* state = sibling.name == self ? &own : states->Get(sibling.name, &err);
    if (!state) return false;
    for (const PlanMember& m : sibling.members) {
      auto it = state->find(m.unique_id);
      if (it == state->end() || !it->second.Succeeded()) return false;
    }
  }
  return true;
}

// Whether another batch waits for `name`: only then does splitting it let
// work go on. A batch nothing waits for reruns just its failed and skipped
// nodes in one dbt process anyway.
bool HasDownstream(const Plan& plan, const std::string& name) {
  for (const PlanBatch& other : plan.batches)
    for (const PlanMember& m : other.members)
      for (const auto& [dep_batch, dep_id] : m.deps)
        if (dep_batch == name && other.name != name) return true;
  return false;
}

}  // namespace

int RunBatch(const fs::path& plan_file, const std::string& digest, const std::string& batch_name) {
  std::string err;
  Plan plan;
  if (!LoadPlan(plan_file, &plan, &err)) {
    fmt::print(stderr, "pa-gen: {}\n", err);
    return 2;
  }
  const PlanBatch* batch = plan.Find(batch_name);
  if (!batch || batch->digest != digest) {
    fmt::print(stderr, "pa-gen: {}: {} batch '{}' of build.ninja; run pa-gen again\n",
               plan_file.string(), batch ? "out of date for" : "has no", batch_name);
    return 2;
  }
  fs::path project = (fs::absolute(plan_file).parent_path() / plan.project_dir).lexically_normal();
  fs::path stamp = project / StampPath(batch->name);
  fs::path state_file = StateFile(project, batch->name);

  StateCache states(project);
  std::vector<MemberWork> work;
  if (!DecideWork(*batch, &states, {}, &work, &err)) {
    fmt::print(stderr, "pa-gen: batch {}: {}\n", batch->name, err);
    return 1;
  }
  BatchState state = *states.Get(batch->name, &err);
  std::vector<const PlanMember*> selected;
  bool full_refresh = false;
  for (size_t i = 0; i < work.size(); ++i) {
    if (!work[i].needed) continue;
    selected.push_back(&batch->members[i]);
    if (auto it = state.find(batch->members[i].unique_id); it != state.end())
      full_refresh = full_refresh || it->second.full_refresh;
  }
  if (selected.empty()) {
    // Nothing to run: keep the stamp's time so Ninja prunes what follows.
    if (!fs::exists(stamp) && !Touch(stamp, &err)) {
      fmt::print(stderr, "pa-gen: batch {}: {}\n", batch->name, err);
      return 1;
    }
    if (!batch->group.empty() && GroupSucceeded(plan, batch->group, &states, batch->name, state))
      SetSplitMarker(project, batch->group, false);  // the next regeneration merges it back
    return 0;
  }

  fs::path run_dir = project / RunDir(batch->name);
  fs::path results_file = run_dir / "target" / "run_results.json";
  fs::path log_file = run_dir / "logs" / "dbt.log";
  std::error_code ec;
  fs::create_directories(run_dir, ec);

  Subprocess dbt;
  dbt.argv = {plan.dbt.dbt.string(), "build", "--project-dir", project.string()};
  std::vector<std::string> shared = SharedDbtArgs(plan.dbt);
  dbt.argv.insert(dbt.argv.end(), shared.begin(), shared.end());
  if (int threads = batch->threads > 0 ? batch->threads : plan.dbt.threads; threads > 0)
    dbt.argv.insert(dbt.argv.end(), {"--threads", std::to_string(threads)});
  if (full_refresh) dbt.argv.push_back("--full-refresh");
  dbt.argv.push_back("--select");
  for (const PlanMember* m : selected) dbt.argv.push_back(m->selector);
  dbt.argv.insert(dbt.argv.end(),
                  {"--indirect-selection", "cautious",
                   "--target-path", (run_dir / "target").string(),
                   "--log-path", (run_dir / "logs").string(),
                   "--log-format-file", "json",
                   "--partial-parse-file-path", (project / ".pa" / "parse" / "partial_parse.msgpack").string(),
                   "--warn-error-options", kEmptySelectionIsError});
  dbt.cwd = project;
  dbt.output = run_dir / "dbt.out";
  dbt.env = DbtEnvironment();
  dbt.timeout_seconds = plan.dbt.batch_timeout;
  SubprocessResult run;
  std::string output;
  double wall = 0;
  for (int attempt = 0;; ++attempt) {
    // Results of an earlier run must never be read as this run's.
    fs::remove(results_file, ec);
    fs::remove(log_file, ec);
    auto started = std::chrono::steady_clock::now();
    if (!DbtCommandRunner().Run(dbt, &run, &err)) {
      fmt::print(stderr, "pa-gen: batch {}: {}\n", batch->name, err);
      return 1;
    }
    wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    output.clear();
    ReadFile(dbt.output, &output, &err);
    if (run.exit_code == 0 || run.timed_out || run.interrupted_by || attempt >= plan.dbt.retries ||
        !IsTransientFailure(output))
      break;
    int wait = 1 << attempt;  // 1 s, 2 s, 4 s, ...
    fmt::print(stderr, "pa-gen: batch {}: {}; retrying in {} s ({} of {})\n", batch->name,
               DbtErrorSummary(output), wait, attempt + 1, plan.dbt.retries);
    sleep(wait);
  }
  int code = run.exit_code;
  long long finished = NowNs();

  std::vector<NodeResult> results;
  std::string results_err;
  double elapsed = 0;
  bool have_results = LoadRunResults(results_file, &results, &results_err, &elapsed);
  if (have_results && elapsed > 0 && wall > elapsed) SaveStartupSeconds(project, wall - elapsed);
  // Killed before the end (timeout, signal, crash): dbt's log still tells
  // which nodes finished, and those are not run again.
  if (!have_results) LoadFinishedFromLog(log_file, &results, &results_err);
  std::map<std::string, const NodeResult*> by_id;
  for (const NodeResult& r : results) by_id[r.unique_id] = &r;

  // Record every selected node's outcome, also when the batch fails: what
  // succeeded is not run again.
  int failed = 0;
  int skipped = 0;
  for (const PlanMember* m : selected) {
    auto it = by_id.find(m->unique_id);
    NodeState& s = state[m->unique_id];
    s.fingerprint = m->fingerprint;
    s.full_refresh = false;
    s.ran_at = finished;
    s.seconds = it == by_id.end() ? 0 : it->second->execution_time;
    if (it != by_id.end() && IsSuccessStatus(it->second->status)) {
      s.status = it->second->status;
      s.message.clear();
      s.built_at = finished;
      continue;
    }
    ++failed;
    s.status = it == by_id.end() ? "not run" : it->second->status;
    s.message = it == by_id.end() ? "" : OneLine(it->second->message);
    if (!have_results) continue;
    if (it == by_id.end()) {
      fmt::print(stderr, "pa-gen: FAILED {} (not run): dbt did not report it [log: {}]\n",
                 m->unique_id, log_file.string());
    } else if (s.status == "skipped") {
      ++skipped;  // a consequence of another failure: counted, not listed
    } else {
      fmt::print(stderr, "pa-gen: FAILED {} ({}): {} [log: {}]\n", m->unique_id, s.status,
                 s.message, log_file.string());
    }
  }
  // Only this batch's members stay: nodes that left it are dropped.
  BatchState kept;
  for (const PlanMember& m : batch->members)
    if (auto it = state.find(m.unique_id); it != state.end()) kept.insert(*it);
  if (!SaveBatchState(state_file, kept, &err)) {
    fmt::print(stderr, "pa-gen: batch {}: {}\n", batch->name, err);
    return 1;
  }
  if (skipped > 0)
    fmt::print(stderr, "pa-gen: batch {}: {} more node{} skipped by dbt because of the above\n",
               batch->name, skipped, skipped == 1 ? "" : "s");
  if (code == 0 && failed == 0) {
    if (!Touch(stamp, &err)) {
      fmt::print(stderr, "pa-gen: batch {}: {}\n", batch->name, err);
      return 1;
    }
    if (!batch->group.empty() && GroupSucceeded(plan, batch->group, &states, batch->name, kept))
      SetSplitMarker(project, batch->group, false);  // the next regeneration merges it back
    return 0;
  }
  // A node failed on its own account (not a timeout, a signal or a held lock):
  // run the batch node by node until it has succeeded, so that what waits
  // for its other nodes can go on.
  if (failed > 0 && have_results && !run.timed_out && !run.interrupted_by &&
      !IsTransientFailure(output) && batch->group.empty() && batch->members.size() > 1 &&
      HasDownstream(plan, batch->name)) {
    SetSplitMarker(project, batch->name, true);
    fmt::print(stderr, "pa-gen: batch {}: the next ninja runs its nodes one by one\n", batch->name);
  }
  if (run.timed_out) {
    fmt::print(stderr, "pa-gen: batch {} timed out after {} s (--batch-timeout); its dbt processes were killed [output: {}]\n",
               batch->name, plan.dbt.batch_timeout, dbt.output.string());
  } else if (run.interrupted_by) {
    fmt::print(stderr, "pa-gen: batch {} interrupted (signal {}); dbt was stopped\n", batch->name,
               run.interrupted_by);
  } else if (!have_results || failed == 0) {
    // dbt stopped before or after its nodes (bad profile, parse error, hook): say why.
    fmt::print(stderr, "pa-gen: batch {} failed: dbt exited {}: {} [output: {}]\n", batch->name, code,
               DbtErrorSummary(output), dbt.output.string());
  }
  fs::remove(stamp, ec);
  return 1;
}
