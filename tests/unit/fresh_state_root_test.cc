#include "cli/fresh_state_root.h"

#include <gtest/gtest.h>

#include "fake_disk.h"

namespace {

// What a first generation leaves under /proj: the lock, the key and a
// failing parse's output under .pa/, and a file of the project beside it.
class FreshStateRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    bool changed = false;
    ASSERT_TRUE(disk_.WriteFileIfChanged("/proj/models/a.sql", "select 1\n", &changed, &err));
    ASSERT_TRUE(disk_.Touch("/proj/.pa/locks/generate.lock", &err));
    ASSERT_TRUE(disk_.WriteFileIfChanged("/proj/.pa/identity.key", "00\n", &changed, &err));
    ASSERT_TRUE(disk_.WriteFileIfChanged("/proj/.pa/parse/parse.out", "Compilation Error\n", &changed, &err));
  }
  bool AnythingUnderDotPa() {
    for (const auto& [path, file] : disk_.files)
      if (path.rfind("/proj/.pa", 0) == 0) return true;
    return disk_.Exists("/proj/.pa");
  }
  FakeDisk disk_;
};

TEST_F(FreshStateRootTest, AFailedFirstGenerationLeavesNoDotPa) {
  std::string err = "dbt parse failed";
  { FreshStateRoot fresh(disk_, "/proj/.pa", /*read_only=*/false, &err); }
  EXPECT_FALSE(AnythingUnderDotPa());
  EXPECT_TRUE(disk_.Exists("/proj/models/a.sql"));
  EXPECT_EQ(err, "dbt parse failed");
}

TEST_F(FreshStateRootTest, ASucceededGenerationKeepsIt) {
  std::string err;
  {
    FreshStateRoot fresh(disk_, "/proj/.pa", /*read_only=*/false, &err);
    fresh.Succeeded();
  }
  EXPECT_TRUE(disk_.Exists("/proj/.pa/identity.key"));
  EXPECT_TRUE(disk_.Exists("/proj/.pa/locks/generate.lock"));
}

TEST_F(FreshStateRootTest, AReadOnlyGenerationLeavesNoDotPaEvenWhenItSucceeds) {
  std::string err;
  {
    FreshStateRoot fresh(disk_, "/proj/.pa", /*read_only=*/true, &err);
    fresh.Succeeded();
  }
  EXPECT_FALSE(AnythingUnderDotPa());
  EXPECT_TRUE(disk_.Exists("/proj/models/a.sql"));
}

// The output the error names is kept in the temporary folder, and the
// error names it there.
TEST_F(FreshStateRootTest, TheOutputTheErrorNamesIsKeptOutsideTheProject) {
  std::string err = "dbt parse failed (full output: /proj/.pa/parse/parse.out)";
  { FreshStateRoot fresh(disk_, "/proj/.pa", /*read_only=*/false, &err); }
  EXPECT_FALSE(AnythingUnderDotPa());
  EXPECT_EQ(err, "dbt parse failed (full output: /tmp/pa-gen-parse.out.1)");
  std::string kept, read_err;
  ASSERT_TRUE(disk_.ReadFile("/tmp/pa-gen-parse.out.1", &kept, &read_err)) << read_err;
  EXPECT_EQ(kept, "Compilation Error\n");
}

// A file outside .pa/ stays where it is (and is named as it was); so does
// an error whose named file is missing.
TEST_F(FreshStateRootTest, OtherNamedFilesAreLeftAlone) {
  std::string outside = "dbt parse failed (full output: /proj/models/a.sql)";
  { FreshStateRoot fresh(disk_, "/proj/.pa", false, &outside); }
  EXPECT_EQ(outside, "dbt parse failed (full output: /proj/models/a.sql)");
  EXPECT_EQ(disk_.temp_files, 0);

  SetUp();
  std::string missing = "dbt parse failed (full output: /proj/.pa/parse/gone.out)";
  { FreshStateRoot fresh(disk_, "/proj/.pa", false, &missing); }
  EXPECT_EQ(missing, "dbt parse failed (full output: /proj/.pa/parse/gone.out)");
  EXPECT_EQ(disk_.temp_files, 0);
  EXPECT_FALSE(AnythingUnderDotPa());
}

}  // namespace
