#include "util/disk.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "exec/state.h"
#include "fake_disk.h"
#include "plan/layout.h"

namespace {

// The fake behaves as the real disk does for what pa-gen relies on.
void ChecksTheContract(Disk& disk, const fs::path& dir) {
  std::string err, text;
  bool changed = false;
  EXPECT_FALSE(disk.Exists(dir / "a" / "f"));
  EXPECT_EQ(disk.Stat(dir / "a" / "f"), 0);
  EXPECT_FALSE(disk.ReadFile(dir / "a" / "f", &text, &err));
  EXPECT_EQ(err.rfind((dir / "a" / "f").string() + ": cannot read: ", 0), 0u) << err;
  ASSERT_TRUE(disk.WriteFileIfChanged(dir / "a" / "f", "one", &changed, &err)) << err;
  EXPECT_TRUE(changed);
  long long mtime = disk.Stat(dir / "a" / "f");
  EXPECT_GT(mtime, 0);
  ASSERT_TRUE(disk.WriteFileIfChanged(dir / "a" / "f", "one", &changed, &err)) << err;
  EXPECT_FALSE(changed);
  EXPECT_EQ(disk.Stat(dir / "a" / "f"), mtime);
  ASSERT_TRUE(disk.ReadFile(dir / "a" / "f", &text, &err)) << err;
  EXPECT_EQ(text, "one");
  ASSERT_TRUE(disk.Touch(dir / "a" / "b" / "stamp", &err)) << err;
  ASSERT_TRUE(disk.MakeDirs(dir / "c" / "d", &err)) << err;
  EXPECT_TRUE(disk.Exists(dir / "c" / "d"));
  EXPECT_EQ(disk.ListDir(dir / "a"), (std::vector<std::string>{"b", "f"}));
  EXPECT_TRUE(disk.ListDir(dir / "missing").empty());
  disk.RemoveFile(dir / "a" / "f");
  disk.RemoveFile(dir / "a" / "never");
  EXPECT_FALSE(disk.Exists(dir / "a" / "f"));
  EXPECT_EQ(disk.ListDir(dir / "a"), (std::vector<std::string>{"b"}));
  // Temporary files: each a new one, outside `dir`, named after what it holds.
  fs::path one, two;
  ASSERT_TRUE(disk.WriteTempFile("graph.dot", "digraph {}\n", &one, &err)) << err;
  ASSERT_TRUE(disk.WriteTempFile("graph.dot", "digraph {}\n", &two, &err)) << err;
  EXPECT_NE(one, two);
  EXPECT_EQ(one.filename().string().rfind("pa-gen-graph.dot.", 0), 0u) << one;
  EXPECT_NE(one.string().rfind(dir.string(), 0), 0u) << one;
  ASSERT_TRUE(disk.ReadFile(one, &text, &err)) << err;
  EXPECT_EQ(text, "digraph {}\n");
  disk.RemoveFile(one);
  disk.RemoveFile(two);
  EXPECT_FALSE(disk.Exists(one));
}

TEST(Disk, RealAndFakeKeepTheSameContract) {
  fs::path dir = fs::path(::testing::TempDir()) / "pa_gen_disk";
  fs::remove_all(dir);
  fs::create_directories(dir);
  RealDisk real;
  ChecksTheContract(real, dir);
  FakeDisk fake;
  ChecksTheContract(fake, "/proj");
}

TEST(Disk, RealFoldersAreNoMoreOpenThanTheirParent) {
  fs::path dir = fs::path(::testing::TempDir()) / "pa_gen_disk_modes";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all);
  RealDisk disk;
  std::string err;
  ASSERT_TRUE(disk.Touch(dir / "x" / "stamp", &err)) << err;
  struct stat st;
  ASSERT_EQ(stat((dir / "x").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);
  ASSERT_EQ(stat((dir / "x" / "stamp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);
  // A temporary file is the user's alone, whatever the umask.
  fs::path temp;
  ASSERT_TRUE(disk.WriteTempFile("t", "x", &temp, &err)) << err;
  ASSERT_EQ(stat(temp.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  disk.RemoveFile(temp);
}

TEST(StateOnFakeDisk, SavesLoadsAndTreatsAMissingFileAsEmpty) {
  FakeDisk disk;
  std::string err;
  BatchState state;
  state["x"] = {"old", 3, "error"};
  ASSERT_TRUE(LoadBatchState(disk, StateFile("/p", "b"), &state, &err)) << err;
  EXPECT_TRUE(state.empty());
  state["model.p.a"] = {"fa", 5, "success", "", true, 4, 1.5};
  ASSERT_TRUE(SaveBatchState(disk, StateFile("/p", "b"), state, &err)) << err;
  ASSERT_TRUE(SaveBatchState(disk, StateFile("/p", "b"), state, &err)) << err;
  EXPECT_EQ(disk.writes, 1);  // the same state again leaves the file alone
  BatchState loaded;
  ASSERT_TRUE(LoadBatchState(disk, StateFile("/p", "b"), &loaded, &err)) << err;
  const NodeState& a = loaded["model.p.a"];
  EXPECT_EQ(a.fingerprint, "fa");
  EXPECT_EQ(a.built_at, 5);
  EXPECT_TRUE(a.full_refresh);
  EXPECT_EQ(a.ran_at, 4);
  EXPECT_EQ(a.seconds, 1.5);
  disk.files[FakeDisk::Key(StateFile("/p", "c"))] = {"{\"nodes\": 3", 1};
  EXPECT_FALSE(LoadBatchState(disk, StateFile("/p", "c"), &loaded, &err));
  EXPECT_EQ(err.rfind("/p/.pa/state/c.json: unreadable state", 0), 0u) << err;
  BatchState all;
  EXPECT_FALSE(LoadAllState(disk, "/p", &all, &err));  // c.json is unreadable
  disk.RemoveFile(StateFile("/p", "c"));
  ASSERT_TRUE(LoadAllState(disk, "/p", &all, &err)) << err;
  EXPECT_EQ(all.size(), 1u);
}

TEST(StateOnFakeDisk, StartupSecondsKeepOnlyPlausibleMeasurements) {
  FakeDisk disk;
  EXPECT_EQ(LoadStartupSeconds(disk, "/p"), 0);
  SaveStartupSeconds(disk, "/p", 2.5);
  EXPECT_EQ(disk.files[FakeDisk::Key(StartupFile("/p"))].content, "2.500\n");
  EXPECT_EQ(LoadStartupSeconds(disk, "/p"), 2.5);
  for (const char* odd : {"nan\n", "-1\n", "7200\n", "x\n"}) {
    disk.files[FakeDisk::Key(StartupFile("/p"))] = {odd, 1};
    EXPECT_EQ(LoadStartupSeconds(disk, "/p"), 0) << odd;
  }
}

}  // namespace
