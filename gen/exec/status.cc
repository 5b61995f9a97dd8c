#include "exec/status.h"

#include <cstdio>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "exec/split.h"
#include "exec/state.h"
#include "exec/work.h"
#include "plan/layout.h"
#include "plan/plan.h"
#include "plan/plan_json.h"

namespace {

fs::path ProjectOf(const fs::path& plan_file, const Plan& plan) {
  return (fs::absolute(plan_file).parent_path() / plan.project_dir).lexically_normal();
}

// The failures of `plan` since `since`, and the split batches.
void PrintFailures(Disk& disk, const Plan& plan, const fs::path& project, StateCache* states,
                   long long since, std::FILE* out) {
  fs::path here = fs::current_path();
  auto shown = [&](const fs::path& file) { return RelativePath(project / file, here); };
  std::vector<std::string> lines;
  int failed = 0;
  int skipped = 0;
  for (const PlanBatch* batch : RunOrder(plan)) {
    std::string err;
    const BatchState* state = states->Get(batch->name, &err);
    if (!state) continue;
    int not_run = 0;
    for (const PlanMember& m : batch->members) {
      auto it = state->find(m.unique_id);
      if (it == state->end()) continue;
      const NodeState& s = it->second;
      if (s.status.empty() || s.Succeeded() || s.ran_at < since) continue;
      if (s.status == "skipped") {
        ++skipped;
      } else if (s.status == "not run") {
        ++not_run;
      } else {
        ++failed;
        lines.push_back(fmt::format("  FAILED {} ({}) in batch {}: {} [log: {}]", m.unique_id,
                                    s.status, batch->name, s.message.empty() ? "(no message)" : s.message,
                                    shown(RunLogFile(RunDir(batch->name)))));
      }
    }
    if (not_run > 0)
      lines.push_back(fmt::format("  batch {}: {} node{} not run: dbt was stopped or failed to start [output: {}]",
                                  batch->name, not_run, not_run == 1 ? "" : "s",
                                  shown(RunOutputFile(RunDir(batch->name)))));
  }
  if (lines.empty()) return;
  fmt::print(out, "pa-gen: {} node{} failed, {} skipped because of them:\n", failed,
             failed == 1 ? "" : "s", skipped);
  for (const std::string& line : lines) fmt::print(out, "{}\n", line);
  std::set<std::string> split = SplitMarkers(disk, project);
  if (!split.empty()) {
    fmt::print(out, "pa-gen: run node by node until all their nodes succeed: {}\n",
               fmt::join(split, ", "));
  }
}

}  // namespace

void PrintFailures(const fs::path& plan_file, long long since) {
  RealDisk disk;
  std::string err;
  Plan plan;
  if (!LoadPlan(disk, plan_file, &plan, &err)) return;  // generation failed and said why
  StateCache states(disk, ProjectOf(plan_file, plan));
  PrintFailures(disk, plan, ProjectOf(plan_file, plan), &states, since, stderr);
}

int PrintStatus(Disk& disk, const fs::path& plan_file) {
  std::string err;
  Plan plan;
  if (!LoadPlan(disk, plan_file, &plan, &err)) {
    fmt::print(stderr, "pa-gen: {}\n", err);
    return 2;
  }
  StateCache states(disk, ProjectOf(plan_file, plan));
  std::set<std::string> rebuilding;
  size_t nodes = 0;
  std::set<std::string> batches;
  for (const PlanBatch* batch : RunOrder(plan)) {
    std::vector<MemberWork> work;
    if (!DecideWork(*batch, &states, rebuilding, &work, &err)) {
      fmt::print(stderr, "pa-gen: {}\n", err);
      return 2;
    }
    for (size_t i = 0; i < work.size(); ++i) {
      const PlanMember& m = batch->members[i];
      fmt::print("{:<24} {:<60} {}\n", batch->name, m.unique_id, work[i].why);
      if (!work[i].needed) continue;
      rebuilding.insert(m.unique_id);
      batches.insert(batch->name);
      ++nodes;
    }
  }
  fmt::print("{} of {} batches and {} nodes would run\n", batches.size(), plan.batches.size(), nodes);
  PrintFailures(disk, plan, ProjectOf(plan_file, plan), &states, 0, stdout);
  return 0;
}

int Forget(const fs::path& plan_file, const std::vector<std::string>& names, bool full_refresh) {
  RealDisk disk;
  std::string err;
  Plan plan;
  if (!LoadPlan(disk, plan_file, &plan, &err)) {
    fmt::print(stderr, "pa-gen: {}\n", err);
    return 2;
  }
  fs::path project = ProjectOf(plan_file, plan);
  std::set<std::string> wanted(names.begin(), names.end());
  std::set<std::string> matched;
  int forgotten = 0;
  for (const PlanBatch& batch : plan.batches) {
    fs::path file = StateFile(project, batch.name);
    BatchState state;
    if (!LoadBatchState(disk, file, &state, &err)) {
      fmt::print(stderr, "pa-gen: {}\n", err);
      return 2;
    }
    bool touched = false;
    for (const PlanMember& m : batch.members) {
      std::string name = m.selector.substr(m.selector.rfind('.') + 1);
      const std::string* hit = nullptr;
      for (const std::string* key : {&batch.name, static_cast<const std::string*>(&name), &m.unique_id})
        if (wanted.count(*key)) hit = key;
      if (!wanted.empty() && !hit) continue;
      if (hit) matched.insert(*hit);
      NodeState& s = state[m.unique_id];
      s.status.clear();
      s.full_refresh = full_refresh;
      touched = true;
      ++forgotten;
    }
    if (!touched) continue;
    if (!SaveBatchState(disk, file, state, &err)) {
      fmt::print(stderr, "pa-gen: {}\n", err);
      return 2;
    }
    disk.RemoveFile(project / StampPath(batch.name));  // so Ninja runs the batch
  }
  for (const std::string& name : wanted) {
    if (!matched.count(name)) {
      fmt::print(stderr, "pa-gen: {}: no batch or node named '{}'\n", plan_file.string(), name);
      return 2;
    }
  }
  fmt::print("pa-gen: forgot {} node{}{}; run ninja to rebuild them and what depends on them\n",
             forgotten, forgotten == 1 ? "" : "s", full_refresh ? " (with --full-refresh)" : "");
  return 0;
}
