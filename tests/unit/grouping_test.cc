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

Chosen Choose(const Graph& graph, double startup, double node_seconds, int jobs) {
  Policy policy;
  std::string err;
  EXPECT_TRUE(ParsePolicy("auto", &policy, &err)) << err;
  DbtProject project;
  project.dir = "/p";
  project.name = "proj";
  project.model_paths = {"models"};
  CostModel cost;
  cost.node_seconds.assign(graph.nodes.size(), node_seconds);
  cost.startup_seconds = startup;
  cost.jobs = jobs;
  cost.threads = 1;
  Chosen c;
  c.grouping = ChooseGrouping(policy, project, graph, UniqueNodeNames(graph), cost, 1, &c.predictions);
  return c;
}

// The choice is the candidate with the shortest prediction, the first in
// kAutoCandidates on a tie, and every candidate is predicted.
void ExpectTheFirstShortest(const Chosen& c) {
  ASSERT_EQ(c.predictions.size(), kAutoCandidates.size());
  std::string first;
  for (const std::string& candidate : kAutoCandidates) {
    ASSERT_TRUE(c.predictions.count(candidate)) << candidate;
    if (first.empty() || c.predictions.at(candidate) < c.predictions.at(first)) first = candidate;
  }
  EXPECT_EQ(c.grouping.policy, first);
}

TEST(ChooseGrouping, ADearStartUpOnOneSlotMeansOneBatch) {
  Chosen c = Choose(TwoChains(), 100, 1, 1);
  ExpectTheFirstShortest(c);
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
  ASSERT_TRUE(ParsePolicy(c.grouping.policy, &policy, &err)) << err;
  CostModel cost;
  cost.node_seconds.assign(graph.nodes.size(), 1);
  cost.startup_seconds = 2;
  cost.jobs = 2;
  DbtProject project;
  project.dir = "/p";
  project.name = "proj";
  project.model_paths = {"models"};
  Grouping again = GroupGraph(policy, c.grouping.policy, project, graph, UniqueNodeNames(graph));
  EXPECT_EQ(again.keys, c.grouping.keys);
  EXPECT_DOUBLE_EQ(PredictGrouping(policy, again, graph, cost, 1), c.predictions.at(c.grouping.policy));
}

}  // namespace
