#include "exec/split.h"

#include "dbt/dbt.h"
#include "exec/batch_runner.h"
#include "exec/work.h"
#include "plan/layout.h"

std::set<std::string> SplitMarkers(Disk& disk, const fs::path& project_dir) {
  std::vector<std::string> names = disk.ListDir(SplitDir(project_dir));
  return {names.begin(), names.end()};
}

void SetSplitMarker(Disk& disk, const fs::path& project_dir, const std::string& batch, bool split) {
  std::string ignored;
  if (split) disk.Touch(SplitDir(project_dir) / batch, &ignored);
  else disk.RemoveFile(SplitDir(project_dir) / batch);
}

namespace {

bool AllSucceeded(const std::vector<std::string>& ids, const BatchState& state) {
  for (const std::string& id : ids) {
    auto it = state.find(id);
    if (it == state.end() || !it->second.Succeeded()) return false;
  }
  return true;
}

// Whether every member of every batch split from `group` has succeeded;
// `own` is the fresh state of batch `self`.
bool GroupSucceeded(const Plan& plan, const std::string& group, StateCache* states,
                    const std::string& self, const BatchState& own) {
  for (const PlanBatch& sibling : plan.batches) {
    if (sibling.split_from != group) continue;
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

}  // namespace

SplitChoice ChooseSplits(const std::set<std::string>& markers,
                         const std::map<std::string, std::vector<std::string>>& batches,
                         const BatchState& state) {
  SplitChoice choice;
  for (const std::string& name : markers) {
    auto batch = batches.find(name);
    bool done = batch == batches.end() || AllSucceeded(batch->second, state);
    (done ? choice.merged : choice.split).insert(name);
  }
  return choice;
}

void MergeBackWhenDone(Disk& disk, const fs::path& project, const Plan& plan,
                       const PlanBatch& batch, StateCache* states, const BatchState& own) {
  if (!batch.split_from.empty() && GroupSucceeded(plan, batch.split_from, states, batch.name, own))
    SetSplitMarker(disk, project, batch.split_from, false);
}
