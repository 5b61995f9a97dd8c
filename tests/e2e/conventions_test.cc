// dbt's conventions (issue 16 item 5) with the real pa-gen, dbt and ninja:
// a `.env` in the project folder read as dbt 1.12 reads it (its values
// under the real environment's, DBT_TARGET from it), and `pa-gen build
// --select`.
#include <chrono>
#include <set>

#include "e2e_util.h"
#include "exec/state.h"
#include "util/disk.h"

namespace {

using Ids = std::set<std::string>;

void WriteProject(const fs::path& p) {
  fs::create_directories(p / "models");
  Write(p / "dbt_project.yml", "name: conv\nprofile: conv\nconfig-version: 2\nmodel-paths: [models]\n");
  Write(p / "profiles.yml",
        "conv:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: dev.duckdb\n"
        "    prod:\n      type: duckdb\n      path: prod.duckdb\n");
  Write(p / "models" / "colour.sql", "select '{{ env_var(\"PA_COLOUR\") }}' as colour\n");
  Write(p / "models" / "shown.sql", "select * from {{ ref('colour') }}\n");
  Write(p / "models" / "other.sql", "select 1 as id\n");
}



// The value of `shown` in the project's DuckDB file `db`.
std::string Shown(const fs::path& project, const std::string& db) {
  Result r = Shell(project, "'" + (kVenv / "python").string() +
                                "' -c \"import duckdb; print(duckdb.connect('" + db +
                                "', read_only=True).execute('select colour from shown').fetchone()[0])\"");
  EXPECT_EQ(r.code, 0) << r.out;
  return r.out.substr(0, r.out.find('\n'));
}

class ConventionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TestRoot();
    project_ = root_ / "conv";
    WriteProject(project_);
  }
  void TearDown() override { RemoveUnlessFailed(root_); }
  fs::path root_, project_;
  std::string pa_gen_ = "'" + kPaGen.string() + "'";
};

TEST_F(ConventionsTest, DotenvValuesFeedEnvVarAndTheRealEnvironmentWins) {
  Write(project_ / ".env", "# dbt reads this\nPA_COLOUR=red\n");
  Result build = Shell(project_, "unset PA_COLOUR; " + pa_gen_ + " && ninja");
  ASSERT_EQ(build.code, 0) << build.out;
  EXPECT_EQ(Shown(project_, "dev.duckdb"), "red");
  // A plain dbt build reads the same .env: what it builds is what pa-gen built.
  Result dbt = Shell(project_, "unset PA_COLOUR; '" + (kVenv / "dbt").string() +
                                   "' build --profiles-dir . --target-path dbt-target");
  ASSERT_EQ(dbt.code, 0) << dbt.out;
  EXPECT_EQ(Shown(project_, "dev.duckdb"), "red");
  EXPECT_NE(Shell(project_, "unset PA_COLOUR; ninja").out.find("no work to do"), std::string::npos);

  // Another value in .env: ninja regenerates and the nodes run again, as in
  // `dbt build` (pa-gen does not know which nodes read which variable).
  Write(project_ / ".env", "PA_COLOUR=blue\n");
  long long since = Now();
  Result again = Shell(project_, "unset PA_COLOUR; ninja");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_EQ(RanSince(project_, since),
            (Ids{"model.conv.colour", "model.conv.other", "model.conv.shown"})) << again.out;
  EXPECT_EQ(Shown(project_, "dev.duckdb"), "blue");
  EXPECT_NE(Shell(project_, "unset PA_COLOUR; ninja").out.find("no work to do"), std::string::npos);

  // The real environment wins over .env, as dbt's load_dotenv(override=False).
  Result real = Shell(project_, "PA_COLOUR=green ninja");
  ASSERT_EQ(real.code, 0) << real.out;
  EXPECT_EQ(Shown(project_, "dev.duckdb"), "green");
}

TEST_F(ConventionsTest, DbtTargetFromDotenvAndBuildSelect) {
  Write(project_ / ".env", "DBT_TARGET=prod\nPA_COLOUR=red\n");
  long long since = Now();
  Result build = Shell(project_, "unset DBT_TARGET PA_COLOUR; " + pa_gen_ + " build --select +shown -j2");
  ASSERT_EQ(build.code, 0) << build.out;
  EXPECT_EQ(RanSince(project_, since), (Ids{"model.conv.colour", "model.conv.shown"})) << build.out;
  EXPECT_TRUE(fs::exists(project_ / "prod.duckdb"));
  EXPECT_FALSE(fs::exists(project_ / "dev.duckdb"));
  EXPECT_EQ(Shown(project_, "prod.duckdb"), "red");
  // --target wins over DBT_TARGET.
  Result dev = Shell(project_, "unset DBT_TARGET PA_COLOUR; " + pa_gen_ + " --target dev build --select +shown");
  EXPECT_EQ(dev.code, 0) << dev.out;
  EXPECT_TRUE(fs::exists(project_ / "dev.duckdb"));
}

// What follows `pa-gen build` is Ninja's, even a word that names a pa-gen
// subcommand: `-d explain` ran `pa-gen explain`, `-t graph` ran `pa-gen
// graph` (CLI11 matched the words against the other subcommands).
TEST_F(ConventionsTest, NinjaArgumentsAfterBuildReachNinja) {
  Write(project_ / ".env", "PA_COLOUR=red\n");
  Result explain = Shell(project_, "unset DBT_TARGET; " + pa_gen_ + " build -n -d explain 2>&1");
  EXPECT_EQ(explain.code, 0) << explain.out;
  EXPECT_NE(explain.out.find("ninja explain: "), std::string::npos) << explain.out;
  EXPECT_FALSE(fs::exists(project_ / "dev.duckdb")) << "-n ran dbt";
  Result graph = Shell(project_, "unset DBT_TARGET; " + pa_gen_ + " build -t graph 2>&1");
  EXPECT_EQ(graph.code, 0) << graph.out;
  EXPECT_NE(graph.out.find("digraph ninja"), std::string::npos) << graph.out;
  EXPECT_EQ(graph.out.find("digraph pa_gen"), std::string::npos) << graph.out;
  Result status = Shell(project_, "unset DBT_TARGET; " + pa_gen_ + " build -t query status 2>&1");
  EXPECT_NE(status.out.find("ninja: error: unknown target 'status'"), std::string::npos) << status.out;
}

}  // namespace
