#include "group/grouping.h"

#include <gtest/gtest.h>

namespace {

Node Model(const std::string& name, const std::string& folder) {
  Node n;
  n.unique_id = "model.proj." + name;
  n.name = name;
  n.package = "proj";
  n.kind = NodeKind::kModel;
  n.file = "models/" + folder + "/" + name + ".sql";
  return n;
}

// Two independent chains in two folders: a1 <- a2 <- a3 (staging) and
// b1 <- b2 <- b3 (marts), plus three lone models, also in staging.
Graph TwoChains() {
  Graph g;
  g.nodes = {Model("a1", "staging"), Model("a2", "staging"), Model("a3", "staging"),
             Model("b1", "marts"),   Model("b2", "marts"),   Model("b3", "marts"),
             Model("c1", "staging"), Model("c2", "staging"), Model("c3", "staging")};
  g.nodes[1].deps = {0};
  g.nodes[2].deps = {1};
  g.nodes[4].deps = {3};
  g.nodes[5].deps = {4};
  return g;
}

struct Chosen {
  Grouping grouping;
  std::map<std::string, double> predictions;
};

// `auto` on a project /p of one model path, with `cost`.
Chosen ChooseAuto(const Graph& graph, const CostModel& cost, int max_threads) {
  Policy policy;
  std::string err;
  EXPECT_TRUE(ParsePolicy("auto", &policy, &err)) << err;
  DbtProject project;
  project.dir = "/p";
  project.name = "proj";
  project.model_paths = {"models"};
  Chosen c;
  c.grouping = ChooseGrouping(policy, project, graph, UniqueNodeNames(graph), cost, max_threads,
                              &c.predictions);
  return c;
}

Chosen Choose(const Graph& graph, double startup, double node_seconds, int jobs) {
  CostModel cost;
  cost.node_seconds.assign(graph.nodes.size(), node_seconds);
  cost.startup_seconds = startup;
  cost.jobs = jobs;
  cost.threads = 1;
  return ChooseAuto(graph, cost, 1);
}

// The choice is the candidate with the shortest prediction, the first in
// kAutoCandidates on a tie (the cut folders come after them), and every
// candidate is predicted.
void ExpectTheFirstShortest(const Chosen& c) {
  ASSERT_GE(c.predictions.size(), kAutoCandidates.size());
  std::string first;
  for (const std::string& candidate : kAutoCandidates) {
    ASSERT_TRUE(c.predictions.count(candidate)) << candidate;
    if (first.empty() || c.predictions.at(candidate) < c.predictions.at(first)) first = candidate;
  }
  double best = c.predictions.at(first);
  for (const auto& [candidate, seconds] : c.predictions) best = std::min(best, seconds);
  if (best == c.predictions.at(first)) EXPECT_EQ(c.grouping.policy, first);
  EXPECT_DOUBLE_EQ(c.predictions.at(c.grouping.policy), best);
}

TEST(ChooseGrouping, ADearStartUpOnOneSlotMeansOneBatch) {
  Chosen c = Choose(TwoChains(), 100, 1, 1);
  ExpectTheFirstShortest(c);
  EXPECT_EQ(c.predictions.size(), kAutoCandidates.size());  // one slot: no folder is cut
  EXPECT_EQ(c.grouping.partition.batches.size(), 1u);
  EXPECT_DOUBLE_EQ(c.predictions.at(c.grouping.policy), 100 + 9);
  EXPECT_EQ(c.grouping.policy, "resource-type");  // the first candidate with one batch
}

TEST(ChooseGrouping, FreeStartUpAndManySlotsRunTheChainsSideBySide) {
  Chosen c = Choose(TwoChains(), 0, 10, 9);
  ExpectTheFirstShortest(c);
  EXPECT_GT(c.grouping.partition.batches.size(), 1u);
  // The chains' 30 s on their own slots, against 90 s in one batch and
  // 60 s for staging's six in one batch on one thread.
  EXPECT_DOUBLE_EQ(c.predictions.at(c.grouping.policy), 30);
  EXPECT_DOUBLE_EQ(c.predictions.at("single"), 90);
  EXPECT_DOUBLE_EQ(c.predictions.at("folder"), 60);
  EXPECT_EQ(c.grouping.policy, "component");  // the first with 30 s (per-model ties, later)
}

TEST(ChooseGrouping, ThePredictionIsThatOfTheGroupingItself) {
  Graph graph = TwoChains();
  Chosen c = Choose(graph, 2, 1, 2);
  Policy policy;
  std::string err;
  ASSERT_TRUE(ParsePolicy(c.grouping.policy.substr(0, c.grouping.policy.find(' ')), &policy, &err)) << err;
  CostModel cost;
  cost.node_seconds.assign(graph.nodes.size(), 1);
  cost.startup_seconds = 2;
  cost.jobs = 2;
  DbtProject project;
  project.dir = "/p";
  project.name = "proj";
  project.model_paths = {"models"};
  policy.max_batch_size = c.grouping.max_batch_size;
  Grouping again = GroupGraph(policy, c.grouping.policy, project, graph, UniqueNodeNames(graph));
  EXPECT_EQ(again.keys, c.grouping.keys);
  EXPECT_DOUBLE_EQ(PredictGrouping(policy, again, graph, cost, 1), c.predictions.at(c.grouping.policy));
}

// Issue 15: four lone models in one folder, 1 s each and all of it dbt's
// own CPU. One batch on 4 threads still runs their Python on one core:
// 0.5 s start-up + 4 s. On a server with 2 cores and -j2, the folder cut
// in 2 runs two processes side by side: 0.5 + 2 s; cut in 4 (or a batch
// per model) pays four start-ups on two slots: 2 x 1.5 s.
Chosen ChooseForFourLoneModels(int cores, int jobs) {
  Graph g;
  g.nodes = {Model("m1", "staging"), Model("m2", "staging"), Model("m3", "staging"),
             Model("m4", "staging")};
  CostModel cost;
  cost.node_seconds.assign(4, 1);
  cost.node_cpu_seconds.assign(4, 1);
  cost.startup_seconds = 0.5;
  cost.jobs = jobs;
  cost.cores = cores;
  cost.threads = 4;
  return ChooseAuto(g, cost, 4);
}

TEST(ChooseGrouping, OnAServerAFolderCutInTwoRunsOnTwoCores) {
  Chosen c = ChooseForFourLoneModels(2, 2);
  ExpectTheFirstShortest(c);
  EXPECT_EQ(c.grouping.policy, "folder --max-batch-size 2");
  EXPECT_EQ(c.grouping.max_batch_size, 2);
  ASSERT_EQ(c.grouping.partition.batches.size(), 2u);
  EXPECT_EQ(c.grouping.partition.batches[0].name, "staging.1");
  EXPECT_EQ(c.grouping.partition.batches[1].name, "staging.2");
  EXPECT_DOUBLE_EQ(c.predictions.at("folder --max-batch-size 2"), 2.5);
  EXPECT_DOUBLE_EQ(c.predictions.at("folder --max-batch-size 1"), 3);
  EXPECT_DOUBLE_EQ(c.predictions.at("folder"), 4.5);
  EXPECT_DOUBLE_EQ(c.predictions.at("per-model"), 3);
  // k = 3 gives the limit of k = 2 (4 / 3, rounded up): one candidate.
  EXPECT_EQ(c.predictions.size(), kAutoCandidates.size() + 2);
  // Deterministic: the same inputs choose the same batches.
  Chosen again = ChooseForFourLoneModels(2, 2);
  EXPECT_EQ(again.grouping.policy, c.grouping.policy);
  EXPECT_EQ(again.predictions, c.predictions);
}

TEST(ChooseGrouping, OnOneCoreCuttingAFolderDoesNotPay) {
  Chosen c = ChooseForFourLoneModels(1, 2);
  ExpectTheFirstShortest(c);
  // Two processes that each want a core, on one: both at half speed, 5 s.
  EXPECT_DOUBLE_EQ(c.predictions.at("folder --max-batch-size 2"), 5);
  EXPECT_EQ(c.grouping.policy, "folder");
  EXPECT_DOUBLE_EQ(c.predictions.at("folder"), 4.5);
}

// DuckDB (one slot): today's candidates only, none of them cut.
TEST(ChooseGrouping, BatchesThatTakeTurnsAreNotCut) {
  Chosen c = ChooseForFourLoneModels(2, 1);
  EXPECT_EQ(c.predictions.size(), kAutoCandidates.size());
  EXPECT_EQ(c.grouping.policy, "folder");
}

}  // namespace
