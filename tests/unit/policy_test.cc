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

Policy Parsed(const std::string& text) {
  Policy policy;
  std::string err;
  EXPECT_TRUE(ParsePolicy(text, &policy, &err)) << err;
  return policy;
}

TEST(ParsePolicy, KnownAndUnknown) {
  Policy policy;
  std::string err;
  ASSERT_TRUE(ParsePolicy("per-model", &policy, &err)) << err;
  EXPECT_EQ(policy.kind, PolicyKind::kPerModel);
  ASSERT_TRUE(ParsePolicy("folder", &policy, &err)) << err;
  EXPECT_EQ(policy.kind, PolicyKind::kFolder);
  EXPECT_FALSE(ParsePolicy("by-size", &policy, &err));
  EXPECT_EQ(err, "unknown policy 'by-size' (known: folder, folder:N, per-model, tag, tag:A,B, "
                 "meta:KEY, resource-type, level, component, single, auto)");
  for (const char* bad : {"folder:0", "folder:x", "meta", "meta:", "level:2", "tag:"}) {
    EXPECT_FALSE(ParsePolicy(bad, &policy, &err)) << bad;
    EXPECT_EQ(err.find('\n'), std::string::npos);
  }
  ASSERT_TRUE(ParsePolicy("folder:2", &policy, &err)) << err;
  EXPECT_EQ(policy.folder_depth, 2);
  ASSERT_TRUE(ParsePolicy("tag:a,b", &policy, &err)) << err;
  EXPECT_EQ(policy.tags, (Strings{"a", "b"}));
  ASSERT_TRUE(ParsePolicy("meta:pa_group", &policy, &err)) << err;
  EXPECT_EQ(policy.meta_key, "pa_group");
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
  EXPECT_EQ(Keys(Parsed("folder"), Project({"models"}), g),
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
  EXPECT_EQ(Keys(Parsed("per-model"), Project({"models"}), g),
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

// fct <- stg_a, stg_b <- raw; other stands alone; t tests fct.
Graph PolicyGraph() {
  Graph g;
  g.nodes = {MakeNode("model.proj.fct", NodeKind::kModel, "models/marts/fct.sql"),
             MakeNode("model.proj.other", NodeKind::kModel, "models/other/other.sql"),
             MakeNode("model.proj.stg_a", NodeKind::kModel, "models/staging/core/stg_a.sql"),
             MakeNode("model.proj.stg_b", NodeKind::kModel, "models/staging/stg_b.sql"),
             MakeNode("seed.proj.raw", NodeKind::kSeed, "seeds/raw.csv"),
             MakeNode("test.proj.t", NodeKind::kTest, "models/marts/_marts.yml")};
  g.nodes[0].deps = {2, 3};
  g.nodes[0].tags = {"finance", "nightly"};
  g.nodes[0].materialized = "table";
  g.nodes[2].deps = {4};
  g.nodes[2].tags = {"nightly"};
  g.nodes[2].meta = {{"pa_group", "fin ance/x"}};
  g.nodes[3].deps = {4};
  g.nodes[5].deps = {0};
  return g;
}

TEST(GroupKeys, EveryBuiltInPolicy) {
  Graph g = PolicyGraph();
  DbtProject p = Project({"models"});
  EXPECT_EQ(Keys(Parsed("folder"), p, g), (Strings{"marts", "other", "staging", "staging", "seeds", ""}));
  EXPECT_EQ(Keys(Parsed("folder:2"), p, g),
            (Strings{"marts", "other", "staging_core", "staging", "seeds", ""}));
  EXPECT_EQ(Keys(Parsed("tag"), p, g), (Strings{"finance", "other", "nightly", "staging", "seeds", ""}));
  EXPECT_EQ(Keys(Parsed("tag:nightly,x"), p, g),
            (Strings{"nightly", "other", "nightly", "staging", "seeds", ""}));
  EXPECT_EQ(Keys(Parsed("meta:pa_group"), p, g),
            (Strings{"marts", "other", "fin ance/x", "staging", "seeds", ""}));  // the partition makes names plain
  EXPECT_EQ(Keys(Parsed("resource-type"), p, g),
            (Strings{"models", "models", "models", "models", "seeds", ""}));
  EXPECT_EQ(Keys(Parsed("level"), p, g), (Strings{"level2", "level0", "level1", "level1", "level0", ""}));
  EXPECT_EQ(Keys(Parsed("component"), p, g),
            (Strings{"component_fct", "component_other", "component_fct", "component_fct",
                     "component_fct", ""}));
  EXPECT_EQ(Keys(Parsed("single"), p, g),
            (Strings{"all_nodes", "all_nodes", "all_nodes", "all_nodes", "all_nodes", ""}));
}

TEST(GroupKeys, FirstMatchingRuleNamesTheGroupAndTheRestFollowThePolicy) {
  Graph g = PolicyGraph();
  Policy policy = Parsed("folder");
  PolicyRule nightly;
  nightly.tag = "nightly";
  nightly.group = "{tag}_{folder}";
  nightly.threads = 2;
  PolicyRule tables;  // fct matches it too, but the first rule wins
  tables.materialized = "table";
  tables.group = "tables";
  PolicyRule staging;
  staging.path = "models/staging/**";
  staging.group = "stg_{name}_{meta.pa_group}";
  staging.pool = "warehouse";
  policy.rules = {nightly, tables, staging};
  std::map<std::string, GroupSettings> settings;
  EXPECT_EQ(GroupKeys(policy, Project({"models"}), g, UniqueNodeNames(g), &settings),
            (Strings{"nightly_marts", "other", "nightly_staging", "stg_stg_b_", "seeds", ""}));
  ASSERT_EQ(settings.size(), 3u);
  EXPECT_EQ(settings["nightly_marts"].threads, 2);
  EXPECT_EQ(settings["stg_stg_b_"].pool, "warehouse");
}

}  // namespace

namespace {

// The default is a fixed rule per adapter, so the same project always gets
// the same batches: one where one process at a time writes; on servers,
// folders, cut into pieces of at most kServerMaxBatchSize models.
TEST(DefaultPolicy, OneBatchOnDuckDbCutFoldersOnServers) {
  DefaultPolicy duckdb = DefaultPolicyFor("duckdb");
  EXPECT_EQ(duckdb.name, "single");
  EXPECT_EQ(duckdb.max_batch_size, 0);
  EXPECT_EQ(duckdb.why,
            "the default on duckdb: one process at a time writes the database, so batches take "
            "turns and one batch pays dbt's start-up once; --policy folder for a batch per folder");
  for (const char* server : {"postgres", "snowflake", "bigquery"}) {
    EXPECT_EQ(DefaultPolicyFor(server).name, "folder") << server;
    EXPECT_EQ(DefaultPolicyFor(server).max_batch_size, kServerMaxBatchSize) << server;
  }
  EXPECT_EQ(kServerMaxBatchSize, 64);
  EXPECT_EQ(DefaultPolicyFor("postgres").why,
            "the default on postgres: batches run side by side, one per folder, and a folder of "
            "more than 64 models is cut into pieces along the DAG, because one dbt process runs "
            "its Python on one core; --policy folder for whole folders, --policy auto to pick by "
            "predicted time");
  // A limit the options give is the limit, on either.
  DefaultPolicy given = DefaultPolicyFor("postgres", 20);
  EXPECT_EQ(given.max_batch_size, 20);
  EXPECT_EQ(given.why,
            "the default on postgres: batches run side by side, one per folder, cut to "
            "--max-batch-size 20 as given; --policy auto to pick by predicted time");
  EXPECT_EQ(DefaultPolicyFor("duckdb", 20).max_batch_size, 20);
  // Both parse, and a parsed policy keeps the name it was given.
  EXPECT_EQ(Parsed(DefaultPolicyFor("duckdb").name).kind, PolicyKind::kSingle);
  EXPECT_EQ(Parsed(DefaultPolicyFor("postgres").name).kind, PolicyKind::kFolder);
  EXPECT_EQ(Parsed("folder:2").name, "folder:2");
  EXPECT_EQ(Policy{}.name, "");
}

}  // namespace
