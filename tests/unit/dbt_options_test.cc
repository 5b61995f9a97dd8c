#include "dbt/options.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "dbt/dbt.h"

namespace {

TEST(DbtOptions, NumbersAreCheckedInOneLine) {
  EXPECT_EQ(CheckNumber("--threads", 0, "4"), "");
  EXPECT_EQ(CheckNumber("--threads", 0, "0"), "");
  EXPECT_EQ(CheckNumber("--threads", 0, "-3"), "--threads must be 0 or more, not -3");
  EXPECT_EQ(CheckNumber("-j", 1, "0"), "-j must be at least 1, not 0");
  EXPECT_EQ(CheckNumber("--retries", 0, "two"), "--retries takes a whole number, not 'two'");
  EXPECT_EQ(CheckNumber("--retries", 0, "99999999999999999999"),
            "--retries takes a whole number, not '99999999999999999999'");
}

// Issue 13: --vars as block YAML was rejected only after a full dbt parse,
// naming the manifest.
TEST(DbtOptions, TextMustFitOnOneLine) {
  EXPECT_EQ(CheckOneLine("--vars", "{a: 1, b: 2}"), "");
  EXPECT_EQ(CheckOneLine("--vars", "a: 1\nb: 2"),
            "--vars holds a line break, which build.ninja cannot carry: write it on one line "
            "(for --vars, YAML flow style: {a: 1, b: 2})");
  EXPECT_NE(CheckOneLine("--target", "dev\r"), "");
}

// A batch's dbt gets dbt's cheaper equivalents of two O(project) steps,
// unless the user's environment sets them (then dbt reads the user's value).
TEST(DbtOptions, BatchesGetTheCheaperSettingsTheUserDidNotChoose) {
  using Env = std::vector<std::pair<std::string, std::string>>;
  auto value = [](const Env& env, const std::string& name) {
    int found = 0;
    std::string v;
    for (const auto& [k, val] : env)
      if (k == name) ++found, v = val;
    return found == 1 ? v : "(" + std::to_string(found) + " times)";
  };
  unsetenv("DBT_CACHE_SELECTED_ONLY");
  unsetenv("DBT_USE_FAST_TEST_EDGES");
  Env env = DbtBuildEnvironment();
  EXPECT_EQ(value(env, "DBT_CACHE_SELECTED_ONLY"), "true");
  EXPECT_EQ(value(env, "DBT_USE_FAST_TEST_EDGES"), "true");
  EXPECT_EQ(value(env, "DBT_USE_COLORS"), "false");  // and all of DbtEnvironment()

  setenv("DBT_USE_FAST_TEST_EDGES", "false", 1);
  env = DbtBuildEnvironment();
  EXPECT_EQ(value(env, "DBT_USE_FAST_TEST_EDGES"), "(0 times)");
  EXPECT_EQ(value(env, "DBT_CACHE_SELECTED_ONLY"), "true");
  unsetenv("DBT_USE_FAST_TEST_EDGES");

  // Parse and ls get neither: they select nothing to build.
  EXPECT_EQ(value(DbtEnvironment(), "DBT_CACHE_SELECTED_ONLY"), "(0 times)");
}

TEST(DbtOptions, EveryFlagIsUniqueAndHasAPlanKey) {
  std::set<std::string> flags, keys;
  for (const DbtOption& o : DbtOptions()) {
    EXPECT_TRUE(flags.insert(o.flag).second) << o.flag;
    EXPECT_TRUE(keys.insert(o.plan_key).second) << o.plan_key;
  }
}

TEST(DbtOptions, ArgumentsInTableOrderOnlyWhenSet) {
  DbtSettings s;
  s.dbt = "/v/bin/dbt";
  s.profiles_dir = "/p";
  s.vars = "{a: 1}";
  s.retries = 0;
  std::vector<std::string> all;
  AppendOptionArgs(s, false, &all);
  EXPECT_EQ(all, (std::vector<std::string>{"--dbt=/v/bin/dbt", "--profiles-dir=/p", "--vars={a: 1}",
                                           "--retries=0"}));
  s.threads = 3;
  s.target = "prod";
  EXPECT_EQ(SharedDbtArgs(s),
            (std::vector<std::string>{"--profiles-dir=/p", "--target=prod", "--vars={a: 1}"}));
}

TEST(FindDbt, ADirectoryIsNotDbt) {
  fs::path found;
  std::string err;
  EXPECT_FALSE(FindDbt(::testing::TempDir(), ".", &found, &err));
  EXPECT_EQ(err, "--dbt names '" + ::testing::TempDir() + "', which is not an executable file");
  EXPECT_TRUE(FindDbt("/bin/sh", ".", &found, &err)) << err;
  EXPECT_EQ(found, "/bin/sh");
}

}  // namespace
