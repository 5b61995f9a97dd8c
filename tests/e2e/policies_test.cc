// End to end: every grouping policy builds examples/planalign into the
// same warehouse as a plain `dbt build` (made once, by the fixture setup
// PlanalignSetup.DbtBuildReference in e2e_tests).
#include "e2e_util.h"

namespace {

class PoliciesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    root_ = TestRoot();
    reference_ = ReferenceDigest();
  }
  void TearDown() override { RemoveUnlessFailed(root_); }
  fs::path root_;
  std::string reference_;
};

TEST_P(PoliciesTest, BuildsTheSameWarehouseAsDbtBuild) {
  ASSERT_FALSE(reference_.empty());
  std::string args = GetParam();
  std::string folder = args;
  for (char& c : folder)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  fs::path project = root_ / folder;
  CopyExample(project);
  Result build = Shell(project, "'" + kPaGen.string() + "' " + args + " && ninja -j8");
  ASSERT_EQ(build.code, 0) << build.out;
  EXPECT_EQ(WarehouseDigest(project), reference_) << build.out;
  Result again = Shell(project, "ninja");
  EXPECT_NE(again.out.find("ninja: no work to do."), std::string::npos) << again.out;
}

INSTANTIATE_TEST_SUITE_P(EveryPolicy, PoliciesTest,
                         ::testing::Values("--policy folder:2", "--policy per-model",
                                           "--policy tag", "--policy tag:reporting,simulation",
                                           "--policy meta:pa_group", "--policy resource-type",
                                           "--policy level", "--policy component",
                                           "--policy single", "--policy-file pa-policy.yml"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           // "--policy tag:reporting,simulation" -> "tag_reporting_simulation"
                           std::string name = info.param.substr(info.param.find_first_of(" ") + 1);
                           if (info.param.starts_with("--policy-file")) name = "file_" + name;
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
