#include <gtest/gtest.h>

#include "plan/layout.h"
#include "plan/plan.h"
#include "plan/plan_json.h"
#include "util/topo.h"
#include "write/plan.h"
#include "util/disk.h"

static RealDisk real_disk;  // these tests read and write real files

namespace {

PlanBatch B(const std::string& name, std::vector<std::string> upstream) {
  PlanBatch b{name, "d", {}};
  b.upstream = std::move(upstream);
  return b;
}

std::vector<std::string> Names(const std::vector<const PlanBatch*>& order) {
  std::vector<std::string> out;
  for (const PlanBatch* b : order) out.push_back(b->name);
  return out;
}

TEST(RunOrder, UpstreamFirstThenPassesByName) {
  Plan plan;
  // a waits for c; b for nothing; c for nothing; d for a.
  plan.batches = {B("a", {"c"}), B("b", {}), B("c", {}), B("d", {"a"})};
  // First pass by name: b, c, d? no (a not done); second pass: a, d.
  EXPECT_EQ(Names(RunOrder(plan)), (std::vector<std::string>{"b", "c", "a", "d"}));
}

TEST(RunOrder, AReadyLaterBatchJoinsTheSamePass) {
  Plan plan;
  plan.batches = {B("a", {}), B("b", {"a"}), B("c", {"b"})};
  EXPECT_EQ(Names(RunOrder(plan)), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(RunOrder, ACycleLeavesItsBatchesOut) {
  Plan plan;
  plan.batches = {B("a", {}), B("b", {"c"}), B("c", {"b"})};
  EXPECT_EQ(Names(RunOrder(plan)), (std::vector<std::string>{"a"}));
}

TEST(Plan, HasDownstreamReadsUpstreamLists) {
  Plan plan;
  plan.batches = {B("a", {}), B("b", {"a"})};
  EXPECT_TRUE(HasDownstream(plan, "a"));
  EXPECT_FALSE(HasDownstream(plan, "b"));
}

TEST(Plan, UpstreamAndSplitFromRoundTrip) {
  Plan plan;
  plan.project_dir = ".";
  plan.batches = {B("a", {}), B("b.x", {"a"})};
  plan.batches[1].split_from = "b";
  std::string path = ::testing::TempDir() + "/pa_gen_plan_upstream.json";
  std::string err;
  bool changed = false;
  ASSERT_TRUE(WriteFileIfChanged(path, PlanToJson(plan), &changed, &err)) << err;
  Plan loaded;
  ASSERT_TRUE(LoadPlan(real_disk, path, &loaded, &err)) << err;
  EXPECT_EQ(loaded.batches[1].upstream, (std::vector<std::string>{"a"}));
  EXPECT_EQ(loaded.batches[1].split_from, "b");
  EXPECT_EQ(PlanToJson(loaded), PlanToJson(plan));
}

TEST(Plan, MakePlanNamesUpstreamBatches) {
  Graph graph;
  graph.nodes.resize(2);
  graph.nodes[0].unique_id = "model.p.a";
  graph.nodes[0].fqn = {"p", "a"};
  graph.nodes[1].unique_id = "model.p.b";
  graph.nodes[1].fqn = {"p", "b"};
  graph.nodes[1].deps = {0};
  Partition partition;
  partition.batches = {{"x", {1}, {1}}, {"y", {0}, {}}};
  partition.batch_of = {1, 0};
  Plan plan = MakePlan(".", DbtSettings(), "s", graph, partition, std::vector<BatchSettings>(2));
  EXPECT_EQ(plan.batches[0].upstream, (std::vector<std::string>{"y"}));
  EXPECT_TRUE(plan.batches[1].upstream.empty());
}

TEST(Layout, EveryPathUnderDotPa) {
  fs::path p = "/proj";
  EXPECT_EQ(StateFile(p, "b").generic_string(), "/proj/.pa/state/b.json");
  EXPECT_EQ(SplitDir(p).generic_string(), "/proj/.pa/split");
  EXPECT_EQ(StampDir(p).generic_string(), "/proj/.pa/stamps");
  EXPECT_EQ(PartialParseFile(p).generic_string(), "/proj/.pa/parse/partial_parse.msgpack");
  EXPECT_EQ(StartupFile(p).generic_string(), "/proj/.pa/dbt-startup");
  fs::path run = p / RunDir("b");
  EXPECT_EQ(RunResultsFile(run).generic_string(), "/proj/.pa/run/b/target/run_results.json");
  EXPECT_EQ(RunLogFile(run).generic_string(), "/proj/.pa/run/b/logs/dbt.log");
  EXPECT_EQ(RunOutputFile(run).generic_string(), "/proj/.pa/run/b/dbt.out");
}

TEST(Topo, DependenciesFirstLowestIndexOnTies) {
  std::vector<int> order;
  EXPECT_TRUE(TopologicalOrder({{2}, {}, {1}}, &order));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 0}));
  EXPECT_FALSE(TopologicalOrder({{1}, {0}, {}}, &order));
  EXPECT_EQ(order, (std::vector<int>{2}));
}

}  // namespace
