#include "group/grouping.h"

#include <fmt/format.h>
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

// The server default (issue 15): folders, a folder's batch of more than
// kServerMaxBatchSize models cut along the DAG into pieces of even size,
// so that a chain of folders still runs several dbt processes at once.
// `staging` holds `staging_models` lone models, `marts` 10 models that each
// read one of them (spread over the folder).
Graph TwoLayers(int staging_models) {
  Graph g;
  for (int i = 0; i < staging_models; ++i) g.nodes.push_back(Model(fmt::format("s{:03}", i), "staging"));
  for (int i = 0; i < 10; ++i) {
    g.nodes.push_back(Model(fmt::format("m{:02}", i), "marts"));
    g.nodes.back().deps = {i * staging_models / 10};
  }
  return g;
}

struct ByDefault {
  Grouping grouping;
  Policy policy;
  std::string why;
};

ByDefault GroupTwoLayersByDefault(const std::string& adapter, int staging_models, int given_limit) {
  Graph graph = TwoLayers(staging_models);
  DbtProject project;
  project.dir = "/p";
  project.name = "proj";
  project.model_paths = {"models"};
  ByDefault d;
  d.policy.max_batch_size = given_limit;
  d.grouping = GroupByDefault(adapter, project, graph, UniqueNodeNames(graph), &d.policy, &d.why);
  return d;
}

// "name: N members from first to last" per batch, in name order.
std::string DescribeBatches(const Grouping& g) {
  std::string out;
  for (const Batch& batch : g.partition.batches)
    out += fmt::format("{}: {} members from {} to {}\n", batch.name, batch.members.size(),
                       batch.members.front(), batch.members.back());
  return out;
}

TEST(GroupByDefault, OnAServerAFolderAbove64ModelsIsCutAlongTheDag) {
  ByDefault d = GroupTwoLayersByDefault("postgres", 125, 0);
  EXPECT_EQ(d.grouping.policy, "folder --max-batch-size 64");
  EXPECT_EQ(d.grouping.max_batch_size, 64);
  EXPECT_EQ(d.policy.name, "folder");
  EXPECT_EQ(d.policy.kind, PolicyKind::kFolder);
  EXPECT_EQ(d.policy.max_batch_size, 0) << "explain's alternatives: whole folders";
  EXPECT_EQ(d.why, DefaultPolicyFor("postgres").why);
  // 125 models in two pieces of 63 and 62 (node order: no model reads
  // another in the folder); marts, 10 models, stays whole.
  EXPECT_EQ(DescribeBatches(d.grouping),
            "marts: 10 members from 125 to 134\n"
            "staging.1: 63 members from 0 to 62\n"
            "staging.2: 62 members from 63 to 124\n");
  EXPECT_EQ(d.grouping.partition.batches[0].deps, (std::vector<int>{1, 2}));
  // Deterministic: the same project, the same batches.
  EXPECT_EQ(DescribeBatches(GroupTwoLayersByDefault("postgres", 125, 0).grouping),
            DescribeBatches(d.grouping));
}

TEST(GroupByDefault, AFolderOf64ModelsStaysWhole) {
  ByDefault d = GroupTwoLayersByDefault("postgres", 64, 0);
  EXPECT_EQ(d.grouping.policy, "folder --max-batch-size 64");
  EXPECT_EQ(DescribeBatches(d.grouping),
            "marts: 10 members from 64 to 73\n"
            "staging: 64 members from 0 to 63\n");
  ByDefault three = GroupTwoLayersByDefault("postgres", 129, 0);
  EXPECT_EQ(DescribeBatches(three.grouping),
            "marts: 10 members from 129 to 138\n"
            "staging.1: 43 members from 0 to 42\n"
            "staging.2: 43 members from 43 to 85\n"
            "staging.3: 43 members from 86 to 128\n");
}

TEST(GroupByDefault, AGivenLimitIsTheLimit) {
  ByDefault d = GroupTwoLayersByDefault("postgres", 125, 100);
  EXPECT_EQ(d.grouping.policy, "folder");
  EXPECT_EQ(d.grouping.max_batch_size, 100);
  EXPECT_EQ(d.policy.max_batch_size, 100);
  EXPECT_EQ(d.why, DefaultPolicyFor("postgres", 100).why);
  EXPECT_EQ(DescribeBatches(d.grouping),
            "marts: 10 members from 125 to 134\n"
            "staging.1: 63 members from 0 to 62\n"
            "staging.2: 62 members from 63 to 124\n");
}

TEST(GroupByDefault, OnDuckDbOneBatchUncut) {
  ByDefault d = GroupTwoLayersByDefault("duckdb", 125, 0);
  EXPECT_EQ(d.grouping.policy, "single");
  EXPECT_EQ(d.grouping.max_batch_size, 0);
  EXPECT_EQ(d.policy.kind, PolicyKind::kSingle);
  EXPECT_EQ(DescribeBatches(d.grouping), "all_nodes: 135 members from 0 to 134\n");
}

// Issue 15's benchmark case: layered-500 (4 folders of 125 models, each
// reading 3 of the folder before, each with a test) without history, on
// 2 cores at -j4 with 4 threads. One process runs a folder on one core and
// each folder waits for the one before: cut in 2, both cores are busy; in
// 3 or 4, the processes share the two cores and pay more start-ups. (With
// the old guess of 0.3 s per node, 90% of it waiting on the database, four
// processes on two cores looked free and auto cut in 4.)
Graph Layered500() {
  Graph g;
  const std::vector<std::string> folders = {"base", "staging", "intermediate", "marts"};
  for (int f = 0; f < 4; ++f) {
    for (int i = 0; i < 125; ++i) {
      g.nodes.push_back(Model(fmt::format("{}_{:03}", folders[f], i), folders[f]));
      if (f > 0)
        for (int k = 0; k < 3; ++k) g.nodes.back().deps.push_back((f - 1) * 125 + (i * 7 + k * 41) % 125);
    }
  }
  for (int m = 0; m < 500; ++m) {
    Node t;
    t.name = "not_null_" + g.nodes[m].name;
    t.unique_id = "test.proj." + t.name;
    t.package = "proj";
    t.kind = NodeKind::kTest;
    t.deps = {m};
    g.nodes.push_back(t);
  }
  return g;
}

TEST(ChooseGrouping, FromNothingALayeredChainOfFoldersOnTwoCoresIsCutInTwo) {
  Graph g = Layered500();
  CostModel cost;
  cost.node_seconds.assign(g.nodes.size(), kUnknownNodeSeconds);
  cost.node_cpu_seconds.assign(g.nodes.size(), kUnknownNodeCpuSeconds);
  cost.jobs = 4;
  cost.cores = 2;
  cost.threads = 4;
  Chosen c = ChooseAuto(g, cost, 4);
  ExpectTheFirstShortest(c);
  std::string all;
  for (const auto& [policy, seconds] : c.predictions) all += fmt::format("{}: {:.2f} s\n", policy, seconds);
  EXPECT_EQ(c.grouping.policy, "folder --max-batch-size 63") << all;
  EXPECT_LT(c.predictions.at("folder --max-batch-size 63"), c.predictions.at("folder --max-batch-size 42")) << all;
  EXPECT_LT(c.predictions.at("folder --max-batch-size 42"), c.predictions.at("folder --max-batch-size 32")) << all;
  // The server default cuts the same folders into the same batches.
  DbtProject project;
  project.dir = "/p";
  project.name = "proj";
  project.model_paths = {"models"};
  Policy policy;
  std::string why;
  Grouping fixed = GroupByDefault("postgres", project, g, UniqueNodeNames(g), &policy, &why);
  EXPECT_EQ(DescribeBatches(fixed), DescribeBatches(c.grouping));
  EXPECT_EQ(fixed.partition.batch_of, c.grouping.partition.batch_of);
}

}  // namespace
