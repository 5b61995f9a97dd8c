#pragma once

#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "group/batch_settings.h"
#include "group/partition.h"

// What a build costs, as pa-gen has seen it: each node's last execution
// time and the start-up of one dbt process (Python, adapter, parse).
struct CostModel {
  std::vector<double> node_seconds;  // per graph node
  double startup_seconds = 3.0;      // one dbt process before its first node
  int jobs = 1;                      // batches Ninja runs side by side (-j; 1 on DuckDB)
  int threads = 1;                   // dbt threads of a batch that sets none
  std::map<std::string, int> pools;  // Ninja pools (policy file): name -> depth
  // on-run-start and on-run-end hooks (the root project's and every
  // package's): every dbt process runs all of them, so once per batch.
  int hooks = 0;
  double hook_seconds = 0.3;         // each, one after the other
};

// A guess for nodes without history: a tiny model on a local warehouse.
inline constexpr double kUnknownNodeSeconds = 0.3;

struct Prediction {
  double seconds = 0;                 // the whole build, start to end
  std::vector<double> batch_seconds;  // per batch: start-up, hooks, its nodes on its threads
  std::vector<int> critical_path;     // batch indices, upstream first
};

// Simulates the build: each batch's nodes list-scheduled on its dbt threads,
// the batches list-scheduled on `jobs` slots in dependency order, the
// batch with the longest path to the end first; a batch in a pool of
// `cost.pools` also waits for a free place in its pool, as under Ninja.
Prediction PredictBuild(const Graph& graph, const Partition& partition,
                        const std::vector<BatchSettings>& settings, const CostModel& cost);
