#include "dbt/dotenv.h"

#include <stdlib.h>

#include <fstream>

#include <gtest/gtest.h>

namespace {

using Values = std::map<std::string, std::string>;

Values Resolve(const std::string& text, const Values& environment = {}) {
  return ResolveDotenv(ParseDotenv(text), environment);
}

// Each case checked against python-dotenv 1.2.4 (dbt 1.12.0's), e.g.
// `dotenv_values(stream=io.StringIO(text))`.
TEST(Dotenv, ParsesAsPythonDotenvDoes) {
  EXPECT_EQ(Resolve("A=1\nB = two \n"), (Values{{"A", "1"}, {"B", "two"}}));
  EXPECT_EQ(Resolve("export A=1\n"), (Values{{"A", "1"}}));
  EXPECT_EQ(Resolve("# a comment\n\n  A=x # trailing\nB=x#not a comment\n"),
            (Values{{"A", "x"}, {"B", "x#not a comment"}}));
  EXPECT_EQ(Resolve("A= # only a comment\n"), (Values{{"A", ""}}));
  EXPECT_EQ(Resolve("A='single $ \\' \\n'\n"), (Values{{"A", "single $ ' \\n"}}));
  EXPECT_EQ(Resolve("A=\"double\\n\\t\\\"q\\\"\"\n"), (Values{{"A", "double\n\t\"q\""}}));
  EXPECT_EQ(Resolve("A=\"two\nlines\"\n"), (Values{{"A", "two\nlines"}}));
  EXPECT_EQ(Resolve("'Q K'=v\n"), (Values{{"Q K", "v"}}));
  EXPECT_EQ(Resolve("A\nB=\n"), (Values{{"B", ""}}));  // A has no value: sets nothing
  EXPECT_EQ(Resolve("A=1\nA=2\n"), (Values{{"A", "2"}}));
  EXPECT_EQ(Resolve("\xEF\xBB\xBF" "A=1\r\nB=2\r\n"), (Values{{"A", "1"}, {"B", "2"}}));
  // Malformed lines are skipped, the rest is read.
  EXPECT_EQ(Resolve("=x\nA=\"unclosed\nB=1\n"), (Values{{"B", "1"}}));
  EXPECT_EQ(Resolve("A='x' junk\nB=1\n"), (Values{{"B", "1"}}));
}

TEST(Dotenv, ExpandsVariablesTheRealEnvironmentFirst) {
  EXPECT_EQ(Resolve("A=a\nB=${A}/b\nC=${NOPE:-dflt}-${NOPE}\n"),
            (Values{{"A", "a"}, {"B", "a/b"}, {"C", "dflt-"}}));
  // override=False: the environment's value wins inside expansions too.
  EXPECT_EQ(Resolve("A=a\nB=${A}\n", {{"A", "env"}}), (Values{{"A", "a"}, {"B", "env"}}));
  EXPECT_EQ(Resolve("B=${A}\nA=later\n"), (Values{{"B", ""}, {"A", "later"}}));
  EXPECT_EQ(Resolve("A='${HOME_X:-h}'\nB=$A ${A:x}\n"), (Values{{"A", "h"}, {"B", "$A ${A:x}"}}));
}

TEST(Dotenv, FoundFromTheFolderUpAndLoadedUnderTheEnvironment) {
  fs::path root = fs::path(::testing::TempDir()) / "dotenv_test";
  fs::remove_all(root);
  fs::create_directories(root / "project" / "models");
  EXPECT_EQ(FindDotenv(root / "project" / "models"), fs::path());
  std::ofstream(root / ".env") << "PA_DOTENV_TEST_A=from-file\nPA_DOTENV_TEST_B=${PA_DOTENV_TEST_A}\n";
  fs::create_directories(root / "project" / ".env.d");
  EXPECT_EQ(FindDotenv(root / "project" / "models"), root / ".env");
  setenv("PA_DOTENV_TEST_A", "real", 1);
  unsetenv("PA_DOTENV_TEST_B");
  EXPECT_EQ(LoadDotenv(root / "project"), root / ".env");
  EXPECT_STREQ(getenv("PA_DOTENV_TEST_A"), "real");
  EXPECT_STREQ(getenv("PA_DOTENV_TEST_B"), "real");
  unsetenv("PA_DOTENV_TEST_A");
  unsetenv("PA_DOTENV_TEST_B");
  fs::remove_all(root);
}

}  // namespace
