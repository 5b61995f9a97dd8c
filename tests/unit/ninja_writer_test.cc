#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "graph/graph.h"
#include "group/partition.h"
#include "group/policy.h"
#include "manifest/project.h"
#include "write/ninja_file.h"

namespace {

using Strings = std::vector<std::string>;

// Set PA_UPDATE_GOLDEN=1 to rewrite tests/data/golden_build.ninja from the
// current output (then review the diff before keeping it).
const char kGoldenFile[] = PA_TEST_DATA "/golden_build.ninja";

Node MakeNode(const std::string& unique_id, NodeKind kind, Strings inputs, std::vector<int> deps) {
  Node n;
  n.unique_id = unique_id;
  n.name = unique_id.substr(unique_id.find('.', unique_id.find('.') + 1) + 1);
  if (kind == NodeKind::kTest) n.name = n.name.substr(0, n.name.rfind('.'));
  n.package = "proj";
  n.kind = kind;
  n.fqn = {"proj", n.name};
  n.file = inputs.front();
  std::sort(inputs.begin(), inputs.end());
  n.inputs = std::move(inputs);
  n.deps = std::move(deps);
  return n;
}

// 2 seeds, 2 staging models, 1 mart, a not_null test on a staging model and
// a relationships test across staging and marts (it runs in marts, the
// batch that staging leads to). Sorted by unique_id.
Graph TinyGraph() {
  Graph g;
  g.nodes = {
      /*0*/ MakeNode("model.proj.fct_orders", NodeKind::kModel,
                     {"models/marts/fct_orders.sql", "models/marts/_marts.yml"}, {1, 2}),
      /*1*/ MakeNode("model.proj.stg_customers", NodeKind::kModel,
                     {"models/staging/stg_customers.sql", "models/staging/_staging.yml",
                      "macros/money.sql"},
                     {3}),
      /*2*/ MakeNode("model.proj.stg_orders", NodeKind::kModel,
                     {"models/staging/stg_orders.sql", "models/staging/_staging.yml"}, {4}),
      /*3*/ MakeNode("seed.proj.raw_customers", NodeKind::kSeed, {"seeds/raw_customers.csv"}, {}),
      /*4*/ MakeNode("seed.proj.raw_orders", NodeKind::kSeed, {"seeds/raw_orders.csv"}, {}),
      /*5*/ MakeNode("test.proj.not_null_stg_orders_order_id.5fb22c2a", NodeKind::kTest,
                     {"models/staging/_staging.yml"}, {2}),
      /*6*/ MakeNode("test.proj.relationships_fct_orders_customer_id__id__ref_stg_customers_.c6ec7f58",
                     NodeKind::kTest, {"models/marts/_marts.yml"}, {0, 1}),
  };
  return g;
}

DbtProject TinyProject() {
  DbtProject p;
  p.dir = "/p";
  p.name = "proj";
  p.model_paths = {"models"};
  p.seed_paths = {"seeds"};
  p.snapshot_paths = {"snapshots"};
  p.test_paths = {"tests"};
  p.macro_paths = {"macros"};
  p.analysis_paths = {"analyses"};
  p.packages_install_path = "dbt_packages";
  return p;
}

// Owns everything a BuildDescription points at.
struct Fixture {
  DbtProject project = TinyProject();
  Graph graph = TinyGraph();
  Strings names = UniqueNodeNames(graph);
  Partition partition = PartitionGraph(graph, GroupKeys(Policy{}, project, graph, names), names);
  std::vector<BatchSettings> settings = std::vector<BatchSettings>(partition.batches.size());
  Plan plan = MakePlan(".", DbtSettings{}, "settings", graph, partition, settings);

  BuildDescription Describe(const fs::path& output) const {
    std::string out_dir = output.parent_path().string();
    return BuildDescription{
        &project,
        &graph,
        &partition,
        &plan,
        names,
        "duckdb",
        output,
        "/opt/pa gen/bin/pa-gen",
        {"--project-dir", out_dir == "/p" ? "." : "../../p", "-o", "build.ninja", "--profiles-dir",
         "/p", "--vars", "{\"start_year\": 2025, \"cost\": \"$5\"}", "--dbt", "/p/.venv/bin/dbt",
         "--policy", "folder"},
        {"/p/dbt_project.yml", "/p/profiles.yml"},
        {"/p/macros", "/p/models", "/p/models/marts", "/p/models/staging", "/p/seeds"},
        &settings,
        {},
    };
  }
};

std::string Render(const BuildDescription& d) {
  std::string out, err;
  EXPECT_TRUE(WriteNinja(MakeNinjaFile(d), &out, &err)) << err;
  return out;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

Strings Lines(const std::string& text) {
  Strings lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool HasLine(const std::string& text, const std::string& line) {
  Strings lines = Lines(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

TEST(NinjaWriter, PartitionOfTheTinyProject) {
  Fixture f;
  std::string batches;
  for (const Batch& b : f.partition.batches) batches += b.name + " ";
  EXPECT_EQ(batches, "marts seeds staging ");
}

TEST(NinjaWriter, MatchesGoldenFile) {
  Fixture f;
  std::string text = Render(f.Describe("/p/build.ninja"));
  if (std::getenv("PA_UPDATE_GOLDEN")) {
    std::ofstream(kGoldenFile, std::ios::binary) << text;
  }
  std::string golden = ReadText(kGoldenFile);
  ASSERT_FALSE(golden.empty()) << kGoldenFile << " is missing";
  EXPECT_EQ(text, golden);
}

TEST(NinjaWriter, GoldenFileShape) {
  // The parts of the golden text that matter most, spelled out, so that a
  // careless golden update cannot drop them unnoticed.
  Fixture f;
  std::string text = Render(f.Describe("/p/build.ninja"));
  EXPECT_EQ(text.rfind("ninja_required_version = 1.10\n", 0), 0u);
  EXPECT_TRUE(HasLine(text, "pa_gen = '/opt/pa gen/bin/pa-gen'"));
  EXPECT_TRUE(HasLine(text, "plan = .pa-plan.json"));
  EXPECT_TRUE(HasLine(text, "rule dbt"));
  EXPECT_TRUE(HasLine(text, "rule regenerate"));
  EXPECT_TRUE(HasLine(text, "pool duckdb"));
  EXPECT_TRUE(HasLine(text, "  depth = 1"));
  EXPECT_TRUE(HasLine(text,
                      "build build.ninja | .pa-plan.json: regenerate dbt_project.yml profiles.yml | "
                      "/p/macros /p/models /p/models/marts /p/models/staging /p/seeds "
                      "/opt/pa$ gen/bin/pa-gen"));
  EXPECT_TRUE(HasLine(text,
                      "build .pa/stamps/marts.stamp: dbt models/marts/_marts.yml "
                      "models/marts/fct_orders.sql | .pa/stamps/staging.stamp"));
  EXPECT_TRUE(HasLine(text, "build .pa/stamps/seeds.stamp: dbt seeds/raw_customers.csv seeds/raw_orders.csv"));
  EXPECT_TRUE(HasLine(text, "build fct_orders: phony .pa/stamps/marts.stamp"));
  EXPECT_TRUE(HasLine(text, "default all"));
  int dbt_edges = 0, pooled = 0;
  for (const std::string& line : Lines(text)) {
    if (line.find(": dbt ") != std::string::npos) ++dbt_edges;
    if (line == "  pool = duckdb") ++pooled;
  }
  EXPECT_EQ(dbt_edges, 3);
  EXPECT_EQ(pooled, 3);
  EXPECT_EQ(text.substr(text.size() - 13), "\ndefault all\n");
}

// The fixture's graph grouped by folder again, each batch cut into pieces
// of at most `max_members` (LimitBatchSize), then `failed` split node by node.
void Recut(Fixture* f, int max_members, const std::set<std::string>& failed = {}) {
  f->names = UniqueNodeNames(f->graph);
  f->partition = PartitionGraph(f->graph, GroupKeys(Policy{}, f->project, f->graph, f->names), f->names);
  LimitBatchSize(f->graph, f->names, max_members, &f->partition);
  SplitIntoNodes(f->graph, f->names, failed, &f->partition);
  f->settings.assign(f->partition.batches.size(), BatchSettings{});
  f->plan = MakePlan(".", DbtSettings{}, "settings", f->graph, f->partition, f->settings);
}

// The phony lines of a build file, in order.
Strings PhonyLines(const std::string& text) {
  Strings phonies;
  for (const std::string& line : Lines(text))
    if (line.find(": phony .pa/stamps/") != std::string::npos) phonies.push_back(line);
  return phonies;
}

// A test of both staging models, which the cut puts in different pieces.
void AddTestOfBothStagingModels(Fixture* f) {
  f->graph.nodes.push_back(MakeNode("test.proj.unique_pair_stg_customers_stg_orders.0a1b2c3d",
                                    NodeKind::kTest, {"models/staging/_staging.yml"}, {1, 2}));
}

// A folder cut into pieces (the server default above 64 models) is still a
// target, `ninja staging`, of all its pieces and of the test of its nodes
// alone that runs apart from them; a batch cut into one piece per model
// (seeds) too; a batch left whole (marts) is its own target as before.
TEST(NinjaWriter, ACutFolderIsStillATarget) {
  Fixture f;
  AddTestOfBothStagingModels(&f);
  Recut(&f, 1);
  std::string text = Render(f.Describe("/p/build.ninja"));
  EXPECT_EQ(PhonyLines(text),
            (Strings{
                "build fct_orders: phony .pa/stamps/marts.stamp",
                "build marts: phony .pa/stamps/marts.stamp",
                "build raw_customers: phony .pa/stamps/seeds.1.stamp",
                "build raw_orders: phony .pa/stamps/seeds.2.stamp",
                "build seeds: phony .pa/stamps/seeds.1.stamp .pa/stamps/seeds.2.stamp",
                "build seeds.1: phony .pa/stamps/seeds.1.stamp",
                "build seeds.2: phony .pa/stamps/seeds.2.stamp",
                "build staging: phony .pa/stamps/staging.1.stamp .pa/stamps/staging.2.stamp "
                ".pa/stamps/unique_pair_stg_customers_stg_orders.stamp",
                "build staging.1: phony .pa/stamps/staging.1.stamp",
                "build staging.2: phony .pa/stamps/staging.2.stamp",
                "build stg_customers: phony .pa/stamps/staging.1.stamp",
                "build stg_orders: phony .pa/stamps/staging.2.stamp",
                "build unique_pair_stg_customers_stg_orders: phony "
                ".pa/stamps/unique_pair_stg_customers_stg_orders.stamp",
            }))
      << text;
}

// A piece of a cut folder split node by node after a failure stays in the
// folder's target (and in the piece's).
TEST(NinjaWriter, APieceSplitNodeByNodeStaysInItsFolder) {
  Fixture f;
  f.graph.nodes.push_back(MakeNode("model.proj.stg_payments", NodeKind::kModel,
                                   {"models/staging/stg_payments.sql"}, {2}));
  Recut(&f, 2, {"staging.1"});
  std::string text = Render(f.Describe("/p/build.ninja"));
  Strings phonies = PhonyLines(text);
  Strings folder;
  for (const std::string& line : phonies)
    if (line.rfind("build staging", 0) == 0) folder.push_back(line);
  EXPECT_EQ(folder,
            (Strings{
                "build staging: phony .pa/stamps/staging.1.stg_customers.stamp "
                ".pa/stamps/staging.1.stg_orders.stamp .pa/stamps/staging.2.stamp",
                "build staging.1: phony .pa/stamps/staging.1.stg_customers.stamp "
                ".pa/stamps/staging.1.stg_orders.stamp",
                "build staging.1.stg_customers: phony .pa/stamps/staging.1.stg_customers.stamp",
                "build staging.1.stg_orders: phony .pa/stamps/staging.1.stg_orders.stamp",
                "build staging.2: phony .pa/stamps/staging.2.stamp",
            }))
      << text;
}

// A folder split to keep the batch graph acyclic (a staging model that reads
// a mart) is still a target of all its parts, also once a part is cut.
TEST(NinjaWriter, ASplitFolderIsStillATarget) {
  Fixture f;
  f.graph.nodes.push_back(MakeNode("model.proj.stg_late", NodeKind::kModel,
                                   {"models/staging/stg_late.sql"}, {0}));
  Recut(&f, 0);
  Strings folder;
  for (const std::string& line : PhonyLines(Render(f.Describe("/p/build.ninja"))))
    if (line.rfind("build staging", 0) == 0) folder.push_back(line);
  EXPECT_EQ(folder, (Strings{
                        "build staging: phony .pa/stamps/staging.1.stamp .pa/stamps/staging.2.stamp",
                        "build staging.1: phony .pa/stamps/staging.1.stamp",
                        "build staging.2: phony .pa/stamps/staging.2.stamp",
                    }));
  Recut(&f, 1);
  folder.clear();
  for (const std::string& line : PhonyLines(Render(f.Describe("/p/build.ninja"))))
    if (line.rfind("build staging", 0) == 0) folder.push_back(line);
  EXPECT_EQ(folder, (Strings{
                        "build staging: phony .pa/stamps/staging.1.1.stamp "
                        ".pa/stamps/staging.1.2.stamp .pa/stamps/staging.2.stamp",
                        "build staging.1: phony .pa/stamps/staging.1.1.stamp "
                        ".pa/stamps/staging.1.2.stamp",
                        "build staging.1.1: phony .pa/stamps/staging.1.1.stamp",
                        "build staging.1.2: phony .pa/stamps/staging.1.2.stamp",
                        "build staging.2: phony .pa/stamps/staging.2.stamp",
                    }));
}

// The same rule as for any name: a model elsewhere named like the cut
// folder makes `staging` mean two things, and it gets no target, as it
// gets none uncut.
TEST(NinjaWriter, NoFolderTargetWhenANodeElsewhereHasItsName) {
  Fixture f;
  f.graph.nodes[0] = MakeNode("model.proj.staging", NodeKind::kModel,
                              {"models/marts/staging.sql", "models/marts/_marts.yml"}, {1, 2});
  for (int max_members : {0, 1}) {
    Recut(&f, max_members);
    std::string text = Render(f.Describe("/p/build.ninja"));
    for (const std::string& line : PhonyLines(text))
      EXPECT_NE(line.rfind("build staging:", 0), 0u) << max_members << ": " << line;
    EXPECT_TRUE(HasLine(text, "build marts: phony .pa/stamps/marts.stamp")) << text;
  }
}

TEST(NinjaWriter, OutputOutsideTheProjectUsesRelativePaths) {
  Fixture f;
  std::string text = Render(f.Describe("/out/sub/build.ninja"));
  EXPECT_TRUE(HasLine(text, "plan = .pa-plan.json"));
  EXPECT_TRUE(HasLine(text,
                      "build build.ninja | .pa-plan.json: regenerate ../../p/dbt_project.yml "
                      "../../p/profiles.yml | /p/macros /p/models /p/models/marts "
                      "/p/models/staging /p/seeds /opt/pa$ gen/bin/pa-gen"));
  EXPECT_TRUE(HasLine(text,
                      "build ../../p/.pa/stamps/marts.stamp: dbt ../../p/models/marts/_marts.yml "
                      "../../p/models/marts/fct_orders.sql | ../../p/.pa/stamps/staging.stamp"));
  EXPECT_TRUE(HasLine(text,
                      "build ../../p/.pa/stamps/staging.stamp: dbt ../../p/macros/money.sql "
                      "../../p/models/staging/_staging.yml ../../p/models/staging/stg_customers.sql "
                      "../../p/models/staging/stg_orders.sql | ../../p/.pa/stamps/seeds.stamp"));
  EXPECT_TRUE(HasLine(text, "build staging: phony ../../p/.pa/stamps/staging.stamp"));
  EXPECT_TRUE(HasLine(text,
                      "build ../../p/.pa/build.ok: check ../../p/.pa/stamps/marts.stamp "
                      "../../p/.pa/stamps/seeds.stamp ../../p/.pa/stamps/staging.stamp"));
  EXPECT_TRUE(HasLine(text, "build all: phony ../../p/.pa/build.ok"));
  // No project path escapes the relative form.
  for (const std::string& line : Lines(text)) {
    if (line.rfind("build ", 0) != 0 || line.find(": regenerate") != std::string::npos) continue;
    EXPECT_EQ(line.find(" models/"), std::string::npos) << line;
    EXPECT_EQ(line.find(" .pa/"), std::string::npos) << line;
  }
}

TEST(NinjaWriter, WritingTwiceGivesIdenticalText) {
  Fixture f;
  NinjaFile file = MakeNinjaFile(f.Describe("/p/build.ninja"));
  std::string first, second, err;
  ASSERT_TRUE(WriteNinja(file, &first, &err)) << err;
  ASSERT_TRUE(WriteNinja(file, &second, &err)) << err;
  EXPECT_EQ(first, second);
  // And from scratch: same partition, same file.
  Fixture again;
  EXPECT_EQ(Render(again.Describe("/p/build.ninja")), first);
}

TEST(NinjaWriter, PipeInAPathFails) {
  Fixture f;
  f.graph.nodes[2].inputs.push_back("models/a|b.sql");
  NinjaFile file = MakeNinjaFile(f.Describe("/p/build.ninja"));
  std::string out, err;
  EXPECT_FALSE(WriteNinja(file, &out, &err));
  EXPECT_EQ(err, "path 'models/a|b.sql' contains '|', which Ninja cannot express in a path");
}

TEST(NinjaWriter, NewlineInAValueFails) {
  NinjaFile file;
  file.vars = {{"regen_args", "--vars 'a: 1\nb: 2'"}};
  std::string out, err;
  EXPECT_FALSE(WriteNinja(file, &out, &err));
  EXPECT_NE(err.find("newline"), std::string::npos) << err;
}

TEST(NinjaWriter, EmptyFileHasHeaderAndRulesOnly) {
  std::string out, err;
  ASSERT_TRUE(WriteNinja(NinjaFile{}, &out, &err)) << err;
  EXPECT_EQ(out.rfind("ninja_required_version = 1.10\n\n# Generated by pa-gen", 0), 0u);
  EXPECT_TRUE(HasLine(out, "rule dbt"));
  EXPECT_EQ(out.find("\nbuild "), std::string::npos);
  EXPECT_EQ(out.find("default"), std::string::npos);
}

TEST(NinjaWriter, NoPoolForOtherAdapters) {
  Fixture f;
  BuildDescription d = f.Describe("/p/build.ninja");
  d.adapter_type = "postgres";
  std::string text = Render(d);
  EXPECT_EQ(text.find("pool"), std::string::npos);
}

// Issue 14 item 3: a profile that reads environment variables gets an edge
// every ninja runs, whose digest the regeneration depends on; one that reads
// none has no such edge (the no-op stays "no work to do").
TEST(NinjaWriter, EnvironmentCheckOnlyWhenTheProfileReadsVariables) {
  Fixture f;
  BuildDescription d = f.Describe("/p/build.ninja");
  EXPECT_EQ(Render(d).find(": check_env"), std::string::npos);
  d.env_vars = {"DB_PATH", "SCHEMA"};
  d.identity_key = "/p/.pa/identity.key";
  std::string text = Render(d);
  EXPECT_TRUE(HasLine(text, "build .pa/env.digest: check_env | .pa/always")) << text;
  EXPECT_TRUE(HasLine(text, "  env_vars = DB_PATH SCHEMA")) << text;
  EXPECT_TRUE(HasLine(text, "  key = .pa/identity.key")) << text;
  EXPECT_TRUE(HasLine(text, "build .pa/always: phony")) << text;
  EXPECT_NE(text.find(" .pa/env.digest\n"), std::string::npos) << text;
}

}  // namespace
