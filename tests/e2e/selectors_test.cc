// The selectors of gen/plan/selectors against dbt's own resolution: on a
// small project with nested folders, a folder with a space, a model named
// like its folder, versioned models and names dbt would misread, the real
// `dbt ls --select <selectors> --indirect-selection cautious` lists exactly
// the wanted nodes.
#include <algorithm>
#include <random>
#include <set>

#include "e2e_util.h"
#include "graph/graph.h"
#include "manifest/manifest.h"
#include "plan/selectors.h"
#include "write/plan.h"
#include "util/escape.h"

namespace {

void WriteProject(const fs::path& p) {
  auto Write = [](const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    ::Write(path, text);
  };
  Write(p / "dbt_project.yml",
        "name: sel\nversion: '1.0'\nprofile: sel\nmodel-paths: [models]\n"
        "analysis-paths: [analyses]\nseed-paths: [seeds]\n");
  Write(p / "profiles.yml",
        "sel:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: sel.duckdb\n");
  Write(p / "seeds/s1.csv", "id\n1\n");
  Write(p / "models/staging/stg_a.sql", "select 1 as id\n");
  Write(p / "models/staging/stg_b.sql", "select 1 as id\n");
  Write(p / "models/staging/schema.yml",
        "models:\n"
        "  - name: stg_a\n    columns:\n      - name: id\n        data_tests: [not_null]\n"
        "  - name: stg_b\n    columns:\n      - name: id\n        data_tests:\n"
        "          - not_null\n"
        "          - relationships:\n              arguments:\n                to: ref('stg_a')\n"
        "                field: id\n");
  Write(p / "models/marts/core/fct.sql", "select * from {{ ref('stg_a') }}\n");
  Write(p / "models/marts/core/dim.sql", "select * from {{ ref('stg_b') }}\n");
  Write(p / "models/marts/report.sql", "select * from {{ ref('fct') }}\n");
  Write(p / "models/a.sql", "select 1 as id\n");      // a model named like a folder
  Write(p / "models/a/x.sql", "select 1 as id\n");
  Write(p / "models/my folder/sp_one.sql", "select * from {{ ref('s1') }}\n");
  Write(p / "models/my folder/sp_two.sql", "select 1 as id\n");
  Write(p / "models/my folder/schema.yml",
        "models:\n  - name: sp_one\n    columns:\n      - name: id\n        data_tests: [not_null]\n");
  Write(p / "models/my_folder/sp_three.sql", "select 1 as id\n");
  Write(p / "models/odd/b+1.sql", "select 1 as id\n");
  Write(p / "models/odd/-d.sql", "select 1 as id\n");
  Write(p / "models/odd/f.py.sql", "select 1 as id\n");
  Write(p / "models/odd/c,d.sql", "select 1 as id\n");
  Write(p / "models/eph/e.sql", "{{ config(materialized='ephemeral') }}\nselect 1 as id\n");
  Write(p / "models/eph/uses_e.sql", "select * from {{ ref('e') }}\n");
  Write(p / "models/ver/orders_v1.sql", "select 1 as id\n");
  Write(p / "models/ver/orders_v2.sql", "select 2 as id\n");
  Write(p / "models/ver/orders.yml",
        "models:\n  - name: orders\n    latest_version: 2\n    versions:\n      - v: 1\n      - v: 2\n");
  Write(p / "analyses/an.sql", "select 1\n");
}

class SelectorsE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = TestRoot("selectors");
    WriteProject(root_ / "sel");
    Result parse = Shell(root_ / "sel", (kVenv / "dbt").string() +
                                            " parse --project-dir . --profiles-dir . 2>&1");
    ASSERT_EQ(parse.code, 0) << parse.out;
    std::string err;
    ASSERT_TRUE(LoadManifest(root_ / "sel/target/manifest.json", &manifest_, &err)) << err;
    ASSERT_TRUE(BuildGraph(manifest_, "manifest.json", &graph_, &err)) << err;
  }
  static void TearDownTestSuite() { RemoveUnlessFailed(root_); }

  // `ids` and every test whose parents are all in it, as cautious selection adds them.
  static std::set<std::string> Closed(std::set<std::string> ids) {
    for (const Node& node : graph_.nodes) {
      if (!node.IsTest() || node.deps.empty()) continue;
      bool all = std::all_of(node.deps.begin(), node.deps.end(),
                             [&](int d) { return ids.count(graph_.nodes[d].unique_id) > 0; });
      if (all) ids.insert(node.unique_id);
    }
    return ids;
  }

  // What dbt selects with the module's selectors for `wanted`.
  static std::set<std::string> DbtLs(const std::set<std::string>& wanted,
                                     std::vector<std::string>* selectors) {
    SelectorIndex index(SelectableNodes(manifest_, graph_));
    std::string err;
    EXPECT_TRUE(index.Select({wanted.begin(), wanted.end()}, selectors, &err)) << err;
    std::string command = (kVenv / "dbt").string() +
                          " --quiet ls --project-dir . --profiles-dir . --select";
    for (const std::string& s : *selectors) command += " " + ShellQuote(s);
    command += " --indirect-selection cautious --resource-type model seed snapshot test unit_test"
               " --output json --output-keys unique_id 2>&1";
    Result ls = Shell(root_ / "sel", command);
    EXPECT_EQ(ls.code, 0) << ls.out;
    std::set<std::string> neutral;
    for (const SelectableNode& n : SelectableNodes(manifest_, graph_))
      if (n.neutral) neutral.insert(n.unique_id);
    std::set<std::string> got;
    size_t at = 0;
    while ((at = ls.out.find("{\"unique_id\": \"", at)) != std::string::npos) {
      at += 15;
      std::string id = ls.out.substr(at, ls.out.find('"', at) - at);
      // `dbt ls` lists an ephemeral model that `dbt build` does not run.
      if (neutral.count(id)) EXPECT_EQ(id, "model.sel.e");
      else got.insert(id);
    }
    return got;
  }

  static std::string Id(const std::string& name) {
    for (const Node& node : graph_.nodes)
      if (node.name == name || node.unique_id == name) return node.unique_id;
    ADD_FAILURE() << "no node " << name;
    return "";
  }

  static inline fs::path root_;
  static inline Manifest manifest_;
  static inline Graph graph_;
};

TEST_F(SelectorsE2E, NamedSetsSelectExactly) {
  struct Case {
    std::vector<std::string> names;
    std::vector<std::string> selectors;
  };
  const std::vector<Case> cases = {
      {{"stg_a", "stg_b"}, {"fqn:sel.staging"}},
      {{"stg_a"}, {"fqn:sel.staging.not_null_stg_a_id", "fqn:sel.staging.stg_a"}},
      {{"a"}, {"fqn:sel.[a]"}},
      {{"x"}, {"fqn:sel.a.x"}},
      {{"sp_one", "sp_two"}, {}},
      {{"sp_two"}, {"fqn:sel.my?folder.sp_two"}},
      {{"sp_three"}, {"fqn:sel.my_folder"}},
      {{"b+1", "-d", "f.py", "c,d"}, {}},
      {{"model.sel.orders.v1"}, {"fqn:sel.ver.orders.v1"}},
      {{"uses_e"}, {"fqn:sel.eph"}},  // the ephemeral model is neutral: dbt build does not run it
  };
  for (const Case& c : cases) {
    std::set<std::string> ids;
    for (const std::string& name : c.names) ids.insert(Id(name));
    std::set<std::string> wanted = Closed(ids);
    std::vector<std::string> selectors;
    std::set<std::string> got = DbtLs(wanted, &selectors);
    std::string listed;
    for (const std::string& s : selectors) listed += " " + s;
    EXPECT_EQ(got, wanted) << "selectors:" << listed;
    if (!c.selectors.empty()) EXPECT_EQ(selectors, c.selectors);
  }
}

TEST_F(SelectorsE2E, RandomSetsSelectExactly) {
  std::mt19937 rng(11);
  for (int round = 0; round < 2; ++round) {
    std::set<std::string> ids;
    for (const Node& node : graph_.nodes)
      if (!node.IsTest() && rng() % 2) ids.insert(node.unique_id);
    std::set<std::string> wanted = Closed(ids);
    std::vector<std::string> selectors;
    std::set<std::string> got = DbtLs(wanted, &selectors);
    std::string listed;
    for (const std::string& s : selectors) listed += " " + s;
    EXPECT_EQ(got, wanted) << "selectors:" << listed;
  }
}

}  // namespace

namespace {

// Issue 13, class 3: models in a folder whose name holds a space are built,
// whole and after an edit of one of them, by pa-gen and the real ninja.
TEST(SelectorsBuild, FolderWithASpaceBuilds) {
  fs::path root = TestRoot("selectors-build");
  fs::path p = root / "space";
  auto Write = [](const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    ::Write(path, text);
  };
  Write(p / "dbt_project.yml", "name: space\nversion: '1.0'\nprofile: space\n");
  Write(p / "profiles.yml",
        "space:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: space.duckdb\n");
  Write(p / "models/staging/stg.sql", "select 1 as id\n");
  Write(p / "models/my folder/sp_one.sql", "select * from {{ ref('stg') }}\n");
  Write(p / "models/my folder/sp_two.sql", "select id, 'first' as v from {{ ref('sp_one') }}\n");
  Write(p / "models/my folder/schema.yml",
        "models:\n  - name: sp_one\n    columns:\n      - name: id\n        data_tests: [not_null]\n");
  std::string pa = "'" + kPaGen.string() + "'";
  Result build = Shell(p, pa + " && ninja 2>&1");
  ASSERT_EQ(build.code, 0) << build.out;
  std::string query = "'" + (kVenv / "python").string() +
                      "' -c \"import duckdb; print(duckdb.connect('space.duckdb', read_only=True)"
                      ".execute('select v from sp_two').fetchone()[0])\"";
  Result first = Shell(p, query);
  EXPECT_EQ(first.out, "first\n");
  Write(p / "models/my folder/sp_two.sql", "select id, 'second' as v from {{ ref('sp_one') }}\n");
  Result edit = Shell(p, pa + " && ninja 2>&1");
  ASSERT_EQ(edit.code, 0) << edit.out;
  EXPECT_EQ(Shell(p, query).out, "second\n");
  Result noop = Shell(p, "ninja 2>&1");
  EXPECT_NE(noop.out.find("no work to do"), std::string::npos) << noop.out;
  RemoveUnlessFailed(root);
}

}  // namespace
