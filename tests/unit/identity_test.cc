// Issue 14 item 3: where the warehouse is decides up-to-dateness, through
// keyed digests only.
#include "dbt/identity.h"

#include <sys/stat.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include "manifest/target.h"

namespace {

TEST(Identity, KeyedDigestIsSipHash24) {
  IdentityKey key;
  for (int i = 0; i < 16; ++i) key[i] = static_cast<uint8_t>(i);
  std::string message;
  for (int i = 0; i < 15; ++i) message += static_cast<char>(i);
  // The reference vector of the SipHash paper (64-bit output, 15 bytes).
  EXPECT_EQ(KeyedDigest(key, message), "a129ca6149be45e5");
  IdentityKey other = key;
  other[0] ^= 1;
  EXPECT_NE(KeyedDigest(other, message), KeyedDigest(key, message));
}

TEST(Identity, TheKeyIsMadeOnceAndReadableOnlyByItsOwner) {
  fs::path dir = fs::path(::testing::TempDir()) / "pa_gen_identity";
  fs::remove_all(dir);
  IdentityKey first, second;
  std::string err;
  ASSERT_TRUE(LoadOrCreateIdentityKey(dir / ".pa" / "identity.key", &first, &err)) << err;
  ASSERT_TRUE(LoadOrCreateIdentityKey(dir / ".pa" / "identity.key", &second, &err)) << err;
  EXPECT_EQ(first, second);
  struct stat st;
  ASSERT_EQ(stat((dir / ".pa" / "identity.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);
}

TEST(Identity, EnvironmentDigestFollowsTheValuesAndNeverHoldsThem) {
  IdentityKey key{};
  key[3] = 7;
  unsetenv("PA_TEST_ID_VAR");
  std::string unset = EnvironmentDigest(key, {"PA_TEST_ID_VAR"});
  setenv("PA_TEST_ID_VAR", "", 1);
  std::string empty = EnvironmentDigest(key, {"PA_TEST_ID_VAR"});
  setenv("PA_TEST_ID_VAR", "/data/prod.duckdb", 1);
  std::string prod = EnvironmentDigest(key, {"PA_TEST_ID_VAR"});
  EXPECT_NE(unset, empty);
  EXPECT_NE(empty, prod);
  EXPECT_EQ(prod, EnvironmentDigest(key, {"PA_TEST_ID_VAR"}));
  EXPECT_EQ(prod.find("prod"), std::string::npos);

  fs::path dir = fs::path(::testing::TempDir()) / "pa_gen_check_env";
  fs::remove_all(dir);
  ASSERT_EQ(CheckEnvironment(dir / "key", dir / "env.digest", {"PA_TEST_ID_VAR"}), 0);
  long long mtime = MtimeNs(dir / "env.digest");
  ASSERT_EQ(CheckEnvironment(dir / "key", dir / "env.digest", {"PA_TEST_ID_VAR"}), 0);
  EXPECT_EQ(MtimeNs(dir / "env.digest"), mtime);  // unchanged: restat prunes
  setenv("PA_TEST_ID_VAR", "/data/other.duckdb", 1);
  ASSERT_EQ(CheckEnvironment(dir / "key", dir / "env.digest", {"PA_TEST_ID_VAR"}), 0);
  std::string text, err;
  ASSERT_TRUE(ReadFile(dir / "env.digest", &text, &err)) << err;
  EXPECT_EQ(text.find("other"), std::string::npos);
  unsetenv("PA_TEST_ID_VAR");
}

TEST(TargetIdentity, NamesTheWarehouseAndTheVariablesRead) {
  EXPECT_EQ(EnvVarsRead("path: \"{{ env_var('DB_PATH', 'x.duckdb') }}\"\n"
                        "password: \"{{ env_var('DBT_ENV_SECRET_PW') }}\"\n"
                        "schema: \"{{ env_var( \"SCHEMA\" ) }}\" {{ env_var('DB_PATH') }}"),
            (std::vector<std::string>{"DB_PATH", "SCHEMA"}));
  fs::path dir = fs::path(::testing::TempDir()) / "pa_gen_target_identity";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string err;
  bool changed = false;
  ASSERT_TRUE(WriteFileIfChanged(dir / "dbt_project.yml",
                                 "name: p\nprofile: p\nvars: {day: \"{{ env_var('DAY') }}\"}\n",
                                 &changed, &err));
  ASSERT_TRUE(WriteFileIfChanged(dir / "profiles.yml",
                                 "p:\n  target: dev\n  outputs:\n"
                                 "    dev: {type: duckdb, path: \"{{ env_var('DB_PATH') }}\", threads: 4}\n"
                                 "    prod: {type: postgres, host: db.internal, port: 5432, dbname: w,\n"
                                 "           schema: s, user: u, password: \"{{ env_var('DBT_ENV_SECRET_PW') }}\"}\n",
                                 &changed, &err));
  DbtProject project;
  project.dir = dir;
  project.profile = "p";
  TargetIdentity dev = ReadTargetIdentity(project, dir, "");
  EXPECT_EQ(dev.text, "target=dev\ntype=duckdb\npath={{ env_var('DB_PATH') }}\n");
  EXPECT_EQ(dev.env_vars, (std::vector<std::string>{"DAY", "DB_PATH"}));
  TargetIdentity prod = ReadTargetIdentity(project, dir, "prod");
  EXPECT_EQ(prod.text, "target=prod\ntype=postgres\nhost=db.internal\nport=5432\ndbname=w\nschema=s\n");
  // dbt renders only the output it uses: DB_PATH is dev's alone.
  EXPECT_EQ(prod.env_vars, (std::vector<std::string>{"DAY"}));
}

}  // namespace
