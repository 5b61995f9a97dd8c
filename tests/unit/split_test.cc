#include "exec/split.h"

#include <gtest/gtest.h>

#include "exec/work.h"
#include "fake_disk.h"
#include "plan/layout.h"

namespace {

NodeState Built() { return {"f", 5, "success"}; }
NodeState Failed() { return {"f", 0, "error"}; }

TEST(Split, MarkersAreFilesInTheSplitFolder) {
  FakeDisk disk;
  EXPECT_TRUE(SplitMarkers(disk, "/p").empty());
  SetSplitMarker(disk, "/p", "staging", true);
  SetSplitMarker(disk, "/p", "marts", true);
  EXPECT_TRUE(disk.Exists(SplitDir("/p") / "staging"));
  EXPECT_EQ(SplitMarkers(disk, "/p"), (std::set<std::string>{"marts", "staging"}));
  SetSplitMarker(disk, "/p", "staging", false);
  SetSplitMarker(disk, "/p", "never", false);
  EXPECT_EQ(SplitMarkers(disk, "/p"), (std::set<std::string>{"marts"}));
}

TEST(Split, AMarkerSplitsItsBatchUntilEveryMemberSucceeded) {
  std::map<std::string, std::vector<std::string>> batches = {
      {"staging", {"model.p.a", "model.p.b"}}, {"marts", {"model.p.c"}}, {"fresh", {"model.p.d"}}};
  BatchState state = {{"model.p.a", Built()}, {"model.p.b", Failed()}, {"model.p.c", Built()}};
  SplitChoice choice = ChooseSplits({"staging", "marts", "gone"}, batches, state);
  EXPECT_EQ(choice.split, (std::set<std::string>{"staging"}));  // b still fails
  // marts: every member succeeded; gone: no batch of that name any more.
  EXPECT_EQ(choice.merged, (std::set<std::string>{"gone", "marts"}));
  // A member never run (no state) keeps the batch split; no marker, no split.
  state["model.p.b"] = Built();
  batches["staging"].push_back("model.p.new");
  choice = ChooseSplits({"staging"}, batches, state);
  EXPECT_EQ(choice.split, (std::set<std::string>{"staging"}));
  EXPECT_TRUE(ChooseSplits({}, batches, state).split.empty());
}

// The batches split from `staging` (one per node) and a batch that waits.
class MergeBackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plan_.batches = {
        {"staging__a", "d1", {{"model.p.a", "p.a", "fa", {}}}, "staging"},
        {"staging__b", "d2", {{"model.p.b", "p.b", "fb", {{"staging__a", "model.p.a"}}}}, "staging"},
        {"marts", "d3", {{"model.p.c", "p.c", "fc", {{"staging__b", "model.p.b"}}}}},
    };
    SetSplitMarker(disk_, "/p", "staging", true);
  }
  void Save(const std::string& batch, const std::string& id, const NodeState& s) {
    std::string err;
    ASSERT_TRUE(SaveBatchState(disk_, StateFile("/p", batch), {{id, s}}, &err)) << err;
  }
  bool Merged(const std::string& batch, const BatchState& own) {
    StateCache states(disk_, "/p");
    MergeBackWhenDone(disk_, "/p", plan_, *plan_.Find(batch), &states, own);
    return SplitMarkers(disk_, "/p").empty();
  }

  FakeDisk disk_;
  Plan plan_;
};

TEST_F(MergeBackTest, TheLastSplitBatchToSucceedRemovesTheMarker) {
  EXPECT_FALSE(Merged("staging__b", {{"model.p.b", Built()}}));  // a has no state yet
  Save("staging__a", "model.p.a", Failed());
  EXPECT_FALSE(Merged("staging__b", {{"model.p.b", Built()}}));
  Save("staging__a", "model.p.a", Built());
  EXPECT_FALSE(Merged("staging__b", {{"model.p.b", Failed()}}));  // its own fresh state counts
  EXPECT_TRUE(Merged("staging__b", {{"model.p.b", Built()}}));
}

TEST_F(MergeBackTest, ABatchNotSplitLeavesMarkersAlone) {
  Save("staging__a", "model.p.a", Built());
  Save("staging__b", "model.p.b", Built());
  EXPECT_FALSE(Merged("marts", {{"model.p.c", Built()}}));
}

}  // namespace
