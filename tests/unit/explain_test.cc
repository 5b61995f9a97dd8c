#include "cli/explain.h"

#include <cstdlib>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "fake_command_runner.h"
#include "fake_disk.h"

namespace {

TEST(DescribeBounds, NamesTheLargerBound) {
  Prediction p;
  p.critical_path_seconds = 12.34;
  p.cpu_bound_seconds = 20;
  EXPECT_EQ(DescribeBounds(p, 2),
            "bounds: critical path alone 12.3 s, the batches' dbt CPU over 2 cores 20.0 s; the CPU "
            "limits this build (the database server's own CPU is not counted)");
  p.cpu_bound_seconds = 6;
  EXPECT_EQ(DescribeBounds(p, 1),
            "bounds: critical path alone 12.3 s, the batches' dbt CPU over 1 core 6.0 s; the critical "
            "path limits this build (the database server's own CPU is not counted)");
  EXPECT_EQ(DescribeBounds(p, 0),
            "bounds: critical path alone 12.3 s, no cores limit; the critical path limits this build "
            "(the database server's own CPU is not counted)");
}

// `graph --svg` hands dot a temporary file outside the project and removes
// it: the read-only command writes nothing to the project, on the fake disk
// and under the overlay a read-only run generates on (there the file is a
// real one, since dot is a real program).
class GraphSvgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A `dot` on PATH for WriteGraph to find; the fake runner never starts it.
    tools_ = fs::path(::testing::TempDir()) / "pa_gen_graph_svg_tools";
    fs::remove_all(tools_);
    fs::create_directories(tools_);
    std::ofstream(tools_ / "dot") << "#!/bin/sh\nexit 1\n";
    fs::permissions(tools_ / "dot", fs::perms::owner_all);
    const char* path = std::getenv("PATH");
    old_path_ = path ? path : "";
    setenv("PATH", tools_.c_str(), 1);
    generation_.project.dir = "/proj";
    Batch batch;
    batch.name = "staging";
    generation_.grouping.partition.batches.push_back(batch);
  }
  void TearDown() override {
    setenv("PATH", old_path_.c_str(), 1);
    fs::remove_all(tools_);
  }
  fs::path tools_;
  std::string old_path_;
  Generation generation_;
};

TEST_F(GraphSvgTest, DotReadsATemporaryFileOnTheFakeDisk) {
  FakeDisk disk;
  FakeCommandRunner runner;
  runner.disk = &disk;
  std::string given;
  FakeCommandRunner::Step step;
  step.also = [&](const CommandRequest& request) {
    std::string err;
    ASSERT_EQ(request.argv.size(), 3u);
    EXPECT_TRUE(disk.ReadFile(request.argv[2], &given, &err)) << err;
  };
  runner.script.push_back(step);
  EXPECT_EQ(WriteGraph(runner, disk, generation_, /*nodes=*/false, /*svg=*/true), 0);
  ASSERT_EQ(runner.requests.size(), 1u);
  const std::vector<std::string>& argv = runner.requests[0].argv;
  EXPECT_EQ(argv[0], (tools_ / "dot").string());
  EXPECT_EQ(argv[1], "-Tsvg");
  EXPECT_EQ(argv[2].rfind("/tmp/pa-gen-graph.dot.", 0), 0u) << argv[2];
  EXPECT_EQ(given.rfind("digraph pa_gen {\n", 0), 0u) << given;
  EXPECT_NE(given.find("\"staging\""), std::string::npos) << given;
  EXPECT_TRUE(disk.files.empty()) << "the temporary file is removed, nothing else written";
  EXPECT_TRUE(disk.dirs.count("/proj") == 0 && disk.dirs.count("/proj/.pa") == 0);
}

TEST_F(GraphSvgTest, UnderTheOverlayTheTemporaryFileIsRealAndRemoved) {
  OverlayDisk disk;
  FakeCommandRunner runner;  // no disk: it sees the real files
  std::string given;
  FakeCommandRunner::Step step;
  step.also = [&](const CommandRequest& request) {
    std::ifstream file(request.argv.at(2));
    given.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  };
  runner.script.push_back(step);
  EXPECT_EQ(WriteGraph(runner, disk, generation_, false, true), 0);
  ASSERT_EQ(runner.requests.size(), 1u);
  fs::path file = runner.requests[0].argv.at(2);
  EXPECT_EQ(given.rfind("digraph pa_gen {\n", 0), 0u) << given;
  EXPECT_FALSE(fs::exists(file)) << file;
}

TEST_F(GraphSvgTest, AFailingDotStillRemovesTheFile) {
  FakeDisk disk;
  FakeCommandRunner runner;
  runner.disk = &disk;
  FakeCommandRunner::Step step;
  step.exit_code = 1;
  runner.script.push_back(step);
  EXPECT_EQ(WriteGraph(runner, disk, generation_, false, true), 2);
  EXPECT_TRUE(disk.files.empty());
}

}  // namespace
