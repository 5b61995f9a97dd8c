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

// The failures of `plan` since `since`, and the split batches; returns
// how many nodes did not succeed: failed, skipped because of a failure,
// and not run because their batch stopped or never started.
int PrintFailures(Disk& disk, const Plan& plan, const fs::path& project, StateCache* states,
                  long long since, bool count_pending, std::FILE* out) {
  fs::path here = fs::current_path();
  auto shown = [&](const fs::path& file) { return RelativePath(project / file, here); };
  std::vector<std::string> lines;
  int failed = 0;
  int skipped = 0;
  int stopped = 0;      // "not run": dbt was stopped or failed to start
  int not_started = 0;  // needs work, but its batch did not run dbt since `since`
  std::set<std::string> rebuilding;  // what the next ninja runs, as `pa-gen status` predicts
  for (const PlanBatch* batch : RunOrder(plan)) {
    std::string err;
    const BatchState* state = states->Get(batch->name, &err);
    if (!state) continue;
    std::vector<MemberWork> work;
    if (!DecideWork(*batch, states, rebuilding, &work, &err)) work.clear();
    int not_run = 0;
    for (size_t i = 0; i < batch->members.size(); ++i) {
      const PlanMember& m = batch->members[i];
      auto it = state->find(m.unique_id);
      const NodeState* s = it == state->end() ? nullptr : &it->second;
      bool needed = i < work.size() && work[i].needed;
      if (needed) rebuilding.insert(m.unique_id);
      if (!s || s->status.empty() || s->Succeeded() || s->ran_at < since) {
        if (count_pending && needed && !(s && s->ran_at >= since)) ++not_started;
        continue;
      }
      if (s->status == "skipped") {
        ++skipped;
      } else if (s->status == "not run") {
        ++not_run;
      } else {
        ++failed;
        lines.push_back(fmt::format("  FAILED {} ({}) in batch {}: {} [log: {}]", m.unique_id,
                                    s->status, batch->name, s->message.empty() ? "(no message)" : s->message,
                                    shown(RunLogFile(RunDir(batch->name)))));
      }
    }
    stopped += not_run;
    if (not_run > 0)
      lines.push_back(fmt::format("  batch {}: {} node{} not run: dbt was stopped or failed to start [output: {}]",
                                  batch->name, not_run, not_run == 1 ? "" : "s",
                                  shown(RunOutputFile(RunDir(batch->name)))));
  }
  if (lines.empty() && not_started == 0) return 0;
  std::string tail = not_started == 0 ? ""
                     : fmt::format(", {} not run (their batch stopped or did not start)", not_started);
  fmt::print(out, "pa-gen: {} node{} failed, {} skipped because of them{}:\n", failed,
             failed == 1 ? "" : "s", skipped, tail);
  for (const std::string& line : lines) fmt::print(out, "{}\n", line);
  std::set<std::string> split = SplitMarkers(disk, project);
  if (!split.empty()) {
    fmt::print(out, "pa-gen: run node by node until all their nodes succeed: {}\n",
               fmt::join(split, ", "));
  }
  return failed + skipped + stopped;
}

}  // namespace

int PrintFailures(Disk& disk, const fs::path& plan_file, long long since, bool count_pending) {
  std::string err;
  Plan plan;
  if (!LoadPlan(disk, plan_file, &plan, &err)) return 0;  // generation failed and said why
  StateCache states(disk, ProjectOf(plan_file, plan));
  return PrintFailures(disk, plan, ProjectOf(plan_file, plan), &states, since, count_pending, stderr);
}

int CheckBuild(Disk& disk, const fs::path& plan_file) {
  std::string err;
  Plan plan;
  if (!LoadPlan(disk, plan_file, &plan, &err)) {
    fmt::print(stderr, "pa-gen: {}\n", err);
    return 2;
  }
  fs::path project = ProjectOf(plan_file, plan);
  fs::path ok = project / BuildOkPath();
  StateCache states(disk, project);
  int failed = 0;
  int skipped = 0;
  for (const PlanBatch& batch : plan.batches) {
    const BatchState* state = states.Get(batch.name, &err);
    if (!state) {
      disk.RemoveFile(ok);
      fmt::print(stderr, "pa-gen: {}\n", err);
      return 1;
    }
    for (const PlanMember& m : batch.members) {
      auto it = state->find(m.unique_id);
      if (it != state->end() && it->second.Succeeded()) continue;
      ++(it != state->end() && it->second.status == "skipped" ? skipped : failed);
    }
  }
  if (failed + skipped == 0) {
    if (!disk.Touch(ok, &err)) {
      fmt::print(stderr, "pa-gen: {}\n", err);
      return 1;
    }
    return 0;
  }
  disk.RemoveFile(ok);  // so that the next ninja checks again
  fmt::print(stderr,
             "pa-gen: build failed: {} node{} failed or not built, {} skipped because of them "
             "(`pa-gen status` lists them)\n",
             failed, failed == 1 ? "" : "s", skipped);
  return 1;
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
  PrintFailures(disk, plan, ProjectOf(plan_file, plan), &states, 0, false, stdout);
  return 0;
}

int Forget(Disk& disk, const fs::path& plan_file, const std::vector<std::string>& names,
           bool full_refresh) {
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
    RemoveStamp(disk, project, batch.name);  // so Ninja runs the batch, and the check after it
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
