#include "group/predict.h"

#include <gtest/gtest.h>

namespace {

// a -> b, a -> c; every node takes 1 s, dbt starts in 2 s.
struct Fixture {
  Graph graph;
  CostModel cost;
  Fixture() {
    graph.nodes.resize(3);
    graph.nodes[1].deps = {0};
    graph.nodes[2].deps = {0};
    cost.node_seconds = {1, 1, 1};
    cost.startup_seconds = 2;
  }
  Prediction Predict(const Partition& partition, int jobs, int threads) {
    cost.jobs = jobs;
    cost.threads = threads;
    return PredictBuild(graph, partition, std::vector<BatchSettings>(partition.batches.size()), cost);
  }
};

Partition PerNode() {
  Partition p;
  p.batches = {{"a", {0}, {}}, {"b", {1}, {0}}, {"c", {2}, {0}}};
  p.batch_of = {0, 1, 2};
  return p;
}

TEST(PredictBuild, BatchesPayStartUpAndShareTheSlots) {
  Fixture f;
  Prediction one_slot = f.Predict(PerNode(), 1, 1);
  EXPECT_DOUBLE_EQ(one_slot.seconds, 9);
  EXPECT_EQ(one_slot.batch_seconds, (std::vector<double>{3, 3, 3}));
  EXPECT_EQ(one_slot.critical_path, (std::vector<int>{0, 1}));
  EXPECT_DOUBLE_EQ(f.Predict(PerNode(), 2, 1).seconds, 6);
}

// A policy file's pool holds batches back as Ninja does, whatever -j allows;
// a pool it does not declare limits nothing.
TEST(PredictBuild, APoolLimitsBatchesSideBySide) {
  Fixture f;
  f.cost.jobs = 4;
  f.cost.threads = 1;
  std::vector<BatchSettings> settings = {{0, "warehouse"}, {0, "warehouse"}, {0, "warehouse"}};
  EXPECT_DOUBLE_EQ(PredictBuild(f.graph, PerNode(), settings, f.cost).seconds, 6);
  f.cost.pools = {{"warehouse", 1}};
  EXPECT_DOUBLE_EQ(PredictBuild(f.graph, PerNode(), settings, f.cost).seconds, 9);
  f.cost.pools = {{"warehouse", 2}};
  EXPECT_DOUBLE_EQ(PredictBuild(f.graph, PerNode(), settings, f.cost).seconds, 6);
  // Only b in the pool of depth 1: c still runs beside it.
  f.cost.pools = {{"warehouse", 1}};
  settings = {{0, ""}, {0, "warehouse"}, {0, ""}};
  EXPECT_DOUBLE_EQ(PredictBuild(f.graph, PerNode(), settings, f.cost).seconds, 6);
}

TEST(PredictBuild, ThreadsRunABatchsIndependentNodesSideBySide) {
  Fixture f;
  Partition single;
  single.batches = {{"all", {0, 1, 2}, {}}};
  single.batch_of = {0, 0, 0};
  EXPECT_DOUBLE_EQ(f.Predict(single, 1, 1).seconds, 5);
  EXPECT_DOUBLE_EQ(f.Predict(single, 1, 2).seconds, 4);
  std::vector<BatchSettings> settings = {{1, ""}};  // the batch's own threads win
  EXPECT_DOUBLE_EQ(PredictBuild(f.graph, single, settings, f.cost).seconds, 5);
}

// Issue 14 item 9: every batch's dbt runs every on-run-start/end hook.
TEST(PredictBuild, EveryBatchRunsTheHooks) {
  Fixture f;
  f.cost.hooks = 3;
  f.cost.hook_seconds = 0.5;
  Prediction one_slot = f.Predict(PerNode(), 1, 1);
  EXPECT_EQ(one_slot.batch_seconds, (std::vector<double>{4.5, 4.5, 4.5}));
  EXPECT_DOUBLE_EQ(one_slot.seconds, 13.5);
  Partition single;
  single.batches = {{"all", {0, 1, 2}, {}}};
  single.batch_of = {0, 0, 0};
  EXPECT_DOUBLE_EQ(f.Predict(single, 1, 1).seconds, 6.5);  // hooks once
}

// Issue 15: a dbt process runs its Python on one core, so its threads
// overlap only the nodes' waits on the database. a, b, c: 1 s each, of
// which 0.8 s CPU; on 2 threads the list schedule says 2 s, but the CPU
// one after the other takes 2.4 s.
TEST(PredictBuild, ABatchsCpuRunsOnOneCore) {
  Fixture f;
  f.cost.node_cpu_seconds = {0.8, 0.8, 0.8};
  Partition single;
  single.batches = {{"all", {0, 1, 2}, {}}};
  single.batch_of = {0, 0, 0};
  Prediction p = f.Predict(single, 1, 2);
  EXPECT_DOUBLE_EQ(p.batch_seconds[0], 2 + 2.4);
  EXPECT_DOUBLE_EQ(p.batch_cpu_seconds[0], 2 + 2.4);
  EXPECT_DOUBLE_EQ(p.seconds, 4.4);
  // Mostly waiting (0.2 s CPU a node): the threads' schedule stands.
  f.cost.node_cpu_seconds = {0.2, 0.2, 0.2};
  p = f.Predict(single, 1, 2);
  EXPECT_DOUBLE_EQ(p.batch_seconds[0], 4);
  EXPECT_DOUBLE_EQ(p.batch_cpu_seconds[0], 2.6);
}

// Batches side by side share the machine's cores. Per node: b and c run
// beside each other after a; each batch alone takes 3 s (2 s start-up and
// 1 s node), all of it CPU when the nodes are, so each wants one core.
TEST(PredictBuild, BatchesSideBySideShareTheCores) {
  Fixture f;
  f.cost.node_cpu_seconds = {1, 1, 1};
  f.cost.cores = 2;
  EXPECT_DOUBLE_EQ(f.Predict(PerNode(), 2, 1).seconds, 6);  // a core each
  // One core for two batches that each want one: both at half speed.
  f.cost.cores = 1;
  EXPECT_DOUBLE_EQ(f.Predict(PerNode(), 2, 1).seconds, 3 + 6);
  // No better than one slot, and never worse.
  EXPECT_DOUBLE_EQ(f.Predict(PerNode(), 1, 1).seconds, 9);
  // Nodes that wait on the database: b and c want (2 + 0) / 3 of a core
  // each, 4/3 together; one core shared evenly gives each 1/2 of a core,
  // speed 3/4: 4 s instead of 3.
  f.cost.node_cpu_seconds = {0, 0, 0};
  EXPECT_DOUBLE_EQ(f.Predict(PerNode(), 2, 1).seconds, 3 + 4);
  // 0 cores: no limit, as before the cores were counted.
  f.cost.cores = 0;
  EXPECT_DOUBLE_EQ(f.Predict(PerNode(), 2, 1).seconds, 6);
}

// A batch that wants little gets all it wants; the others share the rest.
// a alone, then b (all CPU: wants 1 core) beside c (0.5 s start-up, a 1 s
// node with no CPU: wants 1/3 of a core) on 1 core: c gets its third at
// full speed and ends at 1.5 s, b gets 2/3 of a core meanwhile (1 s of its
// 3 done) and then the whole core for its last 2 s.
TEST(PredictBuild, ABatchThatWantsLessThanItsShareGoesFullSpeed) {
  Fixture f;
  f.cost.startup_seconds = 0.5;
  f.cost.node_cpu_seconds = {1, 2.5, 0};
  f.cost.node_seconds = {1, 2.5, 1};
  f.cost.cores = 1;
  Prediction p = f.Predict(PerNode(), 2, 1);
  EXPECT_EQ(p.batch_seconds, (std::vector<double>{1.5, 3, 1.5}));
  EXPECT_DOUBLE_EQ(p.seconds, 1.5 + 1.5 + 2);
}

// The two bounds beside the schedule: the critical path alone (a, then b:
// 3 s each) and all CPU over the cores. With every node all CPU on one
// core, the CPU bound (9 s: three batches of 3 s) is the build; with two
// cores it is 4.5 s and the critical path (6 s) limits it; without a cores
// limit there is no CPU bound.
TEST(PredictBuild, BoundsAreTheCriticalPathAndTheCpuOverTheCores) {
  Fixture f;
  f.cost.node_cpu_seconds = {1, 1, 1};
  f.cost.cores = 1;
  Prediction p = f.Predict(PerNode(), 2, 1);
  EXPECT_DOUBLE_EQ(p.critical_path_seconds, 6);
  EXPECT_DOUBLE_EQ(p.cpu_bound_seconds, 9);
  EXPECT_DOUBLE_EQ(p.seconds, 9);
  f.cost.cores = 2;
  p = f.Predict(PerNode(), 2, 1);
  EXPECT_DOUBLE_EQ(p.critical_path_seconds, 6);
  EXPECT_DOUBLE_EQ(p.cpu_bound_seconds, 4.5);
  EXPECT_DOUBLE_EQ(p.seconds, 6);
  f.cost.cores = 0;
  EXPECT_DOUBLE_EQ(f.Predict(PerNode(), 2, 1).cpu_bound_seconds, 0);
}

}  // namespace
