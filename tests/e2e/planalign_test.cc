// End to end: the real pa-gen, dbt (from .venv) and ninja on examples/planalign.
// PlanalignSetup builds the example twice, once with a plain `dbt build` (the
// reference warehouse) and once with pa-gen and ninja, into the cache; CTest
// runs them first, as fixture setups. Every PlanalignTest then starts from a
// copy of the built example of its own: any order, several at once.
#include <chrono>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "e2e_util.h"
#include "planalign_edits.h"
#include "exec/state.h"
#include "util/disk.h"

namespace {

using nlohmann::json;

// unique_id -> status in a run_results.json.
std::map<std::string, std::string> Statuses(const fs::path& file) {
  std::map<std::string, std::string> statuses;
  json doc = json::parse(Read(file));
  for (const auto& r : doc["results"]) statuses[r["unique_id"]] = r["status"];
  return statuses;
}

Ids WithStatus(const std::map<std::string, std::string>& statuses, const std::set<std::string>& wanted) {
  Ids ids;
  for (const auto& [id, status] : statuses)
    if (wanted.count(status)) ids.insert(id);
  return ids;
}



// The unique_ids `dbt ls` selects in `project`.
Ids DbtLs(const fs::path& project, const std::string& args) {
  Result ls = Shell(project, "'" + (kVenv / "dbt").string() +
                                 "' -q ls --profiles-dir . --output json --output-keys unique_id " + args);
  EXPECT_EQ(ls.code, 0) << ls.out;
  Ids ids;
  std::istringstream lines(ls.out);
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("unique_id")) ids.insert(j["unique_id"].get<std::string>());
  }
  return ids;
}

// examples/planalign built by `pa-gen --policy folder && ninja -j8`: a batch
// per folder, so that the tests below see batches wait for each other. Its
// output in planalign.out.
const CachedBuild& BuiltPlanalign() {
  static const CachedBuild built{"planalign", [](const fs::path& dir) {
    CopyExample(dir);
    Result build = Shell(dir, "'" + kPaGen.string() + "' --policy folder && ninja -j8");
    Write(dir.parent_path() / "planalign.out", build.out);
    EXPECT_EQ(build.code, 0) << build.out;
    return build.code == 0;
  }};
  return built;
}

// Fixture setup (CTest: e2e_reference): the reference warehouse.
TEST(PlanalignSetup, DbtBuildReference) {
  ASSERT_TRUE(fs::exists(kVenv / "dbt")) << "run `make test`: it installs dbt into .venv";
  ASSERT_TRUE(DbtBuildReference().Rebuild());
  EXPECT_FALSE(ReferenceDigest().empty());
}

// Fixture setup (CTest: planalign_built): the built example every PlanalignTest copies.
TEST(PlanalignSetup, BuildsEverySeedAndModelLikeDbtBuild) {
  ASSERT_TRUE(fs::exists(kVenv / "dbt")) << "run `make test`: it installs dbt into .venv";
  ASSERT_TRUE(BuiltPlanalign().Rebuild());
  std::string out = Read(kCache / "planalign.out");
  EXPECT_EQ(BatchesRun(out),
            (std::set<std::string>{"seeds", "staging", "intermediate", "marts", "audit"}));

  std::string reference = ReferenceDigest();
  ASSERT_FALSE(reference.empty());
  std::string ours = WarehouseDigest(BuiltPlanalign().Dir());
  EXPECT_EQ(ours, reference);
  // Every seed and model is in it: 16 seeds and 20 models (2 more are ephemeral).
  EXPECT_EQ(std::count(ours.begin(), ours.end(), '\n'), 16 + 20) << ours;
}

class PlanalignTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TestRoot();
    project_ = root_ / "planalign";
    ASSERT_TRUE(BuiltPlanalign().Cached());
    CopyBuiltProject(BuiltPlanalign().Dir(), project_);
  }
  void TearDown() override { RemoveUnlessFailed(root_); }
  fs::path root_;
  fs::path project_;
};

TEST_F(PlanalignTest, SecondNinjaHasNoWorkToDo) {
  Result again = Shell(project_, "ninja");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("ninja: no work to do."), std::string::npos) << again.out;
}

TEST_F(PlanalignTest, RegenerationWithoutChangesRewritesNothing) {
  fs::path ninja_file = project_ / "build.ninja";
  std::string before = Read(ninja_file);
  auto mtime = fs::last_write_time(ninja_file);
  Result gen = Shell(project_, "'" + kPaGen.string() + "' --policy folder");
  ASSERT_EQ(gen.code, 0) << gen.out;
  EXPECT_EQ(Read(ninja_file), before);
  EXPECT_EQ(fs::last_write_time(ninja_file), mtime);
}

TEST_F(PlanalignTest, ChangedStagingModelRebuildsOnlyWhatDependsOnIt) {
  fs::path model = project_ / "models" / "staging" / "stg_plan_design.sql";
  Write(model, Read(model) + "-- reviewed\n");
  auto seeds_stamp = fs::last_write_time(project_ / ".pa" / "stamps" / "seeds.stamp");

  // Ninja regenerates build.ninja first (a model file shaped it); `ninja -n`
  // alone would stop there, as a dry run cannot regenerate.
  Result regen = Shell(project_, "ninja build.ninja");
  ASSERT_EQ(regen.code, 0) << regen.out;
  Result dry = Shell(project_, "ninja -n");
  ASSERT_EQ(dry.code, 0) << dry.out;
  std::set<std::string> expected = {"staging", "intermediate", "marts", "audit"};
  EXPECT_EQ(BatchesRun(dry.out), expected) << dry.out;

  Result build = Shell(project_, "ninja");
  ASSERT_EQ(build.code, 0) << build.out;
  EXPECT_EQ(BatchesRun(build.out), expected) << build.out;
  EXPECT_EQ(fs::last_write_time(project_ / ".pa" / "stamps" / "seeds.stamp"), seeds_stamp);
  EXPECT_NE(Shell(project_, "ninja").out.find("no work to do"), std::string::npos);
}

// The test edges of dbt's graph_summary.json (`with_test_edges`) that
// reach past the tested node's own children: dbt's first algorithm adds
// them (a test before every descendant of what it tests), its second adds
// only the edges to direct children, which give the same order.
int TestEdgesPastTheChildren(const fs::path& summary_file) {
  json summary = json::parse(Read(summary_file));
  auto successors = [](const json& graph) {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& [index, node] : graph.items())
      for (const auto& s : node.value("succ", json::array()))
        out[node["name"]].insert(graph[std::to_string(s.get<int>())]["name"].get<std::string>());
    return out;
  };
  std::map<std::string, std::set<std::string>> linked = successors(summary["linked"]);
  std::map<std::string, std::set<std::string>> with_tests = successors(summary["with_test_edges"]);
  int past = 0;
  for (const auto& [test, after] : with_tests) {
    if (test.rfind("test.", 0) != 0) continue;
    for (const std::string& node : after) {
      bool child_of_a_tested_node = false;
      for (const auto& [tested, children] : linked)
        if (children.count(test) && children.count(node)) child_of_a_tested_node = true;
      if (!child_of_a_tested_node) ++past;
    }
  }
  return past;
}

// The `cache_selected_only` dbt's log records for its last invocation.
std::string CacheSelectedOnly(const fs::path& log) {
  std::string text = Read(log);
  size_t at = text.rfind("\"cache_selected_only\": \"");
  if (at == std::string::npos) return "(not in " + log.string() + ")";
  at += std::string("\"cache_selected_only\": \"").size();
  return text.substr(at, text.find('"', at) - at);
}

TEST_F(PlanalignTest, BatchesUseDbtsCheaperEquivalentsUnlessTheUserChoosesOtherwise) {
  // The built example: every batch ran with the two settings of
  // DbtBuildEnvironment() (dbt/dbt.h), and still built what dbt build builds
  // (PlanalignSetup compares the warehouses).
  fs::path marts = project_ / ".pa" / "run" / "marts";
  EXPECT_EQ(CacheSelectedOnly(marts / "logs" / "dbt.log"), "True");
  EXPECT_EQ(TestEdgesPastTheChildren(marts / "target" / "graph_summary.json"), 0);

  // A user who sets them keeps their choice.
  fs::path model = project_ / "models" / "marts" / "rpt_headcount_by_age_band.sql";
  ASSERT_TRUE(fs::exists(model));
  Write(model, Read(model) + "-- reviewed\n");
  Result build = Shell(project_, "DBT_CACHE_SELECTED_ONLY=false DBT_USE_FAST_TEST_EDGES=false ninja");
  ASSERT_EQ(build.code, 0) << build.out;
  EXPECT_EQ(BatchesRun(build.out).count("marts"), 1u) << build.out;
  EXPECT_EQ(CacheSelectedOnly(marts / "logs" / "dbt.log"), "False");
  EXPECT_GT(TestEdgesPastTheChildren(marts / "target" / "graph_summary.json"), 0);
}

TEST_F(PlanalignTest, BrokenModelSkipsOnlyWhatDependsOnIt) {
  fs::path broken = project_ / "models" / "intermediate" / "int_employer_match.sql";
  std::string good = Read(broken);
  Write(broken, "select employee_id from {{ ref('stg_census') }} where no_such_column > 0\n");
  fs::path audit = project_ / "models" / "audit" / "audit_seed_coverage.sql";
  Write(audit, Read(audit) + "-- touched so that the audit batch has work\n");

  // No -k: a node's failure does not stop the batches that wait for its batch.
  Result build = Shell(project_, "'" + kPaGen.string() + "' --policy folder build");
  EXPECT_NE(build.code, 0);
  EXPECT_NE(build.out.find("FAILED model.planalign.int_employer_match (error)"), std::string::npos) << build.out;
  ManifestView manifest(project_ / ".pa" / "parse" / "manifest.json");
  Ids affected = manifest.Affected({"model.planalign.int_employer_match"});
  // Each skipped node is skipped in the build's run_results.json.
  auto statuses = Statuses(project_ / ".pa" / "run_results.json");
  Ids skipped = WithStatus(statuses, {"skipped"});
  EXPECT_FALSE(skipped.empty());
  for (const std::string& id : skipped) EXPECT_TRUE(affected.count(id)) << id;
  EXPECT_EQ(WithStatus(statuses, {"error", "fail"}), Ids{"model.planalign.int_employer_match"});
  // `pa-gen build` ends with one summary of the failures, counting every skipped node.
  size_t summary = build.out.find(fmt::format("pa-gen: 1 node failed, {} skipped because of them:",
                                              skipped.size()));
  ASSERT_NE(summary, std::string::npos) << build.out;
  EXPECT_NE(build.out.find("  FAILED model.planalign.int_employer_match (error) in batch intermediate: ",
                           summary), std::string::npos) << build.out;
  EXPECT_NE(build.out.find("[log: .pa/run/intermediate/logs/dbt.log]", summary), std::string::npos)
      << build.out;
  EXPECT_NE(build.out.find("no_such_column"), std::string::npos) << build.out;  // dbt's message
  EXPECT_NE(build.out.find("skipped because upstream model.planalign.int_employer_match failed"),
            std::string::npos) << build.out;
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "intermediate.stamp"));
  EXPECT_TRUE(BatchesRun(build.out).count("audit")) << build.out;
  EXPECT_TRUE(BatchesRun(build.out).count("marts")) << build.out;  // what does not depend on it
  EXPECT_GT(fs::last_write_time(project_ / ".pa" / "stamps" / "audit.stamp"),
            fs::last_write_time(audit));
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "split" / "intermediate"));  // no split any more
  // Still broken: every ninja says so.
  EXPECT_NE(Shell(project_, "ninja").code, 0);

  // After the fix: dbt runs the failed model and the nodes skipped, one
  // process per batch; the members that succeeded start no dbt.
  Write(broken, good);
  fs::path marker = root_ / "marker";
  Write(marker, "");
  long long since = Now();
  Result fixed = Shell(project_, "ninja");
  ASSERT_EQ(fixed.code, 0) << fixed.out;
  EXPECT_EQ(ExecutedSince(project_, marker), manifest.Affected({"model.planalign.int_employer_match"}))
      << fixed.out;
  EXPECT_EQ(RanSince(project_, since), manifest.Affected({"model.planalign.int_employer_match"}));
  EXPECT_TRUE(BatchesRun(fixed.out).count("intermediate")) << fixed.out;
  EXPECT_FALSE(BatchesRun(fixed.out).count("audit")) << fixed.out;
  EXPECT_EQ(WarehouseDigest(project_), ReferenceDigest());
  EXPECT_NE(Shell(project_, "ninja").out.find("no work to do"), std::string::npos);
}

TEST_F(PlanalignTest, FailedBatchThatNothingWaitsForIsNotSplit) {
  // marts is a leaf batch: splitting it would only start more dbt processes.
  fs::path broken = project_ / "models" / "marts" / "rpt_headcount_by_age_band.sql";
  std::string good = Read(broken);
  Write(broken, "select no_such_column from {{ ref('stg_census') }}\n");
  Result build = Shell(project_, "ninja");
  EXPECT_NE(build.code, 0);
  EXPECT_NE(build.out.find("FAILED model.planalign.rpt_headcount_by_age_band (error)"), std::string::npos)
      << build.out;
  EXPECT_EQ(build.out.find("runs its nodes one by one"), std::string::npos) << build.out;
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "split" / "marts"));

  // After the fix one dbt process reruns the failed model and its tests.
  Write(broken, good);
  fs::path marker = root_ / "marker";
  Write(marker, "");
  Result fixed = Shell(project_, "ninja");
  ASSERT_EQ(fixed.code, 0) << fixed.out;
  EXPECT_EQ(BatchesRun(fixed.out), std::set<std::string>{"marts"}) << fixed.out;
  ManifestView manifest(project_ / ".pa" / "parse" / "manifest.json");
  EXPECT_EQ(ExecutedSince(project_, marker),
            manifest.Affected({"model.planalign.rpt_headcount_by_age_band"}))
      << fixed.out;
  EXPECT_NE(Shell(project_, "ninja").out.find("no work to do"), std::string::npos);
}

// A failing model in a folder new to the build: its batch has never had a
// stamp, and the earlier build left .pa/build.ok. The build still fails,
// with -k 0 as without, and so does every ninja until it is fixed.
TEST_F(PlanalignTest, AFailingModelInANewBatchFailsTheBuild) {
  ASSERT_TRUE(fs::exists(project_ / ".pa" / "build.ok"));
  fs::create_directories(project_ / "models" / "pa_new");
  Write(project_ / "models" / "pa_new" / "pa_broken.sql", "select * from nowhere_at_all\n");
  Write(project_ / "models" / "pa_new" / "pa_after.sql", "select * from {{ ref('pa_broken') }}\n");
  Result build = Shell(project_, "ninja -k 0");
  EXPECT_NE(build.code, 0) << build.out;
  EXPECT_NE(build.out.find("FAILED model.planalign.pa_broken (error)"), std::string::npos) << build.out;
  EXPECT_NE(build.out.find("pa-gen: build failed: 1 node failed"), std::string::npos) << build.out;
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "build.ok"));
  EXPECT_NE(Shell(project_, "ninja").code, 0);
  Write(project_ / "models" / "pa_new" / "pa_broken.sql", "select 1 as id\n");
  Result fixed = Shell(project_, "ninja");
  EXPECT_EQ(fixed.code, 0) << fixed.out;
  EXPECT_NE(Shell(project_, "ninja").out.find("no work to do"), std::string::npos);
}

TEST_F(PlanalignTest, FailingDataTestHoldsBackDownstreamUntilTheDataIsFixed) {
  // A duplicate year fails the seed's test unique_cola_by_year_plan_year.
  fs::path seed = project_ / "seeds" / "cola_by_year.csv";
  std::string good = Read(seed);
  Write(seed, good + "2025,0.030\n");
  fs::path marker = root_ / "marker";
  Write(marker, "");
  Result build = Shell(project_, "'" + kPaGen.string() + "' --policy folder build -k 0");
  EXPECT_NE(build.code, 0);
  EXPECT_NE(build.out.find("  FAILED test.planalign.unique_cola_by_year_plan_year."), std::string::npos)
      << build.out;
  ManifestView manifest(project_ / ".pa" / "parse" / "manifest.json");
  Ids ran = ExecutedSince(project_, marker);
  EXPECT_TRUE(ran.count("seed.planalign.cola_by_year")) << build.out;
  // Nothing downstream of the tested seed ran.
  for (const std::string& id : manifest.Affected({"model.planalign.stg_cola_by_year"}))
    EXPECT_FALSE(ran.count(id)) << id << "\n" << build.out;
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "seeds.stamp"));
  Result status = Shell(project_, "'" + kPaGen.string() + "' --policy folder status");
  EXPECT_NE(status.out.find("  FAILED test.planalign.unique_cola_by_year_plan_year."), std::string::npos)
      << status.out;

  // With the data fixed, the seed, its tests and everything downstream of
  // it run, and nothing else.
  Write(seed, good);
  Write(marker, "");
  Result fixed = Shell(project_, "'" + kPaGen.string() + "' --policy folder build");
  ASSERT_EQ(fixed.code, 0) << fixed.out;
  EXPECT_EQ(ExecutedSince(project_, marker), manifest.Affected({"seed.planalign.cola_by_year"}))
      << fixed.out;
  EXPECT_TRUE(BatchesRun(fixed.out).count("seeds")) << fixed.out;
  EXPECT_NE(Read(project_ / "build.ninja").find("build .pa/stamps/seeds.stamp: dbt"), std::string::npos);
  EXPECT_NE(Shell(project_, "ninja").out.find("no work to do"), std::string::npos);
}

// A failing build under pa-gen against a plain `dbt build` of the same
// broken project, each from nothing: the same nodes run, fail and are
// skipped; the build's run_results.json is one dbt's own `result:` selection
// and `dbt retry` read as they read dbt's; after the fix pa-gen reruns
// exactly what failed and was skipped.
class FailureSemantics : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TestRoot();
    ours_ = root_ / "pa-gen";
    theirs_ = root_ / "dbt";
    CopyExample(ours_);
    CopyExample(theirs_);
  }
  void TearDown() override { RemoveUnlessFailed(root_); }
  // Writes `text` to `file` in both projects.
  void Edit(const std::string& file, const std::string& text) {
    Write(ours_ / file, text);
    Write(theirs_ / file, text);
  }
  // Both builds fail; returns dbt's statuses after checking that pa-gen's
  // merged run_results.json says the same of every node. `pa_gen_args`
  // e.g. "--policy folder", where a test is about batches (on DuckDB the
  // default is one batch).
  std::map<std::string, std::string> BuildBoth(const std::string& pa_gen_args = "") {
    Result plain = Shell(theirs_, dbt_ + " build --profiles-dir .");
    EXPECT_NE(plain.code, 0) << plain.out;
    auto expected = Statuses(theirs_ / "target" / "run_results.json");
    // dbt ls would rewrite target/: keep dbt's results apart, as --state wants them.
    fs::create_directories(theirs_ / "state");
    fs::copy_file(theirs_ / "target" / "run_results.json", theirs_ / "state" / "run_results.json");
    Result build = Shell(ours_, "'" + kPaGen.string() + "' " + pa_gen_args + " build");
    EXPECT_NE(build.code, 0) << build.out;
    EXPECT_EQ(Statuses(ours_ / ".pa" / "run_results.json"), expected) << build.out;
    if (!pa_gen_args.empty()) EXPECT_GT(BatchesRun(build.out).size(), 1u) << build.out;
    Ids failed = WithStatus(expected, {"error", "fail"});
    EXPECT_NE(build.out.find(fmt::format("pa-gen: {} node{} failed, {} skipped because of them:",
                                         failed.size(), failed.size() == 1 ? "" : "s",
                                         WithStatus(expected, {"skipped"}).size())),
              std::string::npos) << build.out;
    return expected;
  }
  fs::path root_, ours_, theirs_;
  std::string dbt_ = "'" + (kVenv / "dbt").string() + "'";
};

TEST_F(FailureSemantics, BrokenModelRunsWhatDbtBuildRunsAndDbtRetryReadsTheResults) {
  const std::string model = "models/intermediate/int_employer_match.sql";
  std::string good = Read(ours_ / model);
  Edit(model, "select employee_id from {{ ref('stg_census') }} where no_such_column > 0\n");
  auto expected = BuildBoth();
  Ids not_done = WithStatus(expected, {"error", "fail", "skipped"});
  EXPECT_GT(not_done.size(), 1u);
  EXPECT_GT(WithStatus(expected, {"success", "pass"}).size(), 30u);

  // dbt's result: selector reads pa-gen's results as it reads its own.
  EXPECT_EQ(DbtLs(ours_, "--select result:error+ --state .pa"),
            DbtLs(theirs_, "--select result:error+ --state state"));

  // dbt retry after the fix, on a copy of the pa-gen build and on dbt's:
  // the same nodes, and both warehouses equal a clean dbt build.
  Edit(model, good);
  fs::path retried = root_ / "retried";
  CopyBuiltProject(ours_, retried);
  Result retry = Shell(retried, dbt_ + " retry --profiles-dir . --state .pa");
  EXPECT_EQ(retry.code, 0) << retry.out;
  Result their_retry = Shell(theirs_, dbt_ + " retry --profiles-dir . --state state");
  EXPECT_EQ(their_retry.code, 0) << their_retry.out;
  auto retried_ids = [](const fs::path& project) {
    Ids ids;
    for (const auto& [id, status] : Statuses(project / "target" / "run_results.json")) ids.insert(id);
    return ids;
  };
  EXPECT_EQ(retried_ids(retried), not_done);
  EXPECT_EQ(retried_ids(theirs_), not_done);
  EXPECT_EQ(WarehouseDigest(retried), ReferenceDigest());

  // pa-gen after the fix: exactly the failed and skipped nodes run.
  long long since = Now();
  Result fixed = Shell(ours_, "ninja");
  ASSERT_EQ(fixed.code, 0) << fixed.out;
  EXPECT_EQ(RanSince(ours_, since), not_done) << fixed.out;
  EXPECT_EQ(WarehouseDigest(ours_), ReferenceDigest());
  EXPECT_NE(Shell(ours_, "ninja").out.find("no work to do"), std::string::npos);
}

TEST_F(FailureSemantics, FailingDataTestSkipsWhatDbtBuildSkipsInOtherBatches) {
  // A duplicate year fails the seed's test unique_cola_by_year_plan_year;
  // the seed's descendants sit in the staging, intermediate and marts batches.
  const std::string seed = "seeds/cola_by_year.csv";
  std::string good = Read(ours_ / seed);
  Edit(seed, good + "2025,0.030\n");
  auto expected = BuildBoth("--policy folder");
  Ids failed = WithStatus(expected, {"error", "fail"});
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed.begin()->rfind("test.planalign.unique_cola_by_year_plan_year.", 0), 0u);
  EXPECT_TRUE(expected.count("model.planalign.stg_cola_by_year"));
  EXPECT_EQ(expected["model.planalign.stg_cola_by_year"], "skipped");

  // After the fix: the seed changed, so it reruns with its tests, and what was skipped.
  Write(ours_ / seed, good);
  ManifestView manifest(ours_ / ".pa" / "parse" / "manifest.json");
  Ids rerun = WithStatus(expected, {"error", "fail", "skipped"});
  for (const std::string& id : manifest.Affected({"seed.planalign.cola_by_year"})) rerun.insert(id);
  long long since = Now();
  Result fixed = Shell(ours_, "ninja");
  ASSERT_EQ(fixed.code, 0) << fixed.out;
  EXPECT_EQ(RanSince(ours_, since), rerun) << fixed.out;
  EXPECT_EQ(WarehouseDigest(ours_), ReferenceDigest());
  EXPECT_NE(Shell(ours_, "ninja").out.find("no work to do"), std::string::npos);
}

// config.on_error: continue (dbt 1.12): int_employer_match fails, and
// without its tests (which would fail on the missing relation and gate its
// children) it holds nothing back: `dbt build` runs its children in the
// marts batch, which fail in turn and skip what is downstream of them.
TEST_F(FailureSemantics, FailedModelWithOnErrorContinueRunsItsChildrenInOtherBatches) {
  const std::string model = "models/intermediate/int_employer_match.sql";
  const std::string yml = "models/intermediate/_intermediate.yml";
  std::string good = Read(ours_ / model), tests = Read(ours_ / yml);
  size_t from = tests.find("  - name: int_employer_match\n");
  size_t to = tests.find("  - name: int_enrollment_projection\n");
  ASSERT_LT(from, to);
  Edit(yml, tests.substr(0, from) + tests.substr(to));
  Edit(model, "{{ config(on_error='continue') }}\n"
              "select employee_id from {{ ref('stg_census') }} where no_such_column > 0\n");
  auto expected = BuildBoth("--policy folder");
  EXPECT_EQ(expected["model.planalign.int_employer_match"], "error");
  EXPECT_EQ(expected["model.planalign.fct_plan_contributions"], "error");  // ran after all
  EXPECT_EQ(expected["model.planalign.fct_workforce_snapshot"], "error");
  EXPECT_EQ(expected["model.planalign.fct_compensation_summary"], "skipped");
  EXPECT_GT(WithStatus(expected, {"success", "pass"}).size(), 30u);

  // After the fix: exactly what failed and was skipped.
  Write(ours_ / model, good);
  Ids not_done = WithStatus(expected, {"error", "fail", "skipped"});
  long long since = Now();
  Result fixed = Shell(ours_, "ninja");
  ASSERT_EQ(fixed.code, 0) << fixed.out;
  EXPECT_EQ(RanSince(ours_, since), not_done) << fixed.out;
  EXPECT_EQ(WarehouseDigest(ours_), ReferenceDigest());
}

TEST_F(PlanalignTest, CorruptManifestExitsTwoAndKeepsBuildNinja) {
  fs::path ninja_file = project_ / "build.ninja";
  std::string before = Read(ninja_file);
  auto mtime = fs::last_write_time(ninja_file);
  fs::path corrupt = root_ / "corrupt-manifest.json";
  std::string manifest = Read(project_ / ".pa" / "parse" / "manifest.json");
  Write(corrupt, manifest.substr(0, manifest.size() / 2));

  Result gen = Shell(project_, "'" + kPaGen.string() + "' --manifest '" + corrupt.string() + "'");
  EXPECT_EQ(gen.code, 2);
  EXPECT_EQ(std::count(gen.out.begin(), gen.out.end(), '\n'), 1) << gen.out;
  EXPECT_NE(gen.out.find(corrupt.string() + ": malformed JSON"), std::string::npos) << gen.out;
  EXPECT_EQ(Read(ninja_file), before);
  EXPECT_EQ(fs::last_write_time(ninja_file), mtime);
}

TEST_F(PlanalignTest, InvalidPolicyFileExitsTwoAndKeepsEverything) {
  fs::path ninja_file = project_ / "build.ninja";
  std::string before = Read(ninja_file);
  std::string plan = Read(project_ / ".pa-plan.json");
  auto mtime = fs::last_write_time(ninja_file);
  fs::path policy = root_ / "bad-policy.yml";
  for (const auto& [text, error] : std::vector<std::pair<std::string, std::string>>{
           {"rules:\n  - match: {path: \"models/[x\"}\n    group: g\n",
            ":2: field 'path' in rule 1 match: bad glob: '[' without a closing ']'"},
           {"rules:\n  - match: {}\n    group: g\n    size: 3\n", ":4: unknown field 'size' in rule 1"},
           {"rules: [\n", ":2: malformed YAML: end of sequence flow not found"}}) {
    Write(policy, text);
    Result gen = Shell(project_, "'" + kPaGen.string() + "' --policy-file '" + policy.string() + "'");
    EXPECT_EQ(gen.code, 2) << gen.out;
    EXPECT_EQ(std::count(gen.out.begin(), gen.out.end(), '\n'), 1) << gen.out;
    EXPECT_NE(gen.out.find(policy.string() + error), std::string::npos) << gen.out;
  }
  EXPECT_EQ(Read(ninja_file), before);
  EXPECT_EQ(Read(project_ / ".pa-plan.json"), plan);
  EXPECT_EQ(fs::last_write_time(ninja_file), mtime);
  EXPECT_NE(Shell(project_, "ninja").out.find("no work to do"), std::string::npos);
}

TEST_F(PlanalignTest, ExplainAndGraphDescribeTheBatches) {
  Result text = Shell(project_, "'" + kPaGen.string() + "' --policy folder explain");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("policy folder: predicted build "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("critical path: seeds -> staging -> intermediate -> marts"), std::string::npos)
      << text.out;
  // The nodes have run, so their times come from the state.
  EXPECT_EQ(text.out.find(" 0 of "), std::string::npos) << text.out;

  Result json_out = Shell(project_, "'" + kPaGen.string() + "' --policy folder explain --json");
  ASSERT_EQ(json_out.code, 0) << json_out.out;
  json doc = json::parse(json_out.out);
  EXPECT_EQ(doc["policy"], "folder");
  EXPECT_TRUE(doc["alternatives"].contains("per-model"));
  EXPECT_TRUE(doc["alternatives"].contains("single"));
  std::set<std::string> names;
  for (const auto& batch : doc["batches"]) names.insert(batch["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"audit", "intermediate", "marts", "seeds", "staging"}));

  Result dot = Shell(project_, "'" + kPaGen.string() + "' --policy folder graph");
  ASSERT_EQ(dot.code, 0) << dot.out;
  EXPECT_EQ(dot.out.rfind("digraph pa_gen {", 0), 0u) << dot.out;
  EXPECT_NE(dot.out.find("\"staging\" -> \"intermediate\";"), std::string::npos) << dot.out;

  // Without --policy: DuckDB's default, one batch, and explain says why.
  Result chosen = Shell(project_, "'" + kPaGen.string() + "' explain");
  ASSERT_EQ(chosen.code, 0) << chosen.out;
  EXPECT_NE(chosen.out.find("policy single (the default on duckdb: one process at a time writes the "
                            "database"), std::string::npos) << chosen.out;
  EXPECT_NE(chosen.out.find("folder "), std::string::npos) << chosen.out;  // among the others
  json chosen_doc = json::parse(Shell(project_, "'" + kPaGen.string() + "' explain --json").out);
  EXPECT_EQ(chosen_doc["policy"], "single");
  EXPECT_TRUE(chosen_doc.contains("policy_reason"));
  ASSERT_EQ(chosen_doc["batches"].size(), 1u);
  EXPECT_EQ(chosen_doc["batches"][0]["name"], "all_nodes");
  EXPECT_NE(Shell(project_, "ninja").out.find("no work to do"), std::string::npos);
}

TEST_F(PlanalignTest, TemplatesDriveTheProjectFromOutsideItsFolder) {
  // Make: build.ninja outside the project; its paths are relative to its own folder.
  fs::path out = root_ / "make-out";
  fs::create_directories(out);
  Result make = Shell(root_, "make -f '" + (kSource / "templates" / "pa-gen.mk").string() +
                                 "' dbt PA_GEN='" + kPaGen.string() + "' DBT_PROJECT_DIR=planalign" +
                                 " PA_GEN_OUTPUT=make-out/build.ninja NINJA_FLAGS=-n");
  ASSERT_EQ(make.code, 0) << make.out;
  std::string text = Read(out / "build.ninja");
  EXPECT_NE(text.find(" ../planalign/models/staging/stg_census.sql"), std::string::npos);
  // The default policy: on DuckDB one batch.
  EXPECT_NE(text.find("build ../planalign/.pa/stamps/all_nodes.stamp: dbt"), std::string::npos);
  // A new build folder has no Ninja log yet, so every batch is due once.
  EXPECT_EQ(BatchesRun(make.out), std::set<std::string>{"all_nodes"}) << make.out;

  // CMake: a superbuild target that runs pa-gen and ninja.
  fs::path super = root_ / "superbuild";
  fs::create_directories(super);
  Write(super / "CMakeLists.txt",
        "cmake_minimum_required(VERSION 3.25)\nproject(super NONE)\ninclude(" +
            (kSource / "templates" / "pa-gen.cmake").string() + ")\npa_gen_add_dbt_project(warehouse PROJECT_DIR " +
            project_.string() + " PA_GEN " + kPaGen.string() + " NINJA_ARGS -n)\n");
  Result cmake = Shell(super, "cmake -S . -B b -G Ninja > /dev/null && cmake --build b");
  ASSERT_EQ(cmake.code, 0) << cmake.out;
  EXPECT_EQ(BatchesRun(cmake.out), std::set<std::string>{"all_nodes"}) << cmake.out;
  EXPECT_TRUE(fs::exists(super / "b" / "warehouse" / "build.ninja"));
}

// Differential test of incremental builds (planalign_edits.h): after each
// of a scripted sequence of edits, `ninja` leaves the warehouse equal to a
// full `dbt build` of the same project state and makes dbt execute exactly
// the nodes the edit can affect. The same sequence runs on PostgreSQL in
// postgres_test.cc.
TEST_F(PlanalignTest, IncrementalBuildsRunExactlyWhatEachEditAffects) {
  fs::path reference = root_ / "reference";
  ASSERT_TRUE(DbtBuildReference().Cached());
  CopyBuiltProject(DbtBuildReference().Dir(), reference);
  // From the folder batches of the fixture to the default policy (on DuckDB
  // one batch): every node is up to date, so no dbt runs; every edit below
  // then reruns only the batch's members it made stale.
  fs::path switched = root_ / "switched";
  Write(switched, "");
  Result to_default = Shell(project_, "'" + kPaGen.string() + "' && ninja");
  ASSERT_EQ(to_default.code, 0) << to_default.out;
  EXPECT_EQ(BatchesRun(to_default.out), std::set<std::string>{"all_nodes"}) << to_default.out;
  EXPECT_EQ(ExecutedSince(project_, switched), Ids{}) << to_default.out;

  EditTarget target;
  target.project = project_;
  target.reference = reference;
  target.marker = root_ / "marker";
  target.dbt_build = "'" + (kVenv / "dbt").string() + "' build --profiles-dir .";
  target.ours = [&] { return WarehouseDigest(project_); };
  target.theirs = [&] { return WarehouseDigest(reference); };
  RunEditSequence(target);
}

}  // namespace
