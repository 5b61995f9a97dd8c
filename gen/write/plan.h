#pragma once

#include <string>
#include <vector>

#include "manifest/dbt.h"

// What `pa-gen exec <batch>` runs, written beside build.ninja so that no
// selection list ever goes on a command line.
struct PlanBatch {
  std::string name;
  std::vector<std::string> selectors;  // dotted fqns, as dbt selects them exactly
  std::vector<std::string> members;    // unique_ids; each must succeed for the stamp
};

struct Plan {
  std::string project_dir;  // relative to the folder that holds the plan
  DbtSettings dbt;
  std::vector<PlanBatch> batches;  // sorted by name
};

// The plan's file name, beside build.ninja.
inline constexpr const char* kPlanFileName = ".pa-plan.json";

std::string PlanToJson(const Plan& plan);
bool LoadPlan(const fs::path& path, Plan* plan, std::string* err);

// Where each batch keeps its files, relative to the project folder.
fs::path StampPath(const std::string& batch);  // .pa/stamps/<batch>.stamp
fs::path RunDir(const std::string& batch);     // .pa/run/<batch>/

#include "graph/graph.h"
#include "group/partition.h"

Plan MakePlan(const std::string& project_dir, const DbtSettings& dbt, const Graph& graph,
              const Partition& partition);
