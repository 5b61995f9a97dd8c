#include "group/batch_settings.h"

#include <gtest/gtest.h>

namespace {

// a -> {b, c, d} -> e, all in one batch; f alone; t tests e.
struct Fixture {
  Graph graph;
  Partition partition;
  std::vector<std::string> keys = {"core", "core", "core", "core", "core", "side", ""};
  Fixture() {
    graph.nodes.resize(7);
    for (size_t i = 0; i < 7; ++i) graph.nodes[i].unique_id = std::string("model.p.") + char('a' + i);
    graph.nodes[6].kind = NodeKind::kTest;
    graph.nodes[1].deps = graph.nodes[2].deps = graph.nodes[3].deps = {0};
    graph.nodes[4].deps = {1, 2, 3};
    graph.nodes[6].deps = {4};
    partition.batches = {{"core", {0, 1, 2, 3, 4, 6}, {}}, {"side", {5}, {}}};
    partition.batch_of = {0, 0, 0, 0, 0, 1, 0};
  }
};

TEST(BatchWidths, CountsTheWidestGenerationOfModels) {
  Fixture f;
  EXPECT_EQ(BatchWidths(f.graph, f.partition), (std::vector<int>{3, 1}));
}

TEST(SettingsOfBatches, RuleThenDefaultsThenWidthCappedByThreads) {
  Fixture f;
  Policy policy;
  std::map<std::string, GroupSettings> groups;
  auto threads = [&](int max_threads) {
    std::vector<int> out;
    for (const BatchSettings& s : SettingsOfBatches(policy, groups, f.keys, f.graph, f.partition, max_threads))
      out.push_back(s.threads);
    return out;
  };
  EXPECT_EQ(threads(0), (std::vector<int>{0, 0}));  // the profile's
  EXPECT_EQ(threads(2), (std::vector<int>{2, 1}));
  EXPECT_EQ(threads(8), (std::vector<int>{3, 1}));
  policy.defaults.threads = 6;
  groups["side"] = {2, "warehouse"};
  EXPECT_EQ(threads(8), (std::vector<int>{6, 2}));
  EXPECT_EQ(SettingsOfBatches(policy, groups, f.keys, f.graph, f.partition, 0)[1].pool, "warehouse");
}

}  // namespace
