#pragma once

#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "group/partition.h"
#include "group/policy.h"

// How one batch's dbt runs.
struct BatchSettings {
  int threads = 0;   // dbt --threads; 0: the profile's
  std::string pool;  // Ninja pool; "": none (DuckDB batches always share "duckdb")
};

// Each batch's settings: those of its group in the policy file (`groups`,
// from GroupKeys), else the policy's defaults. Threads default to the
// batch's width, the most members that can run side by side, capped by
// `max_threads` (--threads); without --threads the profile's count stands.
std::vector<BatchSettings> SettingsOfBatches(const Policy& policy,
                                             const std::map<std::string, GroupSettings>& groups,
                                             const std::vector<std::string>& keys,
                                             const Graph& graph, const Partition& partition,
                                             int max_threads);

// Per batch, the most non-test members that can run side by side: its
// members per topological generation within the batch, at the widest.
std::vector<int> BatchWidths(const Graph& graph, const Partition& partition);
