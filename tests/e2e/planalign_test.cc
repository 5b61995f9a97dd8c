// End to end: the real pa-gen, dbt (from .venv) and ninja on examples/planalign.
// The tests share one built copy of the example and run in the order written:
// each starts from the state the previous one left.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "util/fs.h"

namespace {

const fs::path kSource = PA_SOURCE_DIR;
const fs::path kPaGen = PA_GEN_BINARY;
const fs::path kVenv = kSource / ".venv" / "bin";

struct Result {
  int code = -1;
  std::string out;  // stdout and stderr, in order
};

// Runs a shell command in `dir`, capturing its output.
Result Shell(const fs::path& dir, const std::string& command) {
  static int count = 0;
  fs::path log = fs::temp_directory_path() / ("pa-e2e-" + std::to_string(getpid()) + "-" +
                                              std::to_string(++count) + ".out");
  std::string full = "cd '" + dir.string() + "' && (" + command + ") > '" + log.string() + "' 2>&1";
  int status = std::system(full.c_str());
  Result result;
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  std::string err;
  ReadFile(log, &result.out, &err);
  fs::remove(log);
  return result;
}

std::string Read(const fs::path& path) {
  std::string text, err;
  EXPECT_TRUE(ReadFile(path, &text, &err)) << err;
  return text;
}

void Write(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// A fresh copy of the example: its source files only, nothing a build left.
void CopyExample(const fs::path& to) {
  fs::remove_all(to);
  fs::create_directories(to);
  fs::path from = kSource / "examples" / "planalign";
  for (auto it = fs::recursive_directory_iterator(from); it != fs::recursive_directory_iterator(); ++it) {
    std::string name = it->path().filename().string();
    if (name == ".pa" || name == "target" || name == "logs" || name.starts_with("planalign.duckdb") ||
        name == "build.ninja" || name.starts_with(".ninja") || name == ".pa-plan.json") {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    fs::path dest = to / fs::relative(it->path(), from);
    if (it->is_directory()) fs::create_directories(dest);
    else fs::copy_file(it->path(), dest);
  }
}

std::string WarehouseDigest(const fs::path& project) {
  Result r = Shell(project, "'" + (kVenv / "python").string() + "' '" +
                                (kSource / "tests" / "e2e" / "warehouse_digest.py").string() +
                                "' planalign.duckdb");
  EXPECT_EQ(r.code, 0) << r.out;
  return r.out;
}

// The `dbt build <batch>` lines of a ninja run, as batch names.
std::set<std::string> BatchesRun(const std::string& ninja_output) {
  std::set<std::string> batches;
  std::regex line(R"(dbt build (\S+) \()");
  for (std::sregex_iterator it(ninja_output.begin(), ninja_output.end(), line), end; it != end; ++it)
    batches.insert((*it)[1]);
  return batches;
}

class PlanalignTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("DO_NOT_TRACK", "1", 1);
    setenv("PA_DBT", (kVenv / "dbt").c_str(), 1);
    root_ = fs::temp_directory_path() / ("pa-e2e-" + std::to_string(getpid()));
    project_ = root_ / "planalign";
    CopyExample(project_);
  }
  static void TearDownTestSuite() {
    if (!::testing::Test::HasFailure()) fs::remove_all(root_);
  }
  static fs::path root_;
  static fs::path project_;
};

fs::path PlanalignTest::root_;
fs::path PlanalignTest::project_;

TEST_F(PlanalignTest, BuildsEverySeedAndModelLikeDbtBuild) {
  ASSERT_TRUE(fs::exists(kVenv / "dbt")) << "run `make test`: it installs dbt into .venv";
  Result build = Shell(project_, "'" + kPaGen.string() + "' && ninja -j8");
  ASSERT_EQ(build.code, 0) << build.out;
  EXPECT_EQ(BatchesRun(build.out),
            (std::set<std::string>{"seeds", "staging", "intermediate", "marts", "audit",
                                   "relationships_dim_employees_department_id__department_id__ref_stg_departments_",
                                   "relationships_fct_workforce_snapshot_employee_id__stg_census"}));

  fs::path reference = root_ / "reference";
  CopyExample(reference);
  Result dbt = Shell(reference, "'" + (kVenv / "dbt").string() + "' build --profiles-dir .");
  ASSERT_EQ(dbt.code, 0) << dbt.out;

  std::string ours = WarehouseDigest(project_);
  EXPECT_EQ(ours, WarehouseDigest(reference));
  // Every seed and model is in it: 16 seeds and 20 models (2 more are ephemeral).
  EXPECT_EQ(std::count(ours.begin(), ours.end(), '\n'), 16 + 20) << ours;
}

TEST_F(PlanalignTest, SecondNinjaHasNoWorkToDo) {
  Result again = Shell(project_, "ninja");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("ninja: no work to do."), std::string::npos) << again.out;
}

TEST_F(PlanalignTest, RegenerationWithoutChangesRewritesNothing) {
  fs::path ninja_file = project_ / "build.ninja";
  std::string before = Read(ninja_file);
  auto mtime = fs::last_write_time(ninja_file);
  Result gen = Shell(project_, "'" + kPaGen.string() + "'");
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
  std::set<std::string> expected = {
      "staging", "intermediate", "marts", "audit",
      "relationships_dim_employees_department_id__department_id__ref_stg_departments_",
      "relationships_fct_workforce_snapshot_employee_id__stg_census"};
  EXPECT_EQ(BatchesRun(dry.out), expected) << dry.out;

  Result build = Shell(project_, "ninja");
  ASSERT_EQ(build.code, 0) << build.out;
  EXPECT_EQ(BatchesRun(build.out), expected) << build.out;
  EXPECT_EQ(fs::last_write_time(project_ / ".pa" / "stamps" / "seeds.stamp"), seeds_stamp);
  EXPECT_NE(Shell(project_, "ninja").out.find("no work to do"), std::string::npos);
}

TEST_F(PlanalignTest, BrokenModelFailsItsBatchWhileIndependentBatchesComplete) {
  fs::path broken = project_ / "models" / "intermediate" / "int_employer_match.sql";
  std::string good = Read(broken);
  Write(broken, "select employee_id from {{ ref('stg_census') }} where no_such_column > 0\n");
  fs::path audit = project_ / "models" / "audit" / "audit_seed_coverage.sql";
  Write(audit, Read(audit) + "-- touched so that the audit batch has work\n");

  Result build = Shell(project_, "ninja -k 0");
  EXPECT_NE(build.code, 0);
  EXPECT_NE(build.out.find("FAILED model.planalign.int_employer_match (error)"), std::string::npos) << build.out;
  EXPECT_NE(build.out.find("no_such_column"), std::string::npos) << build.out;  // dbt's message
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "intermediate.stamp"));
  EXPECT_TRUE(BatchesRun(build.out).count("audit")) << build.out;
  EXPECT_FALSE(BatchesRun(build.out).count("marts")) << build.out;
  EXPECT_GT(fs::last_write_time(project_ / ".pa" / "stamps" / "audit.stamp"),
            fs::last_write_time(audit));

  Write(broken, good);
  Result fixed = Shell(project_, "ninja");
  ASSERT_EQ(fixed.code, 0) << fixed.out;
  EXPECT_TRUE(BatchesRun(fixed.out).count("intermediate")) << fixed.out;
  EXPECT_TRUE(BatchesRun(fixed.out).count("marts")) << fixed.out;
  EXPECT_FALSE(BatchesRun(fixed.out).count("audit")) << fixed.out;
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
  EXPECT_NE(text.find("build ../planalign/.pa/stamps/marts.stamp: dbt"), std::string::npos);
  // A new build folder has no Ninja log yet, so every batch is due once.
  EXPECT_EQ(BatchesRun(make.out).size(), 7u) << make.out;

  // CMake: a superbuild target that runs pa-gen and ninja.
  fs::path super = root_ / "superbuild";
  fs::create_directories(super);
  Write(super / "CMakeLists.txt",
        "cmake_minimum_required(VERSION 3.25)\nproject(super NONE)\ninclude(" +
            (kSource / "templates" / "pa-gen.cmake").string() + ")\npa_gen_add_dbt_project(warehouse PROJECT_DIR " +
            project_.string() + " PA_GEN " + kPaGen.string() + " NINJA_ARGS -n)\n");
  Result cmake = Shell(super, "cmake -S . -B b -G Ninja > /dev/null && cmake --build b");
  ASSERT_EQ(cmake.code, 0) << cmake.out;
  EXPECT_EQ(BatchesRun(cmake.out).size(), 7u) << cmake.out;
  EXPECT_TRUE(fs::exists(super / "b" / "warehouse" / "build.ninja"));
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Each test starts from the state the one before it left.
  GTEST_FLAG_SET(shuffle, false);
  return RUN_ALL_TESTS();
}
