#include "exec/work.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include "util/disk.h"

static RealDisk real_disk;  // these tests read and write real files

namespace {

// Batch "b" with a -> c inside it and a parent p in batch "up".
PlanBatch Batch() {
  return {"b", "digest",
          {{"model.x.a", "x.a", "fa", {{"up", "model.x.p"}}},
           {"model.x.c", "x.c", "fc", {{"b", "model.x.a"}}}}};
}

class WorkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("pa_gen_work_" + std::string(
        ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void Save(const std::string& batch, const BatchState& state) {
    std::string err;
    ASSERT_TRUE(SaveBatchState(real_disk, StateFile(dir_, batch), state, &err)) << err;
  }
  std::vector<std::string> Why(const std::set<std::string>& rebuilding = {}) {
    StateCache states(real_disk, dir_);
    std::vector<MemberWork> work;
    std::string err;
    EXPECT_TRUE(DecideWork(Batch(), &states, rebuilding, &work, &err)) << err;
    std::vector<std::string> why;
    for (const MemberWork& w : work) why.push_back((w.needed ? "run: " : "skip: ") + w.why);
    return why;
  }
  // Everything built at time 10, the parent at 5.
  void BuildAll() {
    Save("up", {{"model.x.p", {"fp", 5, "success", "", false}}});
    Save("b", {{"model.x.a", {"fa", 10, "success", "", false}},
               {"model.x.c", {"fc", 10, "success", "", false}}});
  }
  fs::path dir_;
};

TEST_F(WorkTest, NeverBuiltRuns) {
  EXPECT_EQ(Why(), (std::vector<std::string>{"run: never built", "run: never built"}));
}

TEST_F(WorkTest, UpToDateRunsNothing) {
  BuildAll();
  EXPECT_EQ(Why(), (std::vector<std::string>{"skip: up to date", "skip: up to date"}));
}

TEST_F(WorkTest, ChangedFingerprintRunsTheNodeAndWhatFollowsInTheBatch) {
  BuildAll();
  Save("b", {{"model.x.a", {"old", 10, "success", "", false}},
             {"model.x.c", {"fc", 10, "success", "", false}}});
  EXPECT_EQ(Why(), (std::vector<std::string>{"run: changed", "run: upstream model.x.a rebuilds"}));
}

TEST_F(WorkTest, ParentRebuiltLaterRunsTheChild) {
  BuildAll();
  Save("up", {{"model.x.p", {"fp", 20, "success", "", false}}});
  EXPECT_EQ(Why(), (std::vector<std::string>{"run: upstream model.x.p rebuilt",
                                             "run: upstream model.x.a rebuilds"}));
}

TEST_F(WorkTest, FailedAndForgottenRun) {
  BuildAll();
  Save("b", {{"model.x.a", {"fa", 10, "success", "", false}},
             {"model.x.c", {"fc", 10, "error", "boom", false}}});
  EXPECT_EQ(Why(), (std::vector<std::string>{"skip: up to date", "run: failed last time (error)"}));
  Save("b", {{"model.x.a", {"fa", 10, "", "", true}}, {"model.x.c", {"fc", 10, "success", "", false}}});
  EXPECT_EQ(Why(), (std::vector<std::string>{"run: forgotten (pa-gen forget)",
                                             "run: upstream model.x.a rebuilds"}));
}

TEST_F(WorkTest, StatusPredictsFromUpstreamThatWillRebuild) {
  BuildAll();
  EXPECT_EQ(Why({"model.x.p"}), (std::vector<std::string>{"run: upstream model.x.p rebuilds",
                                                          "run: upstream model.x.a rebuilds"}));
}

TEST_F(WorkTest, UnreadableStateIsAnErrorNamingTheFile) {
  fs::create_directories(StateDir(dir_));
  std::ofstream(StateFile(dir_, "b")) << "{not json";
  StateCache states(real_disk, dir_);
  std::vector<MemberWork> work;
  std::string err;
  EXPECT_FALSE(DecideWork(Batch(), &states, {}, &work, &err));
  EXPECT_NE(err.find(StateFile(dir_, "b").string() + ": unreadable state"), std::string::npos) << err;
}


// Issue 13, class 8: `built_at: 1e20` was a float-to-integer overflow
// (UBSan) and the node showed as "failed last time (success)". A number out
// of range makes the state file corrupt: the same one-line error as any
// unreadable state file, naming it and the field; the file is left alone.
TEST_F(WorkTest, OutOfRangeNumbersMakeTheStateFileCorrupt) {
  fs::create_directories(StateDir(dir_));
  for (const char* node : {R"("built_at": 1e20)", R"("built_at": -5)", R"("built_at": 1.5)",
                           R"("built_at": 18446744073709551615)", R"("built_at": 1, "ran_at": 1e300)",
                           R"("built_at": 1, "seconds": -1)", R"("built_at": "soon")"}) {
    std::string text = std::string(R"({"nodes": {"model.p.a": {"fingerprint": "f", "status": "success", )") +
                       node + "}}}";
    std::ofstream(StateFile(dir_, "b")) << text;
    BatchState state;
    std::string err;
    EXPECT_FALSE(LoadBatchState(real_disk, StateFile(dir_, "b"), &state, &err)) << node;
    EXPECT_EQ(err.rfind(StateFile(dir_, "b").string() + ": unreadable state (", 0), 0u) << err;
    std::string field = std::string(node).find("ran_at") != std::string::npos    ? "'ran_at'"
                        : std::string(node).find("seconds") != std::string::npos ? "'seconds'"
                                                                                  : "built_at";
    EXPECT_NE(err.find(field), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  }
}

// Issue 13: state is written with the user's umask, but never more open
// than the project folder.
TEST_F(WorkTest, StateIsNoMoreOpenThanTheProjectFolder) {
  auto mode = [](const fs::path& p) { return static_cast<int>(fs::status(p).permissions()) & 0777; };
  mode_t old_umask = umask(022);
  fs::create_directories(dir_);
  fs::permissions(dir_, static_cast<fs::perms>(0750));
  BatchState state;
  state["model.p.a"].built_at = 1;
  std::string err;
  ASSERT_TRUE(SaveBatchState(real_disk, StateFile(dir_, "b"), state, &err)) << err;
  EXPECT_EQ(mode(dir_ / ".pa"), 0750);
  EXPECT_EQ(mode(StateDir(dir_)), 0750);
  EXPECT_EQ(mode(StateFile(dir_, "b")), 0640);

  fs::remove_all(dir_ / ".pa");
  fs::permissions(dir_, static_cast<fs::perms>(0700));
  ASSERT_TRUE(SaveBatchState(real_disk, StateFile(dir_, "b"), state, &err)) << err;
  EXPECT_EQ(mode(StateDir(dir_)), 0700);
  EXPECT_EQ(mode(StateFile(dir_, "b")), 0600);

  fs::remove_all(dir_ / ".pa");
  fs::permissions(dir_, static_cast<fs::perms>(0777));
  umask(027);  // the umask still applies
  ASSERT_TRUE(SaveBatchState(real_disk, StateFile(dir_, "b"), state, &err)) << err;
  EXPECT_EQ(mode(StateDir(dir_)), 0750);
  EXPECT_EQ(mode(StateFile(dir_, "b")), 0640);
  umask(old_umask);
  fs::permissions(dir_, static_cast<fs::perms>(0755));
}

}  // namespace
