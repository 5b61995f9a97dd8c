// --select / --exclude (issue 14 item 6): dbt ls's list, the graph it
// leaves, the state of what it leaves out; the overlay disk that keeps
// status, explain and graph read-only (item 5).
#include <gtest/gtest.h>

#include "exec/state.h"
#include "fake_command_runner.h"
#include "fake_disk.h"
#include "graph/graph.h"
#include "manifest/dbt_ls.h"
#include "plan/layout.h"
#include "plan/plan.h"
#include "util/disk.h"

namespace {

TEST(DbtLs, ReadsUniqueIdsAndSkipsOtherLines) {
  EXPECT_EQ(ParseLsOutput("12:00:01  Running with dbt=1.12.0\n"
                          "{\"unique_id\": \"model.p.b\"}\n"
                          "{\"unique_id\": \"test.p.t.1a\"}\n"
                          "{not json\n"
                          "{\"name\": \"x\"}\n"
                          "{\"unique_id\": \"model.p.a\"}"),
            (std::set<std::string>{"model.p.a", "model.p.b", "test.p.t.1a"}));
}

TEST(DbtLs, ListsOnceForAManifestAndSelection) {
  fs::path dir = fs::path(::testing::TempDir()) / "pa_gen_dbt_ls";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string err;
  bool changed = false;
  ASSERT_TRUE(WriteFileIfChanged(dir / "manifest.json", "{}", &changed, &err)) << err;
  DbtProject project;
  project.dir = dir;
  DbtSettings settings;
  settings.dbt = "/v/bin/dbt";
  settings.exclude = "broken_model";
  FakeCommandRunner runner;
  runner.script.push_back({.output = "{\"unique_id\": \"model.p.ok\"}\n"});
  std::set<std::string> ids;
  ASSERT_TRUE(ListSelectedNodes(runner, dir / "select", project, settings, dir / "manifest.json",
                                dir / "partial_parse.msgpack", &ids, &err))
      << err;
  EXPECT_EQ(ids, (std::set<std::string>{"model.p.ok"}));
  ASSERT_EQ(runner.requests.size(), 1u);
  const std::vector<std::string>& argv = runner.requests[0].argv;
  EXPECT_EQ(argv[1], "ls");
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--exclude=broken_model"), argv.end());
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--select="), argv.end());
  // The same manifest and selection: the list is reused, no dbt runs.
  ASSERT_TRUE(ListSelectedNodes(runner, dir / "select", project, settings, dir / "manifest.json",
                                dir / "partial_parse.msgpack", &ids, &err))
      << err;
  EXPECT_EQ(runner.requests.size(), 1u);
  EXPECT_EQ(ids, (std::set<std::string>{"model.p.ok"}));
  // Another selection lists again; a failing dbt ls is one line naming it.
  settings.select = "+marts";
  runner.script.push_back({.exit_code = 2, .output = "Error: bad selector\n"});
  EXPECT_FALSE(ListSelectedNodes(runner, dir / "select", project, settings, dir / "manifest.json",
                                 dir / "partial_parse.msgpack", &ids, &err));
  EXPECT_EQ(err.rfind("dbt ls of --select/--exclude failed in ", 0), 0u) << err;
}

Node MakeNode(const std::string& id, std::vector<int> deps) {
  Node n;
  n.unique_id = id;
  n.deps = std::move(deps);
  return n;
}

TEST(SelectNodes, KeepsTheSelectedAndDropsDependenciesOnTheRest) {
  Graph g;
  g.nodes = {MakeNode("model.p.a", {}), MakeNode("model.p.b", {0}), MakeNode("model.p.c", {0, 1}),
             MakeNode("test.p.t", {2})};
  Graph s = SelectNodes(g, {"model.p.a", "model.p.c", "test.p.t", "model.p.not_executable"});
  ASSERT_EQ(s.nodes.size(), 3u);
  EXPECT_EQ(s.nodes[1].unique_id, "model.p.c");
  EXPECT_EQ(s.nodes[1].deps, (std::vector<int>{0}));  // b is left out
  EXPECT_EQ(s.nodes[2].deps, (std::vector<int>{1}));
}

TEST(RegroupState, KeepsTheStateOfNodesLeftOutOfTheSelection) {
  FakeDisk disk;
  std::string err;
  BatchState old_batch;
  old_batch["model.p.a"] = {"fa", 5, "success"};
  old_batch["model.p.broken"] = {"fb", 0, "error"};
  old_batch["model.p.gone"] = {"fg", 5, "success"};
  ASSERT_TRUE(SaveBatchState(disk, StateFile("/p", "models"), old_batch, &err)) << err;
  Plan plan;
  plan.batches.push_back({"models", "d", {{"model.p.a", "p.a", "fa", {}}}});
  BatchState all;
  ASSERT_TRUE(LoadAllState(disk, "/p", &all, &err)) << err;
  ASSERT_TRUE(RegroupState(disk, "/p", plan, all, &err, {"model.p.broken"})) << err;
  BatchState outside;
  ASSERT_TRUE(LoadBatchState(disk, StateFile("/p", kUnselectedStateName), &outside, &err)) << err;
  EXPECT_EQ(outside.size(), 1u);
  EXPECT_EQ(outside["model.p.broken"].status, "error");
  // Selected again: the node moves back into its batch, the file goes.
  plan.batches[0].members.push_back({"model.p.broken", "p.broken", "fb", {}});
  ASSERT_TRUE(LoadAllState(disk, "/p", &all, &err)) << err;
  EXPECT_EQ(all.size(), 2u);  // model.p.gone left the project
  ASSERT_TRUE(RegroupState(disk, "/p", plan, all, &err)) << err;
  EXPECT_FALSE(disk.Exists(StateFile("/p", kUnselectedStateName)));
  BatchState models;
  ASSERT_TRUE(LoadBatchState(disk, StateFile("/p", "models"), &models, &err)) << err;
  EXPECT_EQ(models.size(), 2u);
}

TEST(OverlayDisk, ReadsTheRealFilesAndKeepsWritesInMemory) {
  fs::path dir = fs::path(::testing::TempDir()) / "pa_gen_overlay";
  fs::remove_all(dir);
  fs::create_directories(dir / "a");
  std::string err, text;
  bool changed = false;
  ASSERT_TRUE(WriteFileIfChanged(dir / "a" / "real", "on disk", &changed, &err)) << err;
  long long real_mtime = MtimeNs(dir / "a" / "real");
  OverlayDisk overlay;
  ASSERT_TRUE(overlay.ReadFile(dir / "a" / "real", &text, &err)) << err;
  EXPECT_EQ(text, "on disk");
  ASSERT_TRUE(overlay.WriteFileIfChanged(dir / "a" / "real", "on disk", &changed, &err));
  EXPECT_FALSE(changed);
  ASSERT_TRUE(overlay.WriteFilesIfChanged({{dir / "a" / "real", "new"}, {dir / "a" / "n", "x"}},
                                          &changed, &err));
  EXPECT_TRUE(changed);
  ASSERT_TRUE(overlay.ReadFile(dir / "a" / "real", &text, &err));
  EXPECT_EQ(text, "new");
  EXPECT_EQ(overlay.ListDir(dir / "a"), (std::vector<std::string>{"n", "real"}));
  ASSERT_TRUE(overlay.Touch(dir / "b" / "stamp", &err));
  EXPECT_GT(overlay.Stat(dir / "b" / "stamp"), 0);
  overlay.RemoveFile(dir / "a" / "real");
  EXPECT_FALSE(overlay.Exists(dir / "a" / "real"));
  EXPECT_FALSE(overlay.ReadFile(dir / "a" / "real", &text, &err));
  EXPECT_EQ(overlay.ListDir(dir / "a"), (std::vector<std::string>{"n"}));
  // Nothing reached the disk.
  ASSERT_TRUE(ReadFile(dir / "a" / "real", &text, &err)) << err;
  EXPECT_EQ(text, "on disk");
  EXPECT_EQ(MtimeNs(dir / "a" / "real"), real_mtime);
  EXPECT_FALSE(fs::exists(dir / "a" / "n"));
  EXPECT_FALSE(fs::exists(dir / "b"));
}

}  // namespace
