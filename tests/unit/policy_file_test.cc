#include "group/policy_file.h"

#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

namespace {

class PolicyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pa-policy-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Loads `text` as pa-policy.yml; returns the error, "" on success.
  std::string Load(const std::string& text, Policy* policy) {
    std::ofstream(dir_ / "pa-policy.yml") << text;
    std::string err;
    if (LoadPolicyFile(dir_ / "pa-policy.yml", policy, &err)) return "";
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    return err.substr(err.find("pa-policy.yml"));
  }
  std::string Error(const std::string& text) {
    Policy policy;
    return Load(text, &policy);
  }

  fs::path dir_;
};

TEST_F(PolicyFileTest, ReadsDefaultsPoolsAndRulesInOrder) {
  Policy policy;
  ASSERT_EQ(Load(R"(# shaping the batches
defaults:
  policy: folder:2
  max_batch_size: 20
  threads: 4
  pool: warehouse
pools:
  warehouse: 3
rules:
  - match: {path: "models/marts/finance/**", meta: {team: finance}}
    group: finance
    threads: 2
  - match: {tag: nightly, resource_type: model}
    group: "nightly_{folder}"
  - match: {}
    group: everything
)", &policy), "");
  EXPECT_EQ(policy.kind, PolicyKind::kFolder);
  EXPECT_EQ(policy.folder_depth, 2);
  EXPECT_EQ(policy.max_batch_size, 20);
  EXPECT_EQ(policy.defaults.threads, 4);
  EXPECT_EQ(policy.defaults.pool, "warehouse");
  EXPECT_EQ(policy.pools, (std::map<std::string, int>{{"warehouse", 3}}));
  ASSERT_EQ(policy.rules.size(), 3u);
  EXPECT_EQ(policy.rules[0].path, "models/marts/finance/**");
  EXPECT_EQ(policy.rules[0].meta, (std::vector<std::pair<std::string, std::string>>{{"team", "finance"}}));
  EXPECT_EQ(policy.rules[0].threads, 2);
  EXPECT_EQ(policy.rules[0].line, 10);
  EXPECT_EQ(policy.rules[1].tag, "nightly");
  EXPECT_EQ(policy.rules[1].resource_type, "model");
  EXPECT_EQ(policy.rules[1].group, "nightly_{folder}");
  EXPECT_EQ(policy.rules[2].group, "everything");
}

TEST_F(PolicyFileTest, JsonIsReadToo) {
  Policy policy;
  ASSERT_EQ(Load(R"({"rules": [{"match": {"tag": "x"}, "group": "x"}]})", &policy), "");
  ASSERT_EQ(policy.rules.size(), 1u);
}

TEST_F(PolicyFileTest, BadFilesNameTheFileLineAndField) {
  EXPECT_EQ(Error("rules:\n  - match: {tag: x\n    group: y\n"),
            "pa-policy.yml:3: malformed YAML: end of map flow not found");
  EXPECT_EQ(Error("rules:\n  - match: {tag: x}\n    group: y\n    colour: red\n"),
            "pa-policy.yml:4: unknown field 'colour' in rule 1 (known: group, match, pool, threads)");
  EXPECT_EQ(Error("rules:\n  - match: {tags: x}\n    group: y\n"),
            "pa-policy.yml:2: unknown field 'tags' in rule 1 match (known: materialized, meta, package, "
            "path, resource_type, tag)");
  EXPECT_EQ(Error("rules:\n  - match: {path: \"models/[ab.sql\"}\n    group: y\n"),
            "pa-policy.yml:2: field 'path' in rule 1 match: bad glob: '[' without a closing ']'");
  EXPECT_EQ(Error("rules:\n  - match: {}\n    group: \"{colour}\"\n"),
            "pa-policy.yml:3: field 'group' in rule 1: unknown placeholder '{colour}' (known: {folder}, "
            "{name}, {tag}, {resource_type}, {package}, {materialized}, {meta.KEY})");
  EXPECT_EQ(Error("rules:\n  - match: {}\n"), "pa-policy.yml:2: rule 1 lacks 'group'");
  EXPECT_EQ(Error("rules:\n  - group: x\n"),
            "pa-policy.yml:2: rule 1 lacks 'match' (use match: {} to match every node)");
  EXPECT_EQ(Error("defaults:\n  threads: many\n"),
            "pa-policy.yml:2: field 'threads' in defaults should be a whole number >= 1");
  EXPECT_EQ(Error("defaults:\n  policy: by-size\n"),
            "pa-policy.yml:2: field 'policy' in defaults: unknown policy 'by-size' (known: folder, "
            "folder:N, per-model, tag, tag:A,B, meta:KEY, resource-type, level, component, single, auto)");
  EXPECT_EQ(Error("rules:\n  - match: {}\n    group: x\n    pool: big\n"),
            "pa-policy.yml:2: rule 1 names pool 'big', which 'pools' does not declare");
  EXPECT_EQ(Error("- a\n- b\n"), "pa-policy.yml:1: the policy file should be a mapping");
}

// Issue 13, class 4: inputs that ended pa-gen with an uncaught exception.
TEST_F(PolicyFileTest, NonScalarKeysAreAnError) {
  EXPECT_EQ(Error("[a]: 1\n"),
            "pa-policy.yml:1: a key in the policy file should be a name, not a list or mapping");
  EXPECT_EQ(Error("pools:\n  {a: 1}: 2\n"),
            "pa-policy.yml:2: a key in pools should be a name, not a list or mapping");
  EXPECT_EQ(Error("rules:\n  - match: {meta: {[x]: y}}\n    group: g\n"),
            "pa-policy.yml:2: a key in rule 1 match meta should be a name, not a list or mapping");
  EXPECT_EQ(Error("rules:\n  - {? [match]: {}, group: g}\n"),
            "pa-policy.yml:2: a key in rule 1 should be a name, not a list or mapping");
}

TEST_F(PolicyFileTest, AFolderIsAnError) {
  fs::create_directories(dir_ / "policy-dir");
  Policy policy;
  std::string err;
  EXPECT_FALSE(LoadPolicyFile(dir_ / "policy-dir", &policy, &err));
  EXPECT_EQ(err, (dir_ / "policy-dir").string() + ": cannot read: Is a directory");
  EXPECT_FALSE(LoadPolicyFile(dir_ / "missing.yml", &policy, &err));
  EXPECT_EQ(err, (dir_ / "missing.yml").string() + ": cannot read: No such file or directory");
}

TEST_F(PolicyFileTest, YamlErrorsQuotingANewlineStayOneLine) {  // found by fuzz_policy_file
  Policy policy;
  std::string err;
  EXPECT_FALSE(ParsePolicyFile(std::string("mate\0\n", 6), "p.yml", &policy, &err));
  EXPECT_EQ(err.rfind("p.yml:", 0), 0u) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
}

TEST_F(PolicyFileTest, OddYamlIsOneLineNeverAThrow) {
  for (const char* text : {"&a [*a]\n", "*unknown\n", "!!binary 3\n", "defaults: !!map []\n",
                           "\t\n", "defaults:\n  threads: 99999999999999999999\n",
                           "pools: {a: 1e20}\n", "rules: [[[[[[]]]]]]\n", "? - a\n  - b\n: c\n"}) {
    Policy policy;
    std::string err;
    EXPECT_NO_THROW(ParsePolicyFile(text, "p.yml", &policy, &err)) << text;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  }
}

}  // namespace
