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

}  // namespace
