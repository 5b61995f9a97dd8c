#include "graph/graph.h"

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using Strings = std::vector<std::string>;

constexpr const char* kManifestFile = "/p/target/manifest.json";

ManifestNode MakeNode(const std::string& unique_id, const std::string& file, Strings deps = {},
                      const std::string& materialized = "") {
  ManifestNode n;
  n.unique_id = unique_id;
  n.resource_type = unique_id.substr(0, unique_id.find('.'));
  size_t last = unique_id.rfind('.');
  n.name = unique_id.substr(last + 1);
  n.package_name = "proj";
  n.original_file_path = file;
  n.materialized = materialized.empty() && n.resource_type == "model" ? "table" : materialized;
  n.fqn = {"proj", n.name};
  n.depends_on_nodes = std::move(deps);
  return n;
}

ManifestMacro MakeMacro(const std::string& unique_id, const std::string& package,
                        const std::string& file, Strings deps = {},
                        const std::string& sql_digest = "sql") {
  return {unique_id, package, file, std::move(deps), sql_digest};
}

// Sorts like ParseManifest does, then builds the graph.
Graph Build(Manifest manifest) {
  auto by_id = [](const auto& a, const auto& b) { return a.unique_id < b.unique_id; };
  std::sort(manifest.nodes.begin(), manifest.nodes.end(), by_id);
  std::sort(manifest.macros.begin(), manifest.macros.end(), by_id);
  Graph graph;
  std::string err;
  EXPECT_TRUE(BuildGraph(manifest, kManifestFile, &graph, &err)) << err;
  return graph;
}

std::string BuildError(Manifest manifest) {
  Graph graph;
  std::string err;
  EXPECT_FALSE(BuildGraph(manifest, kManifestFile, &graph, &err));
  return err;
}

Strings Ids(const Graph& graph) {
  Strings ids;
  for (const Node& node : graph.nodes) ids.push_back(node.unique_id);
  return ids;
}

const Node& Find(const Graph& graph, const std::string& unique_id) {
  for (const Node& node : graph.nodes)
    if (node.unique_id == unique_id) return node;
  ADD_FAILURE() << "no node " << unique_id;
  static Node none;
  return none;
}

int IndexOf(const Graph& graph, const std::string& unique_id) {
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (graph.nodes[i].unique_id == unique_id) return static_cast<int>(i);
  return -1;
}

// C -> ephemeral B -> ephemeral A -> seed S, with patches and macros along the way.
Manifest EphemeralChain() {
  Manifest m;
  m.project_name = "proj";
  ManifestNode s = MakeNode("seed.proj.s", "seeds/s.csv");
  s.depends_on_macros = {"macro.dbt.load_csv"};
  ManifestNode a = MakeNode("model.proj.a", "models/eph/a.sql", {"seed.proj.s"}, "ephemeral");
  a.patch_path = "models/eph/_a.yml";
  a.depends_on_macros = {"macro.proj.money"};
  ManifestNode b = MakeNode("model.proj.b", "models/eph/b.sql", {"model.proj.a"}, "ephemeral");
  b.depends_on_macros = {"macro.other_pkg.helper"};
  ManifestNode c = MakeNode("model.proj.c", "models/marts/c.sql", {"model.proj.b"});
  c.patch_path = "models/marts/_marts.yml";
  m.nodes = {a, b, c, s};
  m.macros = {
      MakeMacro("macro.dbt.load_csv", "dbt", "macros/load_csv.sql"),
      // A root-package macro calls another root-package macro, which calls dbt's.
      MakeMacro("macro.proj.money", "proj", "macros/money.sql", {"macro.proj.cents"}),
      MakeMacro("macro.proj.cents", "proj", "macros/cents.sql", {"macro.dbt.round"}),
      MakeMacro("macro.dbt.round", "dbt", "macros/round.sql"),
      MakeMacro("macro.other_pkg.helper", "other_pkg", "macros/helper.sql"),
  };
  return m;
}

TEST(BuildGraph, EphemeralModelsAreFoldedIntoTheirUsers) {
  Graph g = Build(EphemeralChain());
  EXPECT_EQ(Ids(g), (Strings{"model.proj.c", "seed.proj.s"}));
  const Node& c = Find(g, "model.proj.c");
  EXPECT_EQ(c.deps, (std::vector<int>{IndexOf(g, "seed.proj.s")}));
  EXPECT_EQ(c.file, "models/marts/c.sql");
  // Sorted; transitively through macro depends_on; no macros of other packages.
  EXPECT_EQ(c.inputs, (Strings{"macros/cents.sql", "macros/money.sql", "models/eph/_a.yml",
                               "models/eph/a.sql", "models/eph/b.sql", "models/marts/_marts.yml",
                               "models/marts/c.sql"}));
}

TEST(BuildGraph, SeedInputsSkipOtherPackagesMacros) {
  Graph g = Build(EphemeralChain());
  const Node& s = Find(g, "seed.proj.s");
  EXPECT_EQ(s.kind, NodeKind::kSeed);
  EXPECT_TRUE(s.deps.empty());
  EXPECT_EQ(s.inputs, (Strings{"seeds/s.csv"}));
}

TEST(BuildGraph, NodeFieldsComeFromTheManifest) {
  Manifest m;
  m.project_name = "proj";
  ManifestNode x = MakeNode("model.proj.x", "models/staging/x.sql");
  x.fqn = {"proj", "staging", "x"};
  m.nodes = {x};
  Graph g = Build(m);
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node& n = g.nodes[0];
  EXPECT_EQ(n.unique_id, "model.proj.x");
  EXPECT_EQ(n.name, "x");
  EXPECT_EQ(n.package, "proj");
  EXPECT_EQ(n.kind, NodeKind::kModel);
  EXPECT_EQ(n.fqn, (Strings{"proj", "staging", "x"}));
  EXPECT_EQ(n.file, "models/staging/x.sql");
  EXPECT_EQ(n.inputs, (Strings{"models/staging/x.sql"}));
  EXPECT_FALSE(n.IsTest());
}

// dbt 1.12 honours config.on_error: continue on models only.
TEST(BuildGraph, OnErrorContinueCountsForModelsOnly) {
  Manifest m;
  m.project_name = "proj";
  ManifestNode a = MakeNode("model.proj.a", "models/a.sql");
  ManifestNode b = MakeNode("model.proj.b", "models/b.sql");
  ManifestNode s = MakeNode("seed.proj.s", "seeds/s.csv");
  a.on_error = s.on_error = "continue";
  b.on_error = "skip_children";
  m.nodes = {a, b, s};
  Graph g = Build(m);
  ASSERT_EQ(g.nodes.size(), 3u);
  EXPECT_TRUE(g.nodes[0].on_error_continue);
  EXPECT_FALSE(g.nodes[1].on_error_continue);
  EXPECT_FALSE(g.nodes[2].on_error_continue);
}

TEST(BuildGraph, OtherPackagesContributeNoInputs) {
  Manifest m;
  m.project_name = "proj";
  ManifestNode dep = MakeNode("model.dep_pkg.util", "models/util.sql");
  dep.package_name = "dep_pkg";
  dep.patch_path = "models/schema.yml";
  m.nodes = {dep, MakeNode("model.proj.x", "models/x.sql", {"model.dep_pkg.util"})};
  Graph g = Build(m);
  ASSERT_EQ(Ids(g), (Strings{"model.dep_pkg.util", "model.proj.x"}));
  EXPECT_EQ(g.nodes[0].package, "dep_pkg");
  EXPECT_TRUE(g.nodes[0].inputs.empty());
  EXPECT_EQ(g.nodes[1].deps, (std::vector<int>{0}));
}

// A root seed that overrides a package's seed is patched from the package's
// yml ("dep_pkg://seeds/seeds.yml"): that file is not the project's, and a
// path of the project's own that does not exist would stop every ninja.
TEST(BuildGraph, APatchFromAnotherPackageIsNoInput) {
  Manifest m;
  m.project_name = "proj";
  ManifestNode seed = MakeNode("seed.proj.country_codes", "seeds/country_codes.csv");
  seed.patch_path = "seeds/seeds.yml";
  seed.patch_package = "dep_pkg";
  ManifestNode own = MakeNode("seed.proj.rates", "seeds/rates.csv");
  own.patch_path = "seeds/_seeds.yml";
  own.patch_package = "proj";
  m.nodes = {seed, own};
  Graph g = Build(m);
  EXPECT_EQ(g.nodes[0].inputs, (Strings{"seeds/country_codes.csv"}));
  EXPECT_EQ(g.nodes[1].inputs, (Strings{"seeds/_seeds.yml", "seeds/rates.csv"}));
}

TEST(BuildGraph, SourcesAreIgnored) {
  Manifest m;
  m.project_name = "proj";
  m.nodes = {MakeNode("model.proj.x", "models/x.sql", {"source.proj.raw.customers"})};
  Graph g = Build(m);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_TRUE(g.nodes[0].deps.empty());
}

TEST(BuildGraph, DisabledNodesAreSkipped) {
  Manifest m;
  m.project_name = "proj";
  ManifestNode off = MakeNode("model.proj.off", "models/off.sql");
  off.enabled = false;
  ManifestNode off_test = MakeNode("test.proj.not_null_off_id", "models/off.yml", {"model.proj.off"});
  off_test.enabled = false;
  m.nodes = {off, off_test, MakeNode("model.proj.on", "models/on.sql")};
  EXPECT_EQ(Ids(Build(m)), (Strings{"model.proj.on"}));
}

TEST(BuildGraph, AnalysesAndOperationsAreSkipped) {
  Manifest m;
  m.project_name = "proj";
  m.nodes = {MakeNode("analysis.proj.explore", "analyses/explore.sql", {"model.proj.x"}),
             MakeNode("operation.proj.proj-on-run-end-0", "dbt_project.yml"),
             MakeNode("sql_operation.proj.q", "q.sql"),
             MakeNode("model.proj.x", "models/x.sql")};
  EXPECT_EQ(Ids(Build(m)), (Strings{"model.proj.x"}));
}

TEST(BuildGraph, KindsOfExecutableNodes) {
  Manifest m;
  m.project_name = "proj";
  m.nodes = {MakeNode("model.proj.m", "models/m.sql", {"seed.proj.s", "snapshot.proj.snap"}),
             MakeNode("seed.proj.s", "seeds/s.csv"),
             MakeNode("snapshot.proj.snap", "snapshots/snap.sql", {}, "snapshot"),
             MakeNode("test.proj.t", "tests/t.sql", {"model.proj.m"}, "test"),
             MakeNode("unit_test.proj.m.ut", "models/_m.yml", {"model.proj.m"})};
  Graph g = Build(m);
  ASSERT_EQ(g.nodes.size(), 5u);
  EXPECT_EQ(g.nodes[0].kind, NodeKind::kModel);
  EXPECT_EQ(g.nodes[0].deps, (std::vector<int>{1, 2}));
  EXPECT_EQ(g.nodes[1].kind, NodeKind::kSeed);
  EXPECT_EQ(g.nodes[2].kind, NodeKind::kSnapshot);
  EXPECT_EQ(g.nodes[3].kind, NodeKind::kTest);
  EXPECT_TRUE(g.nodes[3].IsTest());
  EXPECT_EQ(g.nodes[4].kind, NodeKind::kUnitTest);
  EXPECT_TRUE(g.nodes[4].IsTest());
  EXPECT_STREQ(NodeKindName(g.nodes[4].kind), "unit_test");
}

TEST(BuildGraph, UnitTestDependsOnItsModel) {
  Manifest m;
  m.project_name = "proj";
  ManifestNode ut = MakeNode("unit_test.proj.x.test_x", "models/_x.yml", {"model.proj.x"});
  m.nodes = {MakeNode("model.proj.x", "models/x.sql"), ut};
  Graph g = Build(m);
  ASSERT_EQ(Ids(g), (Strings{"model.proj.x", "unit_test.proj.x.test_x"}));
  EXPECT_EQ(g.nodes[1].kind, NodeKind::kUnitTest);
  EXPECT_EQ(g.nodes[1].deps, (std::vector<int>{0}));
  EXPECT_EQ(g.nodes[1].inputs, (Strings{"models/_x.yml"}));
}

TEST(BuildGraph, CycleNamesTheManifest) {
  Manifest m;
  m.project_name = "proj";
  m.nodes = {MakeNode("model.proj.a", "models/a.sql", {"model.proj.c"}),
             MakeNode("model.proj.b", "models/b.sql", {"model.proj.a"}),
             MakeNode("model.proj.c", "models/c.sql", {"model.proj.b"})};
  EXPECT_EQ(BuildError(m), "/p/target/manifest.json: the dependency graph has a cycle");
}

TEST(BuildGraph, CycleThroughAnEphemeralModel) {
  Manifest m;
  m.project_name = "proj";
  m.nodes = {MakeNode("model.proj.a", "models/a.sql", {"model.proj.e"}),
             MakeNode("model.proj.e", "models/e.sql", {"model.proj.a"}, "ephemeral")};
  EXPECT_EQ(BuildError(m), "/p/target/manifest.json: the dependency graph has a cycle");
}

TEST(BuildGraph, MissingDependencyNamesBothNodes) {
  Manifest m;
  m.project_name = "proj";
  m.nodes = {MakeNode("model.proj.a", "models/a.sql", {"model.proj.x"})};
  EXPECT_EQ(BuildError(m),
            "/p/target/manifest.json: node 'model.proj.a' depends on 'model.proj.x', which the "
            "manifest lacks");
}

// The fuzzer's find: ids quoted from the manifest may hold newlines (JSON
// allows "\n" in a key); the message stays one line.
TEST(BuildGraph, MissingDependencyOfAnIdWithNewlinesIsOneLine) {
  Manifest m;
  m.project_name = "proj";
  m.nodes = {MakeNode("model.proj.a\nb", "models/a.sql", {"model.proj.x\r\ny"})};
  EXPECT_EQ(BuildError(m),
            "/p/target/manifest.json: node 'model.proj.a b' depends on 'model.proj.x  y', which "
            "the manifest lacks");
}

TEST(BuildGraph, MissingDependencyOfAnEphemeralModel) {
  Manifest m;
  m.project_name = "proj";
  m.nodes = {MakeNode("model.proj.a", "models/a.sql", {"model.proj.e"}),
             MakeNode("model.proj.e", "models/e.sql", {"seed.proj.gone"}, "ephemeral")};
  EXPECT_EQ(BuildError(m),
            "/p/target/manifest.json: node 'model.proj.e' depends on 'seed.proj.gone', which the "
            "manifest lacks");
}

// A large manifest is built on two threads (util/parallel.h): every node
// comes out as it does when built alone with what it needs, and a bad one
// is reported by the first in node order, whichever thread met it.
Manifest ManyNodes(int count) {
  Manifest m;
  m.project_name = "proj";
  m.macros = {MakeMacro("macro.proj.money", "proj", "macros/money.sql", {"macro.dbt.round"}),
              MakeMacro("macro.dbt.round", "dbt", "macros/round.sql")};
  for (int i = 0; i < count; ++i) {
    std::string n = std::to_string(i);
    // Every third model is ephemeral and folded into the next one.
    bool ephemeral = i % 3 == 1;
    Strings deps;
    if (i > 0) deps.push_back("model.proj.m" + std::to_string(i - 1));
    ManifestNode node =
        MakeNode("model.proj.m" + n, "models/m" + n + ".sql", deps, ephemeral ? "ephemeral" : "");
    node.definition = "definition " + n;
    if (i % 2) node.depends_on_macros = {"macro.proj.money"};
    m.nodes.push_back(node);
  }
  return m;
}

TEST(BuildGraph, ManyNodesAreEachAsBuiltAlone) {
  const int kNodes = 6000;  // above the size that takes a second thread
  const Manifest many = ManyNodes(kNodes);
  Graph all = Build(many);
  ASSERT_EQ(all.nodes.size(), static_cast<size_t>(kNodes - kNodes / 3));
  for (int i = 0; i < kNodes; i += 7) {
    if (i % 3 == 1) continue;
    // The node with what it needs: the ephemeral model before it and that
    // one's executable parent, or its executable parent (without deps).
    int first = i % 3 == 2 ? i - 2 : i % 3 == 0 && i > 0 ? i - 1 : i;
    Manifest alone = ManyNodes(0);
    for (int k = first; k <= i; ++k) alone.nodes.push_back(many.nodes[k]);
    alone.nodes.front().depends_on_nodes.clear();
    Graph small = Build(alone);
    const Node& expected = Find(small, "model.proj.m" + std::to_string(i));
    const Node& got = Find(all, expected.unique_id);
    EXPECT_EQ(got.fingerprint, expected.fingerprint) << expected.unique_id;
    EXPECT_EQ(got.inputs, expected.inputs) << expected.unique_id;
    Strings expected_deps, got_deps;
    for (int d : expected.deps) expected_deps.push_back(small.nodes[d].unique_id);
    for (int d : got.deps) got_deps.push_back(all.nodes[d].unique_id);
    EXPECT_EQ(got_deps, expected_deps) << expected.unique_id;
  }
}

TEST(BuildGraph, ManyNodesReportTheFirstBadOne) {
  Manifest m = ManyNodes(6000);
  // By unique_id m4000 (ephemeral: reported through m4001) comes before
  // m5999 and m600.
  m.nodes[600].depends_on_nodes.push_back("seed.proj.gone600");
  m.nodes[5999].depends_on_nodes.push_back("seed.proj.gone5999");
  m.nodes[4000].depends_on_nodes.push_back("seed.proj.gone4000");
  auto by_id = [](const auto& a, const auto& b) { return a.unique_id < b.unique_id; };
  std::sort(m.nodes.begin(), m.nodes.end(), by_id);
  EXPECT_EQ(BuildError(m),
            "/p/target/manifest.json: node 'model.proj.m4000' depends on 'seed.proj.gone4000', "
            "which the manifest lacks");
}

TEST(Graph, TopologicalOrderBreaksTiesByIndex) {
  Graph g;
  g.nodes.resize(4);
  g.nodes[0].deps = {3};
  g.nodes[1].deps = {};
  g.nodes[2].deps = {1};
  g.nodes[3].deps = {};
  EXPECT_EQ(g.TopologicalOrder(), (std::vector<int>{1, 2, 3, 0}));
}

TEST(Node, SelectorJoinsFqnWithDots) {
  Node n;
  n.fqn = {"proj", "staging", "stg_a"};
  EXPECT_EQ(n.Selector(), "proj.staging.stg_a");
  n.fqn = {"proj"};
  EXPECT_EQ(n.Selector(), "proj");
  n.fqn = {};
  EXPECT_EQ(n.Selector(), "");
}

// What changes a node's fingerprint: its own definition, a macro it uses
// through another macro (in any package), an ephemeral model folded into
// it; not a change of an unrelated node, nor of its executable parent.
TEST(Fingerprint, CoversDefinitionMacrosAndFoldedEphemerals) {
  auto manifest = [](const std::string& leaf_def, const std::string& macro_sql,
                     const std::string& ephemeral_def, const std::string& parent_def) {
    Manifest m;
    m.project_name = "proj";
    m.nodes = {MakeNode("model.proj.parent", "models/parent.sql"),
               MakeNode("model.proj.eph", "models/eph.sql", {"model.proj.parent"}, "ephemeral"),
               MakeNode("model.proj.leaf", "models/leaf.sql", {"model.proj.eph"}),
               MakeNode("model.proj.other", "models/other.sql")};
    m.nodes[0].definition = parent_def;
    m.nodes[1].definition = ephemeral_def;
    m.nodes[2].definition = leaf_def;
    m.nodes[2].depends_on_macros = {"macro.proj.outer"};
    m.macros = {MakeMacro("macro.proj.outer", "proj", "macros/outer.sql", {"macro.pkg.inner"}),
                MakeMacro("macro.pkg.inner", "pkg", "macros/inner.sql", {}, macro_sql)};
    return Build(m);
  };
  auto leaf = [](const Graph& g) { return Find(g, "model.proj.leaf").fingerprint; };
  Graph base = manifest("leaf", "inner", "eph", "parent");
  EXPECT_EQ(leaf(manifest("leaf", "inner", "eph", "parent")), leaf(base));
  EXPECT_NE(leaf(manifest("leaf2", "inner", "eph", "parent")), leaf(base));
  EXPECT_NE(leaf(manifest("leaf", "inner2", "eph", "parent")), leaf(base));
  EXPECT_NE(leaf(manifest("leaf", "inner", "eph2", "parent")), leaf(base));
  // The parent is a node of its own: it reruns, and the leaf follows through
  // the upstream check, not through its fingerprint.
  EXPECT_EQ(leaf(manifest("leaf", "inner", "eph", "parent2")), leaf(base));
  EXPECT_EQ(Find(base, "model.proj.other").fingerprint,
            Find(manifest("leaf2", "inner2", "eph2", "parent"), "model.proj.other").fingerprint);
}

TEST(Fingerprint, LargeSeedsAreHashedFromTheirFile) {
  fs::path dir = fs::path(::testing::TempDir()) / "pa_gen_large_seed";
  fs::create_directories(dir / "seeds");
  Manifest m;
  m.project_name = "proj";
  m.nodes = {MakeNode("seed.proj.big", "seeds/big.csv")};
  m.nodes[0].checksum_is_path = true;
  auto fingerprint = [&](const std::string& content) {
    std::ofstream(dir / "seeds" / "big.csv", std::ios::trunc) << content;
    Graph graph = Build(m);
    std::string err;
    EXPECT_TRUE(FingerprintFileContents(dir, &graph, &err)) << err;
    return graph.nodes[0].fingerprint;
  };
  EXPECT_EQ(fingerprint("a,b\n1,2\n"), fingerprint("a,b\n1,2\n"));
  EXPECT_NE(fingerprint("a,b\n1,2\n"), fingerprint("a,b\n1,3\n"));

  fs::remove(dir / "seeds" / "big.csv");
  Graph graph = Build(m);
  std::string err;
  EXPECT_FALSE(FingerprintFileContents(dir, &graph, &err));
  EXPECT_NE(err.find("big.csv: cannot read"), std::string::npos) << err;
}

}  // namespace
