#include "exec/progress.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "cli/progress_watch.h"
#include "fake_disk.h"
#include "plan/layout.h"

namespace {

// Lines as dbt-core 1.12 writes them to a `--log-format-file json` log
// (fields pa-gen does not read left out).
std::string StartLine(const std::string& id, const std::string& ts = "2026-12-01T13:03:32.505988Z") {
  return R"({"data": {"node_info": {"node_status": "started", "resource_type": "model", "unique_id": ")" +
         id + R"("}}, "info": {"category": "", "code": "Q024", "level": "debug", "name": "NodeStart", "ts": ")" +
         ts + R"("}})";
}
std::string FinishLine(const std::string& id, const std::string& status, const std::string& message) {
  return R"({"data": {"node_info": {"node_status": ")" + status + R"(", "unique_id": ")" + id +
         R"("}, "run_result": {"message": ")" + message + R"(", "status": ")" + status +
         R"("}}, "info": {"code": "Q025", "level": "debug", "name": "NodeFinished", "ts": "2026-12-01T13:03:33.000001Z"}})";
}

NodeEvent Event(const std::string& line) {
  NodeEvent event;
  EXPECT_TRUE(ParseNodeEvent(line, &event)) << line;
  return event;
}

TEST(ProgressFormat, BatchFileExactText) {
  BatchProgress p{"marts", {"model.p.a", "model.p.b"}, 1, 4, true, 0};
  EXPECT_EQ(BatchProgressJson(p),
            R"({"batch":"marts","blocked":1,"done":true,"exit":0,"members":4,"run":["model.p.a","model.p.b"]})"
            "\n");
  BatchProgress back;
  std::string err;
  ASSERT_TRUE(ParseBatchProgress(BatchProgressJson(p), &back, &err)) << err;
  EXPECT_EQ(back.batch, "marts");
  EXPECT_EQ(back.run, p.run);
  EXPECT_EQ(back.blocked, 1);
  EXPECT_EQ(back.members, 4);
  EXPECT_TRUE(back.done);
  EXPECT_FALSE(ParseBatchProgress("[1]", &back, &err));
  EXPECT_FALSE(ParseBatchProgress("{\"batch\":", &back, &err));
}

TEST(ProgressFormat, NodeEventsFromDbtLogLines) {
  NodeEvent start = Event(StartLine("model.p.a"));
  EXPECT_EQ(start.unique_id, "model.p.a");
  EXPECT_FALSE(start.finished);
  EXPECT_EQ(start.ts_us, 1796130212505988LL);
  NodeEvent done = Event(FinishLine("model.p.a", "error", "Runtime Error\\n  boom"));
  EXPECT_TRUE(done.finished);
  EXPECT_EQ(done.status, "error");
  EXPECT_EQ(done.message, "Runtime Error\n  boom");
  NodeEvent other;
  EXPECT_FALSE(ParseNodeEvent(R"({"data": {}, "info": {"name": "LogStartLine"}})", &other));
  EXPECT_FALSE(ParseNodeEvent("not json \"Node", &other));
  EXPECT_FALSE(ParseNodeEvent("", &other));
}

TEST(ProgressFormat, ExecWritesItsBatchFileOnlyUnderPaGenBuild) {
  FakeDisk disk;
  PlanBatch batch{"marts", "d", {{"model.p.a"}, {"model.p.b"}}};
  std::vector<const PlanMember*> run = {&batch.members[1]};
  unsetenv(kProgressDirEnv);
  ReportBatchStarted(disk, batch, run, 0);
  ReportBatchDone(disk, "marts", 0);
  EXPECT_TRUE(disk.files.empty());

  setenv(kProgressDirEnv, "/p/.pa/progress/1", 1);
  std::string err;
  ASSERT_TRUE(disk.MakeDirs("/p/.pa/progress/1", &err)) << err;  // pa-gen build's
  ReportBatchStarted(disk, batch, run, 1);
  EXPECT_EQ(disk.files.at("/p/.pa/progress/1/marts.json").content,
            R"({"batch":"marts","blocked":1,"done":false,"exit":0,"members":2,"run":["model.p.b"]})"
            "\n");
  ReportBatchDone(disk, "marts", 1);
  EXPECT_EQ(disk.files.at("/p/.pa/progress/1/marts.json").content,
            R"({"batch":"marts","blocked":1,"done":true,"exit":1,"members":2,"run":["model.p.b"]})"
            "\n");
  // An exec that ended before deciding (a held lock, a bad state file).
  ReportBatchDone(disk, "seeds", 1);
  EXPECT_EQ(disk.files.at("/p/.pa/progress/1/seeds.json").content,
            R"({"batch":"seeds","blocked":0,"done":true,"exit":1,"members":0,"run":[]})"
            "\n");
  unsetenv(kProgressDirEnv);
}

// An exec whose build is gone (Ninja killed; the next build removed the
// folder) does not make the folder again: nothing would remove it.
TEST(ProgressFormat, ExecDoesNotRecreateAProgressFolderThatWasRemoved) {
  FakeDisk disk;
  PlanBatch batch{"marts", "d", {{"model.p.a"}}};
  std::vector<const PlanMember*> run = {&batch.members[0]};
  std::string err;
  ASSERT_TRUE(disk.MakeDirs("/p/.pa/progress/1", &err)) << err;
  setenv(kProgressDirEnv, "/p/.pa/progress/1", 1);
  ReportBatchStarted(disk, batch, run, 0);
  EXPECT_TRUE(disk.files.count("/p/.pa/progress/1/marts.json"));
  disk.RemoveTree("/p/.pa/progress/1");
  ReportBatchDone(disk, "marts", 0);
  ReportBatchStarted(disk, batch, run, 0);
  EXPECT_FALSE(disk.Exists("/p/.pa/progress/1"));
  EXPECT_TRUE(disk.files.empty());
  unsetenv(kProgressDirEnv);
}

// Two batches predicted, staging (2 nodes, 10 s and 4 s on 2 threads) and
// marts (3 nodes, one never timed); dbt start-up 3 s.
BuildProgress TwoBatches() {
  return BuildProgress({{"staging", {"model.p.s1", "model.p.s2"}},
                        {"marts", {"model.p.m1", "model.p.m2", "model.p.m3"}}},
                       {{"model.p.s1", 10}, {"model.p.s2", 4}, {"model.p.m1", 6}, {"model.p.m2", 2}},
                       3, {{"staging", 2}, {"marts", 1}}, 1000);
}

TEST(ProgressModel, CountsEstimatesAndFailures) {
  BuildProgress progress = TwoBatches();
  EXPECT_EQ(StatusText(progress, 1000, 0), "[0/5 nodes] · ~21 s left");  // 3 + 14/2, 3 + 8
  EXPECT_TRUE(progress.OnBatch({"staging", {"model.p.s1", "model.p.s2"}}, 1000).empty());
  EXPECT_TRUE(progress.OnNode("staging", Event(StartLine("model.p.s1"))).empty());
  EXPECT_EQ(StatusText(progress, 2000, 0), "[0/5 nodes] running: staging 0/2 · ~18 s left");
  EXPECT_TRUE(progress.OnNode("staging", Event(FinishLine("model.p.s1", "success", "OK"))).empty());
  EXPECT_EQ(StatusText(progress, 3000, 0), "[1/5 nodes] running: staging 1/2 · ~13 s left");
  std::vector<std::string> failed =
      progress.OnNode("staging", Event(FinishLine("model.p.s2", "error", "Binder Error:\\n  no column x")));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0], "pa-gen: FAILED model.p.s2 (error) in batch staging: Binder Error: no column x");
  EXPECT_TRUE(progress.AlreadyReported(
      "pa-gen: FAILED model.p.s2 (error): Binder Error: no column x [log: /p/.pa/run/staging/logs/dbt.log]"));
  EXPECT_FALSE(progress.AlreadyReported("pa-gen: FAILED model.p.s1 (error): other"));
  EXPECT_FALSE(progress.AlreadyReported("[1/3] dbt build staging"));
  // Repeated events (the log read again) count once.
  EXPECT_TRUE(progress.OnNode("staging", Event(FinishLine("model.p.s2", "error", "x"))).empty());
  EXPECT_EQ(progress.Failed(), 1);

  std::vector<std::string> done = progress.OnBatch({"staging", {"model.p.s1", "model.p.s2"}, 0, 2, true}, 13500);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], "pa-gen: batch staging done: 2 nodes in 13 s [2/5 nodes]");
  // marts: exec runs two of the three (m3 turned out up to date); one is held back.
  progress.OnBatch({"marts", {"model.p.m1", "model.p.m2"}, 1, 3}, 14000);
  EXPECT_EQ(StatusText(progress, 14000, 0),
            "[3/5 nodes] running: marts 0/2 · 1 failed · 1 skipped · ~8 s left");
  EXPECT_EQ(StatusText(progress, 14000, 40), "[3/5 nodes] running: marts 0/2 · 1 fail~");
  // dbt was stopped (Ctrl-C): the state says how its nodes ended; one that
  // never ran is neither done nor failed.
  BatchState state;
  state["model.p.m1"].status = "success";
  state["model.p.m1"].built_at = 1;
  state["model.p.m2"].status = "not run";
  std::vector<std::string> end =
      progress.OnBatch({"marts", {"model.p.m1", "model.p.m2"}, 1, 3, true, 1}, 20000, &state);
  ASSERT_EQ(end.size(), 1u);
  EXPECT_EQ(end[0],
            "pa-gen: batch marts failed (exit 1): 2 nodes, 1 not run, 1 skipped because upstream "
            "failed in 6 s [4/5 nodes]");
  EXPECT_EQ(StatusText(progress, 20000, 0), "[4/5 nodes] · 1 failed · 1 skipped · 1 not run");
  EXPECT_EQ(SummaryText(progress, 85000),
            "pa-gen: 4 nodes in 1 min 24 s: 2 succeeded, 1 failed, 1 skipped, 1 not run (stopped)");
}

TEST(ProgressModel, AFailureTheLogDidNotShowComesFromTheState) {
  BuildProgress progress({{"models", {"model.p.a"}}}, {}, 0, {}, 0);
  progress.OnBatch({"models", {"model.p.a"}}, 0);
  BatchState state;
  state["model.p.a"].status = "error";
  state["model.p.a"].message = "Database Error\n  boom";
  std::vector<std::string> end = progress.OnBatch({"models", {"model.p.a"}, 0, 1, true, 0}, 2000, &state);
  ASSERT_EQ(end.size(), 2u);
  EXPECT_EQ(end[0], "pa-gen: FAILED model.p.a (error) in batch models: Database Error boom");
  EXPECT_EQ(end[1], "pa-gen: batch models done: 1 node in 2 s [1/1 nodes]");
  EXPECT_EQ(SummaryText(progress, 2000), "pa-gen: 1 node in 2 s: 0 succeeded, 1 failed");
}

TEST(ProgressModel, ABatchsLastRunAddsItsOverheadBeforeItStarts) {
  RunPrediction prediction;
  prediction.threads = {{"staging", 4}, {"marts", 0}};
  prediction.last_run = {{"staging", {3.0, 8.0}}, {"marts", {1.0, 5.0}}};
  EXPECT_EQ(prediction.Overheads(), (std::map<std::string, double>{{"marts", 0.0}, {"staging", 1.0}}));
  BuildProgress progress({{"staging", {"model.p.s1"}}}, {{"model.p.s1", 4}}, 2, {{"staging", 4}}, 0,
                         prediction.Overheads());
  EXPECT_EQ(progress.SecondsLeft(), 4.0);  // 2 + 1 + 4/4
  progress.OnBatch({"staging", {"model.p.s1"}}, 0);
  EXPECT_EQ(progress.SecondsLeft(), 1.0);
}

TEST(ProgressModel, NoEstimateWithoutRecordedTimes) {
  BuildProgress progress({{"models", {"model.p.a"}}}, {}, 3, {}, 0);
  EXPECT_EQ(StatusText(progress, 0, 0), "[0/1 nodes]");
  EXPECT_EQ(SummaryText(progress, 300), "pa-gen: no node ran (0 s)");
}

TEST(ProgressModel, ARetriedLogCountsAgain) {
  BuildProgress progress({{"models", {"model.p.a", "model.p.b"}}}, {}, 0, {}, 0);
  progress.OnBatch({"models", {"model.p.a", "model.p.b"}}, 0);
  progress.OnNode("models", Event(FinishLine("model.p.a", "success", "OK")));
  EXPECT_EQ(progress.Done(), 1);
  progress.OnLogRestarted("models");
  EXPECT_EQ(progress.Done(), 0);
}

TEST(ProgressText, TerminalRedrawsOneLineAndPrintsLinesAboveIt) {
  BuildProgress progress = TwoBatches();
  ProgressText text(/*terminal=*/true, 80);
  EXPECT_EQ(text.Status(progress, 1000), "\r\x1b[K[0/5 nodes] · ~21 s left");
  EXPECT_EQ(text.Status(progress, 1200), "");  // unchanged: nothing written
  EXPECT_EQ(text.Lines({"ninja: build stopped", "pa-gen: FAILED x (error) in batch y"}),
            "\r\x1b[Kninja: build stopped\npa-gen: FAILED x (error) in batch y\n");
  EXPECT_EQ(text.Lines({}), "");
  EXPECT_EQ(text.Status(progress, 1300), "\r\x1b[K[0/5 nodes] · ~21 s left");  // below them
  EXPECT_EQ(text.Finish(progress, 3000), "\r\x1b[Kpa-gen: no node ran (2 s)\n");
  // Lines just before the end: no status line to erase.
  ProgressText last(/*terminal=*/true, 80);
  EXPECT_EQ(last.Lines({"ninja: no work to do."}), "ninja: no work to do.\n");
  EXPECT_EQ(last.Finish(progress, 3000), "pa-gen: no node ran (2 s)\n");
}

TEST(ProgressText, LogPrintsPlainLinesAndTotalsEveryPeriod) {
  BuildProgress progress = TwoBatches();
  ProgressText text(/*terminal=*/false, 0, 30000);
  EXPECT_EQ(text.Status(progress, 1000), "");
  EXPECT_EQ(text.Lines({"[1/3] dbt build staging"}), "[1/3] dbt build staging\n");
  EXPECT_EQ(text.Status(progress, 30999), "");
  EXPECT_EQ(text.Status(progress, 31000), "pa-gen: [0/5 nodes] · ~21 s left\n");
  EXPECT_EQ(text.Status(progress, 40000), "");
  EXPECT_EQ(text.Finish(progress, 41000), "pa-gen: no node ran (40 s)\n");
}

TEST(ProgressModel, KeepsTheBatchesNinjaBuildsForItsTargets) {
  Plan plan;
  plan.batches = {{"marts", "d", {{"model.p.fct"}}, "", 0, {"staging"}},
                  {"other", "d", {{"model.p.x"}}},
                  {"staging", "d", {{"model.p.stg"}}}};
  auto predict = [&](const std::vector<std::string>& args) {
    RunPrediction p;
    p.runs = {{"marts", {"model.p.fct"}}, {"other", {"model.p.x"}}, {"staging", {"model.p.stg"}}};
    KeepTargets(plan, args, &p);
    std::string kept;
    for (const auto& [name, run] : p.runs) kept += name + " ";
    return kept;
  };
  EXPECT_EQ(predict({}), "marts other staging ");
  EXPECT_EQ(predict({"-j8", "-k", "0"}), "marts other staging ");
  EXPECT_EQ(predict({"marts"}), "marts staging ");
  EXPECT_EQ(predict({"-j", "2", "fct"}), "marts staging ");
  EXPECT_EQ(predict({"stg", "x"}), "other staging ");
  EXPECT_EQ(predict({"marts", "all"}), "marts other staging ");  // not a batch: all may run
}

// A `pa-gen build` killed with -9 leaves its progress folder: the next
// build removes it, and never the folder of a build still running (its
// lock held), nor one being made (no lock yet, its pid running).
TEST(ProgressFolders, OnlyThoseOfBuildsThatNoLongerRunAreRemoved) {
  FakeDisk disk;
  fs::path project = "/p";
  std::string err;
  bool changed = false;
  auto make = [&](const std::string& name, bool with_lock) {
    fs::path dir = ProgressDir(project, name);
    ASSERT_TRUE(disk.WriteFileIfChanged(dir / "all_nodes.json", "{}", &changed, &err)) << err;
    if (with_lock) ASSERT_TRUE(disk.Touch(ProgressLockFile(dir), &err)) << err;
  };
  make("100-11", true);   // running: its lock is held
  make("200-12", true);   // killed: its lock is free
  make("300-13", false);  // being made by pid 13, which runs
  make("400-14", false);  // left by pid 14 before there was a lock
  make("odd", false);     // not a name pa-gen gives: left alone
  disk.held_elsewhere.insert(FakeDisk::Key(ProgressLockFile(ProgressDir(project, "100-11"))));
  auto running = [](int pid) { return pid == 11 || pid == 13; };

  EXPECT_EQ(RemoveFinishedProgress(disk, project, running), 2);
  EXPECT_EQ(disk.ListDir(ProgressRootDir(project)), (std::vector<std::string>{"100-11", "300-13", "odd"}));
  EXPECT_FALSE(disk.Exists(ProgressDir(project, "200-12") / "all_nodes.json"));
  EXPECT_TRUE(disk.Exists(ProgressDir(project, "100-11") / "all_nodes.json"));
  EXPECT_EQ(RemoveFinishedProgress(disk, project, running), 0);
}

// The same on the real disk: the lock a live build holds (here another
// open file of this process: flock(2) locks an open file) keeps its folder.
TEST(ProgressFolders, ALockHeldOnTheRealDiskKeepsTheFolder) {
  RealDisk disk;
  fs::path project = fs::path(::testing::TempDir()) / "pa_gen_progress_folders";
  std::error_code ec;
  fs::remove_all(project, ec);
  std::string err;
  fs::path live = ProgressDir(project, "100-1"), killed = ProgressDir(project, "200-2");
  ASSERT_TRUE(disk.MakeDirs(live, &err) && disk.MakeDirs(killed, &err)) << err;
  FileLock held;
  ASSERT_TRUE(disk.Lock(ProgressLockFile(live), &held, [](const std::string&) {}, &err)) << err;
  ASSERT_TRUE(disk.Touch(ProgressLockFile(killed), &err)) << err;
  EXPECT_EQ(RemoveFinishedProgress(disk, project, [](int) { return true; }), 1);
  EXPECT_TRUE(fs::exists(live));
  EXPECT_FALSE(fs::exists(killed));
  fs::remove_all(project, ec);
}

}  // namespace
