#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"
#include "group/batch_settings.h"
#include "group/partition.h"
#include "plan/layout.h"
#include "plan/plan.h"
#include "plan/plan_json.h"

// The plan of one generation: each batch of the partition with its members,
// their fingerprints, their parents' batches and its upstream batches.
// `settings_digest` covers what changes every node's result: dbt version,
// profile, target, vars. `batch_settings` is per batch of the partition.
Plan MakePlan(const std::string& project_dir, const DbtSettings& dbt,
              const std::string& settings_digest, const Graph& graph,
              const Partition& partition, const std::vector<BatchSettings>& batch_settings);
