// A folder cut into pieces (`--max-batch-size`, the server default above 64
// models) is still a Ninja target: `ninja staging` builds that folder's
// nodes, all of its pieces and the test of its nodes alone that runs apart
// from them, and nothing downstream. So is a folder split to keep the batch
// graph acyclic (a staging model that reads a mart). Real pa-gen, dbt and
// ninja on a small DuckDB project (cheaper than PostgreSQL; the cut is the
// same code).
#include <set>

#include "e2e_util.h"

namespace {

using Ids = std::set<std::string>;

// staging: s1 -> s2 and s3 -> s4 (cut in 2: {s1, s2}, {s3, s4}); a
// singular test of s1 and s4, whose parents are then in unrelated pieces;
// marts: m reads s2 and s4.
void WriteProject(const fs::path& p) {
  fs::create_directories(p / "models" / "staging");
  fs::create_directories(p / "models" / "marts");
  fs::create_directories(p / "tests");
  Write(p / "dbt_project.yml", "name: cut\nprofile: cut\nconfig-version: 2\nmodel-paths: [models]\n"
                               "test-paths: [tests]\n");
  Write(p / "profiles.yml", "cut:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: dev.duckdb\n");
  Write(p / "models" / "staging" / "s1.sql", "select 1 as id\n");
  Write(p / "models" / "staging" / "s2.sql", "select * from {{ ref('s1') }}\n");
  Write(p / "models" / "staging" / "s3.sql", "select 3 as id\n");
  Write(p / "models" / "staging" / "s4.sql", "select * from {{ ref('s3') }}\n");
  Write(p / "tests" / "s1_and_s4_apart.sql",
        "select * from {{ ref('s1') }} where id in (select id from {{ ref('s4') }})\n");
  Write(p / "models" / "marts" / "m.sql",
        "select * from {{ ref('s2') }} union all select * from {{ ref('s4') }}\n");
}

class CutFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TestRoot();
    project_ = root_ / "cut";
    WriteProject(project_);
  }
  void TearDown() override { RemoveUnlessFailed(root_); }
  fs::path root_, project_;
  std::string pa_gen_ = "'" + kPaGen.string() + "'";
};

TEST_F(CutFolderTest, NinjaStagingBuildsExactlyTheCutFolder) {
  Result gen = Shell(project_, pa_gen_ + " --policy folder --max-batch-size 2");
  ASSERT_EQ(gen.code, 0) << gen.out;
  std::string ninja_file = Read(project_ / "build.ninja");
  EXPECT_NE(ninja_file.find("\nbuild staging: phony .pa/stamps/s1_and_s4_apart.stamp "
                            ".pa/stamps/staging.1.stamp .pa/stamps/staging.2.stamp\n"),
            std::string::npos)
      << ninja_file;
  long long since = Now();
  Result staging = Shell(project_, "ninja staging");
  ASSERT_EQ(staging.code, 0) << staging.out;
  EXPECT_EQ(BatchesRun(staging.out), (Ids{"s1_and_s4_apart", "staging.1", "staging.2"})) << staging.out;
  EXPECT_EQ(RanSince(project_, since), (Ids{"model.cut.s1", "model.cut.s2", "model.cut.s3",
                                            "model.cut.s4", "test.cut.s1_and_s4_apart"}))
      << staging.out;
  EXPECT_NE(Shell(project_, "ninja staging").out.find("no work to do"), std::string::npos);
  // The rest of the build is the mart alone.
  since = Now();
  Result all = Shell(project_, "ninja");
  ASSERT_EQ(all.code, 0) << all.out;
  EXPECT_EQ(RanSince(project_, since), (Ids{"model.cut.m"})) << all.out;
}

// s5 in staging reads the mart, so staging is split around marts:
// staging.1 (s1-s4 and the test), then marts, then staging.2 (s5). `ninja
// staging` builds both parts and, as any target does, what they depend on.
TEST_F(CutFolderTest, NinjaStagingBuildsAFolderSplitAroundAnother) {
  Write(project_ / "models" / "staging" / "s5.sql", "select * from {{ ref('m') }}\n");
  Result gen = Shell(project_, pa_gen_ + " --policy folder");
  ASSERT_EQ(gen.code, 0) << gen.out;
  std::string ninja_file = Read(project_ / "build.ninja");
  EXPECT_NE(ninja_file.find("\nbuild staging: phony .pa/stamps/staging.1.stamp "
                            ".pa/stamps/staging.2.stamp\n"),
            std::string::npos)
      << ninja_file;
  long long since = Now();
  Result staging = Shell(project_, "ninja staging");
  ASSERT_EQ(staging.code, 0) << staging.out;
  EXPECT_EQ(BatchesRun(staging.out), (Ids{"marts", "staging.1", "staging.2"})) << staging.out;
  EXPECT_EQ(RanSince(project_, since),
            (Ids{"model.cut.s1", "model.cut.s2", "model.cut.s3", "model.cut.s4", "model.cut.s5",
                 "model.cut.m", "test.cut.s1_and_s4_apart"}))
      << staging.out;
  // Nothing is left for the whole build to run.
  since = Now();
  Result all = Shell(project_, "ninja");
  ASSERT_EQ(all.code, 0) << all.out;
  EXPECT_EQ(BatchesRun(all.out), Ids{}) << all.out;
  EXPECT_EQ(RanSince(project_, since), Ids{}) << all.out;
}

}  // namespace
