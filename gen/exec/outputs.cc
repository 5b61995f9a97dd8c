#include "exec/outputs.h"

#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "plan/layout.h"
#include "plan/plan_json.h"

namespace {

// The build files in .pa/outputs, as written.
std::set<std::string> RecordedOutputs(Disk& disk, const fs::path& project_dir) {
  std::string text, ignored;
  std::set<std::string> outputs;
  if (!disk.ReadFile(OutputsFile(project_dir), &text, &ignored)) return outputs;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) outputs.insert(line);
  return outputs;
}

// Absolute, normal, with no trailing '/' ("dir/." is "dir").
std::string Normal(const fs::path& path) {
  fs::path normal = fs::absolute(path).lexically_normal();
  return (normal.has_filename() ? normal : normal.parent_path()).string();
}

// The plan of `output`, when it is still there and builds `project_dir`.
bool LivePlan(Disk& disk, const fs::path& project_dir, const fs::path& output, Plan* plan) {
  std::string ignored;
  if (!disk.Exists(output) || !LoadPlan(disk, PlanFile(output), plan, &ignored)) return false;
  return Normal(output.parent_path() / plan->project_dir) == Normal(project_dir);
}

// Each node's batch; a batch split node by node as the batch it was part of.
std::map<std::string, std::string> NodeGroups(const Plan& plan) {
  std::map<std::string, std::string> groups;
  for (const PlanBatch& batch : plan.batches)
    for (const PlanMember& m : batch.members)
      groups[m.unique_id] = batch.split_from.empty() ? batch.name : batch.split_from;
  return groups;
}

}  // namespace

bool CheckOtherOutputs(Disk& disk, const fs::path& project_dir, const fs::path& output, const Plan& plan,
                       std::string* err) {
  // Made only when another build file is there: usually the list holds
  // this one alone, and the map of 30,000 nodes cost 2-3% of a generation.
  std::optional<std::map<std::string, std::string>> our_groups;
  for (const std::string& other : RecordedOutputs(disk, project_dir)) {
    if (other == Normal(output)) continue;
    Plan theirs_plan;
    if (!LivePlan(disk, project_dir, other, &theirs_plan)) continue;
    if (!our_groups) our_groups = NodeGroups(plan);
    const std::map<std::string, std::string>& ours = *our_groups;
    const std::map<std::string, std::string> theirs = NodeGroups(theirs_plan);
    if (theirs == ours) continue;
    // The first node batched otherwise, for the message.
    auto group_in = [](const std::map<std::string, std::string>& groups, const std::string& id) {
      auto it = groups.find(id);
      return it == groups.end() ? std::string("(none)") : it->second;
    };
    std::set<std::string> ids;
    for (const auto* groups : {&ours, &theirs})
      for (const auto& [id, group] : *groups) ids.insert(id);
    std::string node, there, here;
    for (const std::string& id : ids) {
      if (group_in(ours, id) == group_in(theirs, id)) continue;
      node = id, here = group_in(ours, id), there = group_in(theirs, id);
      break;
    }
    *err = fmt::format(
        "{} also builds {} with other batches ({} is in batch {} there, {} here); the two share "
        "its .pa/ state and stamps, so each would make the other rebuild: generate both with the "
        "same --policy, --policy-file, --max-batch-size, --select and --exclude, or delete {}",
        other, Normal(project_dir), node, there, here, other);
    return false;
  }
  return true;
}

bool RecordOutput(Disk& disk, const fs::path& project_dir, const fs::path& output, std::string* err) {
  std::set<std::string> outputs = {Normal(output)};
  for (const std::string& other : RecordedOutputs(disk, project_dir)) {
    // Not our own plan, just written: reading it again cost a third of
    // regenerating from a 98 MB manifest (a 15 MB plan).
    if (outputs.count(other)) continue;
    Plan plan;
    if (LivePlan(disk, project_dir, other, &plan)) outputs.insert(other);
  }
  std::string text;
  for (const std::string& path : outputs) text += path + "\n";
  bool changed = false;
  return disk.WriteFileIfChanged(OutputsFile(project_dir), text, &changed, err);
}
