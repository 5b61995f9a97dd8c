#pragma once

#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "group/batch_settings.h"
#include "group/partition.h"
#include "manifest/dbt.h"
#include "plan/selectors.h"

// What `pa-gen exec` runs, written beside build.ninja so that no selection
// list ever goes on a command line.
struct PlanMember {
  std::string unique_id;
  std::string selector;     // dotted fqn, as dbt selects it exactly
  std::string fingerprint;  // the node's fingerprint mixed with the dbt settings
  std::vector<std::pair<std::string, std::string>> deps;  // (batch, unique_id) of parents
};

struct PlanBatch {
  std::string name;
  std::string digest;  // of the members and their fingerprints; also in build.ninja
  std::vector<PlanMember> members;  // sorted by unique_id
  std::string group = "";  // a batch split node by node: the batch it was part of
  int threads = 0;         // dbt --threads for this batch; 0: the plan's
};

struct Plan {
  std::string project_dir;  // relative to the folder that holds the plan
  DbtSettings dbt;
  std::vector<PlanBatch> batches;  // sorted by name
  // Every node a fqn selector can match, so that exec can select the members
  // that need work with few selectors (plan/selectors.h). Empty in a plan
  // written before it: then each member is selected by its own selector.
  std::vector<SelectableNode> selectable;

  const PlanBatch* Find(const std::string& batch) const;
};

// The plan's file name, beside build.ninja.
inline constexpr const char* kPlanFileName = ".pa-plan.json";

std::string PlanToJson(const Plan& plan);
bool LoadPlan(const fs::path& path, Plan* plan, std::string* err);

// Where each batch keeps its files, relative to the project folder.
fs::path StampPath(const std::string& batch);  // .pa/stamps/<batch>.stamp
fs::path RunDir(const std::string& batch);     // .pa/run/<batch>/

// `settings_digest` covers what changes every node's result: dbt version,
// profile, target, vars. `batch_settings` is per batch of the partition.
Plan MakePlan(const std::string& project_dir, const DbtSettings& dbt,
              const std::string& settings_digest, const Graph& graph,
              const Partition& partition, const std::vector<BatchSettings>& batch_settings);
