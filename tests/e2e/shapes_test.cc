// End to end (issue 14) on examples/shapes, with the real dbt and ninja:
// the shapes real projects have and planalign does not (a test with no
// parent model, a config of nested maps, the DuckDB path from an
// environment variable), --select / --exclude, and the read-only
// subcommands.
#include <gtest/gtest.h>

#include <map>

#include "e2e_util.h"
#include "exec/state.h"
#include "plan/plan.h"
#include "plan/plan_json.h"
#include "util/disk.h"

namespace {

const fs::path kShapes = kSource / "examples" / "shapes";

std::string PaGen() { return "'" + kPaGen.string() + "'"; }

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const CachedBuild& BuiltShapes() {
  static const CachedBuild built{"shapes", [](const fs::path& dir) {
    fs::copy(kShapes, dir, fs::copy_options::recursive);
    // The local package: dbt deps needs no network for it.
    Result build = Shell(dir, "'" + (kVenv / "dbt").string() + "' deps --profiles-dir . && " + PaGen() +
                                  " && ninja");
    EXPECT_EQ(build.code, 0) << build.out;
    return build.code == 0;
  }};
  return built;
}

// Fixture setup (CTest: shapes_built): the built project the tests copy.
TEST(ShapesSetup, BuildsTheShapesProject) {
  ASSERT_TRUE(BuiltShapes().Rebuild());
  EXPECT_TRUE(fs::exists(BuiltShapes().Dir() / "shapes.duckdb"));
}

class ShapesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TestRoot();
    project_ = root_ / "shapes";
    ASSERT_TRUE(BuiltShapes().Cached());
    CopyBuiltProject(BuiltShapes().Dir(), project_);
  }
  void TearDown() override { RemoveUnlessFailed(root_); }

  Plan LoadThePlan() {
    RealDisk disk;
    Plan plan;
    std::string err;
    EXPECT_TRUE(LoadPlan(disk, project_ / ".pa-plan.json", &plan, &err)) << err;
    return plan;
  }
  const PlanBatch* BatchOf(const Plan& plan, const std::string& id) {
    for (const PlanBatch& batch : plan.batches)
      for (const PlanMember& m : batch.members)
        if (m.unique_id == id) return &batch;
    return nullptr;
  }
  // Content and mtime of build.ninja, the plan and everything under .pa/
  // that decides what the next ninja does.
  std::map<std::string, std::string> BuildFiles() {
    std::map<std::string, std::string> files;
    auto add = [&](const fs::path& p) {
      files[p.string()] = Read(p) + "@" + std::to_string(MtimeNs(p));
    };
    add(project_ / "build.ninja");
    add(project_ / ".pa-plan.json");
    add(project_ / ".pa" / "parse" / "settings");
    add(project_ / ".pa" / "parse" / "manifest.json");
    for (const char* dir : {"state", "stamps", "split"})
      if (fs::exists(project_ / ".pa" / dir))
        for (const auto& entry : fs::directory_iterator(project_ / ".pa" / dir)) add(entry.path());
    return files;
  }

  // When dbt last ran each node (state of every batch and of the nodes
  // left out).
  std::map<std::string, long long> RanAt() {
    RealDisk disk;
    BatchState all;
    std::string err;
    EXPECT_TRUE(LoadAllState(disk, project_, &all, &err)) << err;
    std::map<std::string, long long> ran;
    for (const auto& [id, state] : all) ran[id] = state.ran_at;
    return ran;
  }

  fs::path root_;
  fs::path project_;
};

// Item 7's shape: the root seed that replaces a package's is patched by the
// package's yml, and builds.
TEST_F(ShapesTest, ARootSeedPatchedByAPackagesYmlBuilds) {
  Plan plan = LoadThePlan();
  EXPECT_NE(BatchOf(plan, "seed.shapes.currencies"), nullptr);
  EXPECT_EQ(BatchOf(plan, "seed.shapes_base.currencies"), nullptr);  // disabled
  Result ninja = Shell(project_, "ninja 2>&1");
  EXPECT_TRUE(Has(ninja.out, "no work to do")) << ninja.out;
}

// Item 1's shape: a singular test over no model joins a batch.
TEST_F(ShapesTest, ATestWithNoParentModelJoinsABatch) {
  Plan plan = LoadThePlan();
  const PlanBatch* batch = BatchOf(plan, "test.shapes.assert_arithmetic_holds");
  ASSERT_NE(batch, nullptr);
  EXPECT_GT(batch->members.size(), 1u) << batch->name;
}

// Item 4's user story: a model that cannot be fixed today is excluded, and
// the rest of the graph builds and then settles at `no work to do`.
TEST_F(ShapesTest, ExcludeLeavesTheRestAtNoWorkToDo) {
  Write(project_ / "models" / "marts" / "broken_model.sql",
        "select no_such_column from {{ ref('top_region') }}\n");
  Write(project_ / "models" / "marts" / "region_count.sql",
        "select count(*) as n from {{ ref('stg_regions') }}\n");
  Result broken = Shell(project_, "ninja -k 0 2>&1");
  EXPECT_NE(broken.code, 0) << broken.out;
  EXPECT_TRUE(Has(broken.out, "broken_model")) << broken.out;

  Result gen = Shell(project_, PaGen() + " --exclude broken_model");
  ASSERT_EQ(gen.code, 0) << gen.out;
  std::string ninja_text = Read(project_ / "build.ninja");
  EXPECT_FALSE(Has(ninja_text, "build broken_model:")) << ninja_text;
  EXPECT_TRUE(Has(ninja_text, "--exclude=broken_model")) << "regenerations keep the exclusion";
  Plan plan = LoadThePlan();
  EXPECT_EQ(plan.dbt.exclude, "broken_model");
  EXPECT_EQ(BatchOf(plan, "model.shapes.broken_model"), nullptr);
  EXPECT_NE(BatchOf(plan, "model.shapes.region_count"), nullptr);

  Result build = Shell(project_, "ninja 2>&1");
  ASSERT_EQ(build.code, 0) << build.out;
  Result again = Shell(project_, "ninja 2>&1");
  EXPECT_EQ(again.code, 0) << again.out;
  EXPECT_TRUE(Has(again.out, "no work to do")) << again.out;
  // An edit regenerates with the same exclusion.
  Write(project_ / "models" / "marts" / "region_count.sql",
        "select count(*) as regions from {{ ref('stg_regions') }}\n");
  Result edit = Shell(project_, "ninja 2>&1");
  ASSERT_EQ(edit.code, 0) << edit.out;
  EXPECT_FALSE(Has(Read(project_ / "build.ninja"), "build broken_model:"));
  EXPECT_TRUE(Has(Shell(project_, "ninja 2>&1").out, "no work to do"));
}

// dbt's selection syntax, resolved by dbt ls; the nodes it leaves out keep
// their state, so selecting them again rebuilds nothing.
TEST_F(ShapesTest, SelectThenWidenRebuildsNothing) {
  Result gen = Shell(project_, PaGen() + " --select 'staging'");
  ASSERT_EQ(gen.code, 0) << gen.out;
  Plan plan = LoadThePlan();
  EXPECT_NE(BatchOf(plan, "model.shapes.stg_sales"), nullptr);
  EXPECT_EQ(BatchOf(plan, "model.shapes.sales_by_region"), nullptr);
  EXPECT_EQ(BatchOf(plan, "seed.shapes.regions"), nullptr);
  EXPECT_TRUE(fs::exists(project_ / ".pa" / "state" / ".unselected.json"));
  // The batch's command changed (its members lost their parents), so
  // Ninja runs its edge once; no node needs work, so no dbt runs.
  std::map<std::string, long long> ran = RanAt();
  Result build = Shell(project_, "ninja 2>&1");
  EXPECT_EQ(build.code, 0) << build.out;
  EXPECT_EQ(RanAt(), ran) << build.out;
  EXPECT_TRUE(Has(Shell(project_, "ninja 2>&1").out, "no work to do"));

  Result all = Shell(project_, PaGen());
  ASSERT_EQ(all.code, 0) << all.out;
  EXPECT_NE(BatchOf(LoadThePlan(), "model.shapes.sales_by_region"), nullptr);
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "state" / ".unselected.json"));
  Result widened = Shell(project_, "ninja 2>&1");
  EXPECT_EQ(widened.code, 0) << widened.out;
  EXPECT_EQ(RanAt(), ran) << "the nodes left out kept their state: " << widened.out;
  EXPECT_TRUE(Has(Shell(project_, "ninja 2>&1").out, "no work to do"));

  Result none = Shell(project_, PaGen() + " --select 'no_such_model'");
  EXPECT_EQ(none.code, 2) << none.out;
  EXPECT_TRUE(Has(none.out, "leave no node to build")) << none.out;
}

// Item 5: status, explain and graph under other options show that build
// and leave the next ninja's alone.
TEST_F(ShapesTest, StatusExplainAndGraphAreReadOnly) {
  std::map<std::string, std::string> before = BuildFiles();
  Result status = Shell(project_, PaGen() + " status --vars '{other: 1}' --policy single");
  EXPECT_EQ(status.code, 0) << status.out;
  EXPECT_TRUE(Has(status.out, "would run")) << status.out;
  EXPECT_FALSE(Has(status.out, " 0 nodes would run")) << "other vars rebuild every node: " << status.out;
  Result explain = Shell(project_, PaGen() + " explain --vars '{other: 1}' --policy per-model");
  EXPECT_EQ(explain.code, 0) << explain.out;
  EXPECT_TRUE(Has(explain.out, ", then 1 on-run-start/end hook of 0.3 s each")) << explain.out;
  Result graph = Shell(project_, PaGen() + " graph --select staging --policy single");
  EXPECT_EQ(graph.code, 0) << graph.out;
  EXPECT_TRUE(Has(graph.out, "digraph")) << graph.out;
  EXPECT_EQ(BuildFiles(), before);
  Result ninja = Shell(project_, "ninja 2>&1");
  EXPECT_TRUE(Has(ninja.out, "no work to do")) << ninja.out;
}

// Item 2's differential test: the same config with its keys in another
// order is no change.
TEST_F(ShapesTest, ConfigKeysInAnotherOrderRebuildNothing) {
  std::string project = Read(project_ / "dbt_project.yml");
  std::string from = "owner: {team: analytics, contact: {name: ops, channel: data}}";
  ASSERT_TRUE(Has(project, from));
  project.replace(project.find(from), from.size(),
                  "owner: {contact: {channel: data, name: ops}, team: analytics}");
  Write(project_ / "dbt_project.yml", project);
  Result build = Shell(project_, "ninja 2>&1");
  EXPECT_EQ(build.code, 0) << build.out;
  EXPECT_TRUE(Has(build.out, "regenerating")) << build.out;
  EXPECT_FALSE(Has(build.out, "dbt build")) << build.out;
  EXPECT_TRUE(Has(Shell(project_, "ninja 2>&1").out, "no work to do"));
}

// Item 3: the DuckDB path comes from the environment. Another value builds
// everything into the new file; the same value again is no work; no value
// is written into what pa-gen writes.
TEST_F(ShapesTest, ADatabasePathFromTheEnvironmentBuildsTheNewFile) {
  Result moved = Shell(project_, "SHAPES_DUCKDB_PATH=other.duckdb ninja 2>&1");
  ASSERT_EQ(moved.code, 0) << moved.out;
  ASSERT_TRUE(fs::exists(project_ / "other.duckdb")) << moved.out;
  EXPECT_EQ(WarehouseDigest(project_, "other.duckdb"), WarehouseDigest(project_, "shapes.duckdb"));
  Result same = Shell(project_, "SHAPES_DUCKDB_PATH=other.duckdb ninja 2>&1");
  EXPECT_EQ(same.code, 0) << same.out;
  EXPECT_TRUE(Has(same.out, "no work to do")) << same.out;
  Result grep = Shell(project_, "grep -rl other.duckdb build.ninja .pa-plan.json .pa/state .pa/env.digest "
                                ".pa/parse/settings; true");
  EXPECT_EQ(grep.out, "");
}

}  // namespace
