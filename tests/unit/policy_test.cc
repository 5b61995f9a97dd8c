#include "group/policy.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using Strings = std::vector<std::string>;

Node MakeNode(const std::string& unique_id, NodeKind kind, const std::string& file,
              const std::string& package = "proj") {
  Node n;
  n.unique_id = unique_id;
  n.name = unique_id.substr(unique_id.rfind('.') + 1);
  n.package = package;
  n.kind = kind;
  n.file = file;
  return n;
}

DbtProject Project(Strings model_paths) {
  DbtProject p;
  p.dir = "/p";
  p.name = "proj";
  p.model_paths = std::move(model_paths);
  return p;
}

Strings Keys(const Policy& policy, const DbtProject& project, const Graph& graph) {
  return GroupKeys(policy, project, graph, UniqueNodeNames(graph));
}

TEST(ParsePolicy, KnownAndUnknown) {
  Policy policy;
  std::string err;
  ASSERT_TRUE(ParsePolicy("per-model", &policy, &err)) << err;
  EXPECT_EQ(policy.kind, PolicyKind::kPerModel);
  ASSERT_TRUE(ParsePolicy("folder", &policy, &err)) << err;
  EXPECT_EQ(policy.kind, PolicyKind::kFolder);
  EXPECT_FALSE(ParsePolicy("by-size", &policy, &err));
  EXPECT_EQ(err, "unknown policy 'by-size' (known: folder, per-model)");
}

TEST(UniqueNodeNames, SharedNamesFallBackToTheIdWithoutType) {
  Graph g;
  g.nodes = {MakeNode("model.proj.orders", NodeKind::kModel, "models/orders.sql"),
             MakeNode("model.proj.stg", NodeKind::kModel, "models/stg.sql"),
             MakeNode("seed.proj.orders", NodeKind::kSeed, "seeds/orders.csv")};
  EXPECT_EQ(UniqueNodeNames(g), (Strings{"proj.orders", "stg", "proj.orders"}));
}

TEST(GroupKeys, FolderPolicy) {
  Graph g;
  g.nodes = {
      MakeNode("model.other_pkg.util", NodeKind::kModel, "models/deep/util.sql", "other_pkg"),
      MakeNode("model.proj.fct", NodeKind::kModel, "models/marts/finance/fct.sql"),
      MakeNode("model.proj.stg", NodeKind::kModel, "models/staging/stg.sql"),
      MakeNode("model.proj.top", NodeKind::kModel, "models/top.sql"),
      MakeNode("seed.proj.raw", NodeKind::kSeed, "seeds/raw.csv"),
      MakeNode("snapshot.proj.snap", NodeKind::kSnapshot, "snapshots/snap.sql"),
      MakeNode("test.proj.t", NodeKind::kTest, "tests/t.sql"),
      MakeNode("unit_test.proj.stg.ut", NodeKind::kUnitTest, "models/staging/_stg.yml"),
  };
  EXPECT_EQ(Keys(Policy{PolicyKind::kFolder}, Project({"models"}), g),
            (Strings{"other_pkg", "marts", "staging", "models", "seeds", "snapshots", "", ""}));
}

TEST(GroupKeys, SeveralModelPaths) {
  Graph g;
  g.nodes = {MakeNode("model.proj.a", NodeKind::kModel, "models/core/a.sql"),
             MakeNode("model.proj.b", NodeKind::kModel, "legacy/b.sql"),
             MakeNode("model.proj.c", NodeKind::kModel, "elsewhere/c.sql")};
  EXPECT_EQ(Keys(Policy{}, Project({"models", "legacy"}), g),
            (Strings{"core", "legacy", "models"}));
}

TEST(GroupKeys, PerModelPolicyUsesUniqueNames) {
  Graph g;
  g.nodes = {MakeNode("model.proj.orders", NodeKind::kModel, "models/a/orders.sql"),
             MakeNode("seed.proj.orders", NodeKind::kSeed, "seeds/orders.csv"),
             MakeNode("test.proj.t", NodeKind::kTest, "tests/t.sql")};
  EXPECT_EQ(Keys(Policy{PolicyKind::kPerModel}, Project({"models"}), g),
            (Strings{"proj.orders", "proj.orders", ""}));
}

// Known bug (see the report): with `model-paths: ["models/"]` a model at the
// top of the model path gets the key "", which PartitionGraph reads as "this
// is a test" - and a "test" with children can put two batches in a cycle.
TEST(GroupKeys, TrailingSlashInModelPathStillNamesTopLevelModels) {
  Graph g;
  g.nodes = {MakeNode("model.proj.top", NodeKind::kModel, "models/top.sql")};
  EXPECT_EQ(Keys(Policy{}, Project({"models/"}), g), (Strings{"models"}));
}

}  // namespace
