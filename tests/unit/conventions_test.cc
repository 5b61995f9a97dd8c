#include "cli/conventions.h"

#include <stdlib.h>

#include <gtest/gtest.h>

namespace {

using Args = std::vector<std::string>;

TEST(TakeBuildSelection, TakesDbtsSelectionOutOfNinjasArguments) {
  Args args = {"-j8", "--select", "stg_a+", "marts", "-k", "0", "--exclude=tag:slow", "-s", "x"};
  DbtSettings settings;
  std::string err;
  ASSERT_TRUE(TakeBuildSelection(&args, &settings, &err)) << err;
  EXPECT_EQ(args, (Args{"-j8", "-k", "0"}));
  EXPECT_EQ(settings.select, "stg_a+ marts x");  // dbt's --select a b: the words up to the next option
  EXPECT_EQ(settings.exclude, "tag:slow");

  Args plain = {"-j8", "marts"};
  DbtSettings given;
  given.select = "seeds";  // given before `build`
  ASSERT_TRUE(TakeBuildSelection(&plain, &given, &err));
  EXPECT_EQ(plain, (Args{"-j8", "marts"}));
  EXPECT_EQ(given.select, "seeds");
}

TEST(TakeBuildSelection, AFlagWithoutAValueIsAnError) {
  for (Args args : {Args{"--select"}, Args{"--exclude", "-j8"}, Args{"--select="}}) {
    DbtSettings settings;
    std::string err;
    EXPECT_FALSE(TakeBuildSelection(&args, &settings, &err));
    EXPECT_NE(err.find("needs a value"), std::string::npos) << err;
  }
}

TEST(EffectiveTarget, TheFlagThenDbtTarget) {
  DbtSettings settings;
  unsetenv("DBT_TARGET");
  EXPECT_EQ(EffectiveTarget(settings), "");
  setenv("DBT_TARGET", "prod", 1);
  EXPECT_EQ(EffectiveTarget(settings), "prod");
  settings.target = "dev";
  EXPECT_EQ(EffectiveTarget(settings), "dev");
  unsetenv("DBT_TARGET");
}

TEST(AddNames, SortedWithoutDuplicates) {
  std::vector<std::string> names = {"B", "D"};
  AddNames(&names, {"A", "D", "C"});
  EXPECT_EQ(names, (std::vector<std::string>{"A", "B", "C", "D"}));
}

}  // namespace
