// End to end (issue 13): names from a project that look like options, built
// by the real pa-gen, dbt and ninja; and what pa-gen writes is never more
// open than the project folder.
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "e2e_util.h"

namespace {

class HostileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = TestRoot("hostile");
    project_ = root_ / "tiny";
    fs::create_directories(project_ / "models" / "--help");
    fs::create_directories(project_ / "models" / "ok");
    Write(project_ / "dbt_project.yml",
          "name: tiny\nprofile: tiny\nconfig-version: 2\nmodel-paths: [models]\n");
    Write(project_ / "profiles.yml",
          "tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: tiny.duckdb\n"
          "      threads: 2\n");
    Write(project_ / "models" / "--help" / "helped.sql", "select 1 as id\n");
    Write(project_ / "models" / "ok" / "after.sql", "select id from {{ ref('helped') }}\n");
  }
  static void TearDownTestSuite() { RemoveUnlessFailed(root_); }

  static fs::path root_;
  static fs::path project_;
};

fs::path HostileTest::root_;
fs::path HostileTest::project_;

// Class 2: a model folder named --help gave `pa-gen exec ... --help`, which
// printed usage and exited 0: the build "succeeded" and built nothing.
TEST_F(HostileTest, ABatchNamedLikeAnOptionIsBuilt) {
  Result build = Shell(project_, "'" + kPaGen.string() + "' --policy folder && ninja");
  ASSERT_EQ(build.code, 0) << build.out;
  EXPECT_EQ(build.out.find("Usage:"), std::string::npos) << build.out;
  std::string ninja = Read(project_ / "build.ninja");
  EXPECT_NE(ninja.find("command = $pa_gen exec --plan $plan --digest $digest -- $batch"),
            std::string::npos);
  EXPECT_NE(ninja.find("  batch = _-help\n"), std::string::npos) << ninja;
  // The regeneration command joins values to options: a project folder
  // named --help would otherwise be read as the option.
  EXPECT_NE(ninja.find("regen_args = --project-dir=. --output=build.ninja --dbt="),
            std::string::npos) << ninja;
  EXPECT_NE(ninja.find(" --profiles-dir=/"), std::string::npos) << ninja;
  EXPECT_TRUE(fs::exists(project_ / ".pa" / "stamps" / "_-help.stamp"));
  EXPECT_TRUE(fs::exists(project_ / ".pa" / "stamps" / "ok.stamp"));
  // dbt built both models: the one in --help, and the one reading it.
  std::string state = Read(project_ / ".pa" / "state" / "_-help.json");
  EXPECT_NE(state.find("\"status\": \"success\""), std::string::npos) << state;
  EXPECT_NE(Read(project_ / ".pa" / "state" / "ok.json").find("\"status\": \"success\""),
            std::string::npos);
  Result again = Shell(project_, "ninja");
  EXPECT_NE(again.out.find("no work to do"), std::string::npos) << again.out;
}

// What pa-gen writes is never more open than the project folder (0750
// here, under a umask of 022): nothing for others, whatever it holds.
TEST_F(HostileTest, NothingWrittenIsMoreOpenThanTheProject) {
  fs::remove_all(project_ / ".pa");
  fs::remove(project_ / "build.ninja");
  fs::remove(project_ / ".pa-plan.json");
  fs::permissions(project_, static_cast<fs::perms>(0750));
  Result build = Shell(project_, "umask 022; '" + kPaGen.string() + "' --policy folder && ninja");
  ASSERT_EQ(build.code, 0) << build.out;
  auto mode = [](const fs::path& p) { return static_cast<int>(fs::status(p).permissions()) & 0777; };
  EXPECT_EQ(mode(project_ / "build.ninja"), 0640);
  EXPECT_EQ(mode(project_ / ".pa-plan.json"), 0640);
  EXPECT_EQ(mode(project_ / ".pa"), 0750);
  // What pa-gen writes: .pa's folders, state, stamps and the run folders
  // (dbt writes its own files inside those, behind them).
  std::vector<fs::path> written;
  for (const char* dir : {"", "state", "stamps", "run", "locks"})
    for (const auto& entry : fs::directory_iterator(project_ / ".pa" / dir)) written.push_back(entry.path());
  EXPECT_GT(written.size(), 8u);
  for (const fs::path& path : written) EXPECT_EQ(mode(path) & 0007, 0) << path;
  fs::permissions(project_, static_cast<fs::perms>(0755));
}

// `pa-gen exec` takes what follows `--` as the batch, whatever it looks like.
TEST_F(HostileTest, ExecReadsABatchNamedHelpAsABatch) {
  ASSERT_EQ(Shell(project_, "'" + kPaGen.string() + "' --policy folder").code, 0);
  Result exec = Shell(project_, "'" + kPaGen.string() +
                                    "' exec --plan .pa-plan.json --digest 0 -- --help");
  EXPECT_EQ(exec.code, 2) << exec.out;
  EXPECT_NE(exec.out.find("has no batch '--help' of build.ninja"), std::string::npos) << exec.out;
  EXPECT_EQ(exec.out.find("Usage:"), std::string::npos) << exec.out;
}

// Class 4: these aborted with an uncaught exception (exit 134), and every
// later ninja with them, the policy file being an input of regeneration.
TEST_F(HostileTest, BadPolicyFilesAreExit2WithOneLine) {
  Write(root_ / "key.yml", "[a]: 1\n");
  fs::create_directories(root_ / "policy-dir");
  for (const fs::path& policy : {root_ / "key.yml", root_ / "policy-dir"}) {
    Result gen = Shell(project_, "'" + kPaGen.string() + "' --policy-file '" + policy.string() + "' 2>&1");
    EXPECT_EQ(gen.code, 2) << gen.out;
    EXPECT_EQ(gen.out.rfind("pa-gen: error: " + policy.string() + ":", 0), 0u) << gen.out;
    EXPECT_EQ(gen.out.find('\n'), gen.out.size() - 1) << gen.out;
  }
}

// Every file under `dir`: its path, mtime and content, one per line. The
// resident worker's own log is listed by name only: the worker left by the
// build goes on writing it (its idle warm-up) on its own schedule, while a
// worker started anew would still show in its socket and lock.
std::string TreeListing(const fs::path& dir) {
  std::string listing;
  std::error_code ec;
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    files.push_back(it->path());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    listing += RelativePath(file, dir);
    bool worker_log = file.parent_path().filename() == "worker" && file.extension() == ".log";
    if (fs::is_regular_file(file) && !worker_log) {
      listing += " " + std::to_string(fs::last_write_time(file).time_since_epoch().count()) + " " +
                 std::to_string(std::hash<std::string>{}(Read(file)));
    }
    listing += "\n";
  }
  return listing;
}

// A DuckDB project of one model, `models/one.sql` with `sql`.
void WriteOneModelProject(const fs::path& project, const std::string& sql) {
  fs::create_directories(project / "models");
  Write(project / "dbt_project.yml", "name: tiny\nprofile: tiny\nconfig-version: 2\nmodel-paths: [models]\n");
  Write(project / "profiles.yml",
        "tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: tiny.duckdb\n");
  Write(project / "models" / "one.sql", sql);
}

// Bad input is exit 2 with one line and loses nothing: a project without
// .pa/ still has none (not even the generate lock), and a built one keeps
// every file as it was, mtimes too.
TEST(BadInput, LeavesDotPaBuildNinjaPlanAndStateAsTheyWere) {
  fs::path root = TestRoot("bad-input");
  fs::path project = root / "tiny";
  WriteOneModelProject(project, "select 1 as id\n");
  Write(root / "corrupt.json", "{\"nodes\": {");
  Write(root / "bad-policy.yml", "rules: [\n");
  const std::string pa_gen = "'" + kPaGen.string() + "'";
  const std::vector<std::string> bad = {
      pa_gen + " --manifest ../corrupt.json",
      pa_gen + " --dbt ../no-such-dbt",
      pa_gen + " --policy-file ../bad-policy.yml",
      pa_gen + " --policy nonsense",
  };
  for (const std::string& command : bad) {
    Result gen = Shell(project, command + " 2>&1");
    EXPECT_EQ(gen.code, 2) << command << "\n" << gen.out;
    EXPECT_EQ(gen.out.rfind("pa-gen: error: ", 0), 0u) << gen.out;
    EXPECT_EQ(gen.out.find('\n'), gen.out.size() - 1) << gen.out;
    EXPECT_FALSE(fs::exists(project / ".pa")) << command;
    EXPECT_FALSE(fs::exists(project / "build.ninja")) << command;
  }

  Result built = Shell(project, pa_gen + " && ninja");
  ASSERT_EQ(built.code, 0) << built.out;
  ASSERT_TRUE(fs::exists(project / ".pa" / "locks" / "generate.lock"));
  std::string before = TreeListing(project);
  for (const std::string& command : bad) {
    Result gen = Shell(project, command + " 2>&1");
    EXPECT_EQ(gen.code, 2) << command << "\n" << gen.out;
    EXPECT_EQ(TreeListing(project), before) << command;
  }
  EXPECT_NE(Shell(project, "ninja").out.find("no work to do"), std::string::npos);
  RemoveUnlessFailed(root);
}

// A `dbt parse` that fails on a project without .pa/ leaves none (its
// output kept in the temporary folder, which the error names), and the
// read-only commands make none; a successful generation then does.
TEST(BadInput, AFailingParseAndReadOnlyCommandsLeaveNoDotPa) {
  fs::path root = TestRoot("fresh");
  fs::path project = root / "tiny";
  WriteOneModelProject(project, "select * from {{ ref('no_such_model') }}\n");
  const std::string pa_gen = "'" + kPaGen.string() + "'";
  Result failed = Shell(project, pa_gen + " 2>&1");
  EXPECT_EQ(failed.code, 2) << failed.out;
  EXPECT_EQ(failed.out.find('\n'), failed.out.size() - 1) << failed.out;
  EXPECT_NE(failed.out.find("no_such_model"), std::string::npos) << failed.out;
  EXPECT_FALSE(fs::exists(project / ".pa")) << failed.out;
  EXPECT_FALSE(fs::exists(project / "build.ninja"));
  const std::string mark = "(full output: ";
  size_t at = failed.out.rfind(mark);
  ASSERT_NE(at, std::string::npos) << failed.out;
  fs::path kept = failed.out.substr(at + mark.size(), failed.out.size() - 2 - at - mark.size());
  EXPECT_NE(Read(kept).find("no_such_model"), std::string::npos) << kept;
  fs::remove(kept);

  Write(project / "models" / "one.sql", "select 1 as id\n");
  std::vector<std::string> read_only = {"status", "explain", "graph", "worker status"};
  // dot reads a temporary file outside the project (unit: GraphSvgTest).
  if (Shell(project, "command -v dot").code == 0) read_only.push_back("graph --svg");
  for (const std::string& command : read_only) {
    Result r = Shell(project, pa_gen + " " + command + " 2>&1");
    EXPECT_EQ(r.code, 0) << command << "\n" << r.out;
    EXPECT_FALSE(fs::exists(project / ".pa")) << command;
    EXPECT_FALSE(fs::exists(project / "build.ninja")) << command;
  }
  Result built = Shell(project, pa_gen + " 2>&1");
  EXPECT_EQ(built.code, 0) << built.out;
  EXPECT_TRUE(fs::exists(project / ".pa" / "stamps"));
  EXPECT_TRUE(fs::exists(project / "build.ninja"));
  RemoveUnlessFailed(root);
}

}  // namespace
