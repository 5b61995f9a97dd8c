#pragma once

#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "group/batch_settings.h"
#include "group/partition.h"

// The CPU of a node whose CPU was never measured (no history, or history
// from a runner that reports none): about what a 500-model build measured
// per node (a batch of 125 models and 125 tests kept one core busy for
// ~6.5 s: 26 ms a node; bench/results/cases-500.md,
// layered-500-cost50ms-postgres; 36-40 ms by bench/pg_cpu.py).
inline constexpr double kUnknownNodeCpuSeconds = 0.03;
// A guess for nodes without history: a tiny model, whose time on its dbt
// thread is mostly waiting for the interpreter while the process's other
// threads run their Python. Four times its CPU (dbt's 4 threads, the
// profile's assumed count): a batch is as busy as one core keeps it, as the
// 500-model PostgreSQL folder batches were (250 nodes over 9 s on 4
// threads: 0.144 s a node, bench/results/postgres-500.md). It used to be
// 0.3 s, which made a node wait on the database for 90% of its time, so
// that from nothing `auto` saw 4 processes on 2 cores as free and cut the
// folders in 4 where 2 measured faster (issue 15).
inline constexpr double kUnknownNodeSeconds = 4 * kUnknownNodeCpuSeconds;
// A batch's fixed cost when none was measured: a dbt child of the warm
// resident worker (gen/worker) from its fork to its first node and after
// its last, measured as a batch's wall time less its nodes' (0.5-0.96 s in
// bench/results/cases-500.md: the folder batches and the edited leaf's
// batch, on DuckDB and PostgreSQL). A cold worker's import (1.4-1.8 s) is
// paid once per build, not per batch.
inline constexpr double kDefaultStartupSeconds = 0.9;

// What a build costs, as pa-gen has seen it: each node's last execution
// time, the part of it that was the dbt process's own CPU (Python: Jinja,
// the materialization, the adapter; the rest waits on the database), and
// the fixed cost of one dbt process (start-up, before its first node).
struct CostModel {
  std::vector<double> node_seconds;      // per graph node, wall time on its dbt thread
  std::vector<double> node_cpu_seconds;  // per graph node, of which CPU; empty: none
  double startup_seconds = kDefaultStartupSeconds;  // one dbt process before its first node
  int jobs = 1;                      // batches Ninja runs side by side (-j; 1 on DuckDB)
  // CPU cores the dbt processes share (std::thread::hardware_concurrency);
  // 0: no limit. The database server's own CPU is not counted.
  int cores = 0;
  int threads = 1;                   // dbt threads of a batch that sets none
  std::map<std::string, int> pools;  // Ninja pools (policy file): name -> depth
  // on-run-start and on-run-end hooks (the root project's and every
  // package's): every dbt process runs all of them, so once per batch.
  int hooks = 0;
  double hook_seconds = 0.3;         // each, one after the other
};

struct Prediction {
  double seconds = 0;                 // the whole build, start to end
  // Per batch, alone on the machine: start-up, hooks, its nodes on its threads.
  std::vector<double> batch_seconds;
  std::vector<double> batch_cpu_seconds;  // per batch: start-up and its nodes' CPU
  std::vector<int> critical_path;     // batch indices, upstream first
  // Two bounds no schedule of these batches beats, `seconds` included:
  // the critical path's batches one after the other, each alone; and all
  // batches' CPU (batch_cpu_seconds) spread over `cost.cores` (0: no
  // cores limit). The larger says what limits the build.
  double critical_path_seconds = 0;
  double cpu_bound_seconds = 0;
};

// Simulates the build. A batch alone takes its start-up, its hooks, and
// for its nodes the longer of two: the nodes list-scheduled on its dbt
// threads, and their CPU one after the other. A dbt process runs its
// Python on about one core (the interpreter's lock), so threads overlap
// only the waits on the database. The batches are list-scheduled on `jobs`
// slots in dependency order, the batch with the longest path to the end
// first; a batch in a pool of `cost.pools` also waits for a free place in
// its pool, as under Ninja. Batches side by side share `cost.cores`: each
// wants its CPU over its time alone (at most one core); when they want
// more than there is, the cores are shared out evenly (a batch that wants
// less than its share gets what it wants) and each goes slower in
// proportion.
Prediction PredictBuild(const Graph& graph, const Partition& partition,
                        const std::vector<BatchSettings>& settings, const CostModel& cost);
