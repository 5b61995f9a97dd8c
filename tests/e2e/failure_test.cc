// End to end: what happens when a batch cannot finish: a batch timeout, an
// interrupted build, another process holding the DuckDB file. The real
// pa-gen, dbt and ninja on a tiny project whose one slow model sleeps for
// $PA_TEST_SLEEP seconds (a Python model, so the sleep is exact). Each test
// has a copy of its own: the first starts from nothing, the others from the
// project as `pa-gen && ninja` left it (FailureSetup, a CTest fixture setup).
#include <signal.h>

#include <chrono>
#include <thread>

#include <set>
#include <sstream>

#include "e2e_util.h"
#include "exec/state.h"
#include "util/disk.h"
#include "plan/plan_json.h"

namespace {

// Writes the tiny project into `dir`.
void WriteTinyProject(const fs::path& dir) {
  fs::create_directories(dir / "models");
  Write(dir / "dbt_project.yml", "name: tiny\nprofile: tiny\nconfig-version: 2\nmodel-paths: [models]\n");
  Write(dir / "profiles.yml",
        "tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: tiny.duckdb\n"
        "      threads: 2\n");
  Write(dir / "models" / "fast.sql", "select 1 as id\n");
  Write(dir / "models" / "slow.py",
        "import os\nimport time\n\n\ndef model(dbt, session):\n"
        "    time.sleep(float(os.environ.get('PA_TEST_SLEEP', '0')))\n"
        "    return session.sql('select 1 as id')\n");
}

// The tiny project built by `pa-gen && ninja` (no sleep), in the cache.
const CachedBuild& BuiltTiny() {
  static const CachedBuild built{"tiny", [](const fs::path& dir) {
    WriteTinyProject(dir);
    Result build = Shell(dir, "'" + kPaGen.string() + "' && ninja");
    EXPECT_EQ(build.code, 0) << build.out;
    return build.code == 0;
  }};
  return built;
}

// Fixture setup (CTest: tiny_built): the built project the tests below copy.
TEST(FailureSetup, BuildsTheTinyProject) {
  ASSERT_TRUE(BuiltTiny().Rebuild());
  EXPECT_TRUE(fs::exists(BuiltTiny().Dir() / ".pa" / "stamps" / "all_nodes.stamp"));
}

// Each test has a project of its own: a fresh one, or a copy of the built one.
class FailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TestRoot();
    project_ = root_ / "tiny";
  }
  void TearDown() override { RemoveUnlessFailed(root_); }
  void StartFromBuilt() {
    ASSERT_TRUE(BuiltTiny().Cached());
    CopyBuiltProject(BuiltTiny().Dir(), project_);
  }

  // The built project with its batch forgotten, so that the next build
  // runs every node, and no dbt log of an earlier run to wait on.
  void StartFromBuiltAndForgotten() {
    ASSERT_NO_FATAL_FAILURE(StartFromBuilt());
    ASSERT_EQ(Shell(project_, "'" + kPaGen.string() + "' forget all_nodes").code, 0);
    fs::remove(project_ / ".pa" / "run" / "all_nodes" / "logs" / "dbt.log");
  }

  // After an interrupted or killed build: the next ninja starts dbt for
  // the slow model only (fast stayed finished).
  void ExpectTheNextNinjaRunsSlowOnly(const std::string& env = "") {
    Result resumed = Shell(project_, env + " ninja");
    ASSERT_EQ(resumed.code, 0) << resumed.out;
    std::string results = Read(project_ / ".pa" / "run" / "all_nodes" / "target" / "run_results.json");
    EXPECT_NE(results.find("model.tiny.slow"), std::string::npos) << results;
    EXPECT_EQ(results.find("model.tiny.fast"), std::string::npos) << results;
  }

  // Processes whose command line mentions the project: dbt left behind.
  int ProcessesInProject() const { return DbtProcessesIn(project_); }

  // Ctrl-C as a terminal sends it: SIGINT to ninja's whole process group
  // (ninja, pa-gen exec, dbt), once dbt has finished fast while slow sleeps.
  // The state then records fast as succeeded, and the next ninja runs slow only.
  void InterruptAfterFastFinished(const std::string& env) {
    ASSERT_NO_FATAL_FAILURE(StartFromBuiltAndForgotten());
    // setsid: ninja leads a process group of its own, as in a terminal.
    Result interrupted = Shell(
        project_, env + " PA_TEST_SLEEP=120 setsid ninja > ninja.out 2>&1 & pid=$!; " +
                      WaitUntilNodeFinished(".pa/run/all_nodes/logs/dbt.log", "model.tiny.fast") +
                      "kill -INT -$pid; wait $pid; echo \"ninja exited $?\"; cat ninja.out");
    EXPECT_NE(interrupted.out.find("ninja: build stopped: interrupted by user."), std::string::npos)
        << interrupted.out;
    EXPECT_EQ(interrupted.out.find("ninja exited 0"), std::string::npos) << interrupted.out;
    EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "all_nodes.stamp"));
    ASSERT_NO_FATAL_FAILURE(ExpectFastSucceededAndSlowNot(interrupted.out));

    ASSERT_NO_FATAL_FAILURE(ExpectTheNextNinjaRunsSlowOnly(env));
    EXPECT_TRUE(fs::exists(project_ / ".pa" / "stamps" / "all_nodes.stamp"));
  }

  // What the batch's state records after an interrupted build: fast
  // finished, slow did not.
  void ExpectFastSucceededAndSlowNot(const std::string& out) {
    BatchState state;
    std::string err;
    ASSERT_TRUE(LoadBatchState(disk_, project_ / ".pa" / "state" / "all_nodes.json", &state, &err)) << err;
    ASSERT_TRUE(state.count("model.tiny.fast")) << out;
    EXPECT_TRUE(state.at("model.tiny.fast").Succeeded()) << state.at("model.tiny.fast").status;
    EXPECT_FALSE(state.count("model.tiny.slow") && state.at("model.tiny.slow").Succeeded());
  }

  fs::path root_;
  fs::path project_;
  RealDisk disk_;  // for reading back state and plan
};

TEST_F(FailureTest, BatchTimeoutKillsDbtAndFailsClearly) {
  WriteTinyProject(project_);
  // Generation (a full dbt parse) is outside the timed part: on a busy
  // machine it alone can take tens of seconds.
  ASSERT_EQ(Shell(project_, "'" + kPaGen.string() + "' --batch-timeout 8").code, 0);
  auto start = std::chrono::steady_clock::now();
  Result build = Shell(project_, "export PA_TEST_SLEEP=120; ninja");
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(build.code, 0);
  EXPECT_NE(build.out.find("pa-gen: batch all_nodes timed out after 8 s (--batch-timeout)"),
            std::string::npos) << build.out;
  EXPECT_LT(seconds, 60) << "the 120 s model was not stopped";
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "all_nodes.stamp"));
  EXPECT_EQ(ProcessesInProject(), 0);

  // Without the slow sleep the same build succeeds.
  Result again = Shell(project_, "'" + kPaGen.string() + "' && ninja");
  EXPECT_EQ(again.code, 0) << again.out;
  EXPECT_TRUE(fs::exists(project_ / ".pa" / "stamps" / "all_nodes.stamp"));
}

TEST_F(FailureTest, InterruptedBuildLeavesNoStampAndNoDbtBehind) {
  ASSERT_NO_FATAL_FAILURE(StartFromBuilt());
  ASSERT_EQ(Shell(project_, "'" + kPaGen.string() + "' forget all_nodes").code, 0);
  // ninja in the background, interrupted once dbt is running the slow model.
  fs::remove(project_ / ".pa" / "run" / "all_nodes" / "dbt.out");  // not an earlier run's
  auto start = std::chrono::steady_clock::now();
  Result build = Shell(project_,
                       "PA_TEST_SLEEP=120 ninja > ninja.out 2>&1 & pid=$!; "
                       "for i in $(seq 100); do grep -q 'slow' .pa/run/all_nodes/dbt.out 2>/dev/null && break; sleep 0.2; done; "
                       "sleep 1; kill -INT $pid; wait $pid; echo \"ninja exited $?\"; cat ninja.out");
  // Ninja drops the output of commands it interrupted: its own line is what shows.
  EXPECT_NE(build.out.find("ninja: build stopped: interrupted by user."), std::string::npos)
      << build.out;
  EXPECT_EQ(build.out.find("ninja exited 0"), std::string::npos) << build.out;
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count(),
            60) << "the 120 s model was not stopped";
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "all_nodes.stamp"));
  EXPECT_EQ(ProcessesInProject(), 0);

  Result resumed = Shell(project_, "ninja");
  EXPECT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_TRUE(fs::exists(project_ / ".pa" / "stamps" / "all_nodes.stamp"));
}

TEST_F(FailureTest, HeldDuckDbLockIsRetriedThenReportedWithItsHolder) {
  ASSERT_NO_FATAL_FAILURE(StartFromBuilt());
  std::string hold = "'" + (kVenv / "python").string() +
                     "' -c \"import duckdb, sys, time; c = duckdb.connect('tiny.duckdb'); "
                     "time.sleep(float(sys.argv[1]))\" ";
  // Held for the whole build: the retries run out and the message names the holder.
  ASSERT_EQ(Shell(project_, "'" + kPaGen.string() + "' forget && '" + kPaGen.string() + "' --retries 1").code, 0);
  Result held = Shell(project_, hold + "60 & holder=$!; sleep 2; ninja; code=$?; kill $holder; exit $code");
  EXPECT_NE(held.code, 0);
  EXPECT_NE(held.out.find("retrying in 1 s (1 of 1)"), std::string::npos) << held.out;
  EXPECT_NE(held.out.find("Conflicting lock is held in"), std::string::npos) << held.out;
  EXPECT_NE(held.out.find("PID"), std::string::npos) << held.out;
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "all_nodes.stamp"));

  // Released while pa-gen waits between attempts: the build succeeds. The
  // holder lets go once dbt has reported the lock, however slow dbt starts.
  ASSERT_EQ(Shell(project_, "'" + kPaGen.string() + "' --retries 3").code, 0);
  std::string hold_until_seen =
      "'" + (kVenv / "python").string() +
      "' -c \"import duckdb, os, time; c = duckdb.connect('tiny.duckdb'); f = '.pa/run/all_nodes/dbt.out'\n"
      "for _ in range(600):\n"
      "    if os.path.exists(f) and 'Could not set lock' in open(f).read(): break\n"
      "    time.sleep(0.1)\n"
      "c.close()\" ";
  fs::remove(project_ / ".pa" / "run" / "all_nodes" / "dbt.out");
  Result released = Shell(project_, hold_until_seen + "& sleep 2; ninja; code=$?; wait; exit $code");
  EXPECT_EQ(released.code, 0) << released.out;
  EXPECT_NE(released.out.find("retrying in"), std::string::npos) << released.out;
  EXPECT_TRUE(fs::exists(project_ / ".pa" / "stamps" / "all_nodes.stamp"));
}

TEST_F(FailureTest, KilledDbtKeepsTheNodesItFinished) {
  ASSERT_NO_FATAL_FAILURE(StartFromBuilt());
  ASSERT_EQ(Shell(project_, "'" + kPaGen.string() + "' forget all_nodes").code, 0);
  // fast.sql and slow.py run side by side (2 threads): kill -9 dbt once
  // fast has finished, while slow sleeps. (An earlier run's log must not
  // count as this one's.)
  fs::remove(project_ / ".pa" / "run" / "all_nodes" / "logs" / "dbt.log");
  // A fresh dbt process, so that pkill finds it by its command line (a
  // worker's child keeps the worker's; e2e_worker_tests kills a worker in
  // the middle of a batch).
  Result killed = Shell(project_,
                        "PA_NO_WORKER=1 PA_TEST_SLEEP=120 ninja > ninja.out 2>&1 & pid=$!; " +
                            WaitUntilNodeFinished(".pa/run/all_nodes/logs/dbt.log", "model.tiny.fast") +
                        "pkill -9 -f '[b]in/dbt build --project-dir " + project_.string() + "'; "
                        "wait $pid; echo \"ninja exited $?\"; cat ninja.out");
  EXPECT_EQ(killed.out.find("ninja exited 0"), std::string::npos) << killed.out;
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "all_nodes.stamp"));
  EXPECT_EQ(ProcessesInProject(), 0);

  // The rerun starts dbt for the slow model only.
  ASSERT_NO_FATAL_FAILURE(ExpectTheNextNinjaRunsSlowOnly());
}

TEST_F(FailureTest, CtrlCToNinjaKeepsTheNodesDbtFinishedWithTheWorker) {
  InterruptAfterFastFinished("");
}

TEST_F(FailureTest, CtrlCToNinjaKeepsTheNodesDbtFinishedWithoutTheWorker) {
  InterruptAfterFastFinished("PA_NO_WORKER=1");
}

// `pa-gen forget` acts on the build as build.ninja has it: it regenerated
// under its own options (none), so a build made with --policy per-model got
// the default's one batch, and the next `pa-gen --policy per-model build`
// regenerated it back (other batches, stamps removed, state moved twice).
TEST_F(FailureTest, ForgetKeepsTheOptionsTheBuildWasGeneratedWith) {
  ASSERT_NO_FATAL_FAILURE(StartFromBuilt());
  std::string pa_gen = "'" + kPaGen.string() + "'";
  ASSERT_EQ(Shell(project_, pa_gen + " --policy per-model && ninja").code, 0);
  fs::path ninja_file = project_ / "build.ninja", plan_file = project_ / ".pa-plan.json";
  std::string ninja_text = Read(ninja_file), plan_text = Read(plan_file);
  auto ninja_mtime = fs::last_write_time(ninja_file), plan_mtime = fs::last_write_time(plan_file);

  Result forget = Shell(project_, pa_gen + " forget fast");
  ASSERT_EQ(forget.code, 0) << forget.out;
  EXPECT_EQ(Read(ninja_file), ninja_text);
  EXPECT_EQ(fs::last_write_time(ninja_file), ninja_mtime);
  EXPECT_EQ(fs::last_write_time(plan_file), plan_mtime);
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "fast.stamp"));
  EXPECT_TRUE(fs::exists(project_ / ".pa" / "stamps" / "slow.stamp"));

  Result build = Shell(project_, "PA_PROGRESS=0 " + pa_gen + " --policy per-model build");
  ASSERT_EQ(build.code, 0) << build.out;
  EXPECT_EQ(BatchesRun(build.out), std::set<std::string>{"fast"}) << build.out;
  EXPECT_EQ(build.out.find("regenerating"), std::string::npos) << build.out;
  EXPECT_EQ(fs::last_write_time(ninja_file), ninja_mtime);
  EXPECT_EQ(Read(plan_file), plan_text);
  EXPECT_NE(Shell(project_, "ninja").out.find("ninja: no work to do."), std::string::npos);

  // No plan yet: one line, exit 2.
  fs::remove(plan_file);
  Result none = Shell(project_, pa_gen + " forget 2>&1");
  EXPECT_EQ(none.code, 2) << none.out;
  EXPECT_EQ(none.out.find('\n'), none.out.size() - 1) << none.out;
}

// Ctrl-C in a terminal reaches `pa-gen build` (the terminal's process group;
// Ninja has one of its own), which passes it on to Ninja; Ninja stops its
// edges, and the batch's exec gives dbt 5 s (the slow model sleeps on),
// kills it and records what dbt finished. The build then ends 130, as a
// program Ctrl-C stopped does (it ended 137: Ninja was killed at the same
// 5 s), and keeps the node dbt finished.
TEST_F(FailureTest, CtrlCToPaGenBuildExits130AndKeepsTheNodesDbtFinished) {
  ASSERT_NO_FATAL_FAILURE(StartFromBuiltAndForgotten());
  // setsid: pa-gen build leads a process group of its own, as in a terminal.
  Result interrupted = Shell(
      project_, "PA_TEST_SLEEP=120 setsid '" + kPaGen.string() + "' build > build.out 2>&1 & pid=$!; " +
                    WaitUntilNodeFinished(".pa/run/all_nodes/logs/dbt.log", "model.tiny.fast") +
                    "kill -INT -$pid; wait $pid; echo \"build exited $?\"; cat build.out");
  EXPECT_NE(interrupted.out.find("build exited 130"), std::string::npos) << interrupted.out;
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "all_nodes.stamp"));
  EXPECT_EQ(ProcessesInProject(), 0);
  ASSERT_NO_FATAL_FAILURE(ExpectFastSucceededAndSlowNot(interrupted.out));

  ASSERT_NO_FATAL_FAILURE(ExpectTheNextNinjaRunsSlowOnly());
}

// A second Ctrl-C stops now: `pa-gen build` passes it to Ninja's edges
// too (Ninja passes on only the first), and each exec kills its dbt at
// once instead of after its 5 s grace, then records what dbt finished. The
// build still ends 130 with no stamp, the finished node kept, no process
// left, and the next ninja runs the slow model only.
TEST_F(FailureTest, ASecondCtrlCToPaGenBuildStopsAtOnceAndKeepsTheNodesDbtFinished) {
  ASSERT_NO_FATAL_FAILURE(StartFromBuiltAndForgotten());
  Result interrupted = Shell(
      project_, "PA_TEST_SLEEP=120 setsid '" + kPaGen.string() + "' build > build.out 2>&1 & pid=$!; " +
                    WaitUntilNodeFinished(".pa/run/all_nodes/logs/dbt.log", "model.tiny.fast") +
                    "kill -INT -$pid; sleep 0.5; kill -INT -$pid; s=$(date +%s%N); wait $pid; "
                    "echo \"build exited $?\"; echo \"stopped in $((($(date +%s%N) - s) / 1000000)) ms\"; "
                    "cat build.out");
  EXPECT_NE(interrupted.out.find("build exited 130"), std::string::npos) << interrupted.out;
  // One Ctrl-C takes the exec's 5 s grace (the slow model ignores SIGINT
  // while it sleeps in Python); the second ends it well before.
  size_t at = interrupted.out.find("stopped in ");
  ASSERT_NE(at, std::string::npos) << interrupted.out;
  EXPECT_LT(std::atol(interrupted.out.c_str() + at + 11), 4000) << interrupted.out;
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "all_nodes.stamp"));
  EXPECT_EQ(ProcessesInProject(), 0);
  ASSERT_NO_FATAL_FAILURE(ExpectFastSucceededAndSlowNot(interrupted.out));

  ASSERT_NO_FATAL_FAILURE(ExpectTheNextNinjaRunsSlowOnly());
}

// `pa-gen build` killed with -9 cannot remove its progress folder: the next
// build removes it (its lock is free), and its own when it ends.
TEST_F(FailureTest, TheProgressFolderOfAKilledBuildIsRemovedByTheNext) {
  ASSERT_NO_FATAL_FAILURE(StartFromBuilt());
  ASSERT_EQ(Shell(project_, "'" + kPaGen.string() + "' forget all_nodes").code, 0);
  // Killed once its exec has begun; the exec and dbt it leaves finish the
  // 3 s model (waited for, so that nothing writes into the folder later;
  // '[p]' so that pgrep does not find this shell's own command line).
  Result killed = Shell(
      project_, "PA_TEST_SLEEP=3 '" + kPaGen.string() + "' build > build.out 2>&1 & pid=$!; "
                "for i in $(seq 600); do ls .pa/progress/*/all_nodes.json > /dev/null 2>&1 && break; sleep 0.1; done; "
                "kill -9 $pid; wait $pid; echo \"build exited $?\"; "
                "for i in $(seq 600); do busy=; for p in $(pgrep -f '[p]a-gen exec'); do "
                "[ \"$(readlink /proc/$p/cwd)\" = \"$PWD\" ] && busy=1; done; [ -z \"$busy\" ] && break; sleep 0.1; done");
  ASSERT_NE(killed.out.find("build exited 137"), std::string::npos) << killed.out;
  std::vector<fs::path> left;
  for (const auto& entry : fs::directory_iterator(project_ / ".pa" / "progress")) left.push_back(entry.path());
  ASSERT_EQ(left.size(), 1u) << killed.out;

  Result next = Shell(project_, "'" + kPaGen.string() + "' build");
  EXPECT_EQ(next.code, 0) << next.out;
  EXPECT_FALSE(fs::exists(left[0])) << next.out;
  EXPECT_TRUE(fs::is_empty(project_ / ".pa" / "progress")) << next.out;
}

// Two build files of one project share its .pa/ (state and stamps): one
// with other batches would make the other rebuild, so pa-gen refuses it
// (exit 2, one line, nothing written); with the same batches it is fine.
TEST_F(FailureTest, ASecondBuildFileWithOtherBatchesIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartFromBuilt());
  std::string pa_gen = "'" + kPaGen.string() + "'";
  ASSERT_EQ(Shell(project_, pa_gen).code, 0);  // build.ninja recorded in this copy's .pa/outputs
  fs::create_directories(root_ / "other");
  Result refused = Shell(project_, pa_gen + " -o ../other/build.ninja --policy per-model 2>&1");
  EXPECT_EQ(refused.code, 2) << refused.out;
  EXPECT_EQ(refused.out.rfind("pa-gen: error: " + (project_ / "build.ninja").string() + " also builds " +
                                  project_.string() + " with other batches (model.tiny.fast is in batch "
                                  "all_nodes there, ",
                              0),
            0u)
      << refused.out;
  EXPECT_EQ(refused.out.find('\n'), refused.out.size() - 1) << refused.out;
  EXPECT_FALSE(fs::exists(root_ / "other" / "build.ninja"));
  EXPECT_TRUE(fs::exists(project_ / ".pa" / "stamps" / "all_nodes.stamp"));

  Result same = Shell(project_, pa_gen + " -o ../other/build.ninja && ninja -C ../other");
  EXPECT_EQ(same.code, 0) << same.out;
  EXPECT_TRUE(BatchesRun(same.out).count("all_nodes")) << same.out;  // a new folder: no .ninja_log yet
  Result first = Shell(project_, "ninja");
  EXPECT_NE(first.out.find("ninja: no work to do."), std::string::npos) << first.out;
}

// Two ninjas in one folder: the second `pa-gen exec` of the batch waits for
// the first (a lock under .pa/locks, naming its holder), then finds nothing
// to do. Neither removes what the other wrote.
TEST_F(FailureTest, TwoNinjasAtOnceRunEachBatchOnce) {
  ASSERT_NO_FATAL_FAILURE(StartFromBuilt());
  ASSERT_EQ(Shell(project_, "'" + kPaGen.string() + "' forget all_nodes").code, 0);
  Result both = Shell(project_,
                      "export PA_TEST_SLEEP=3; ninja > a.out 2>&1 & a=$!; ninja > b.out 2>&1 & b=$!; "
                      "wait $a; echo \"a exited $?\"; wait $b; echo \"b exited $?\"; cat a.out b.out");
  bool a_ok = both.out.find("a exited 0") != std::string::npos;
  bool b_ok = both.out.find("b exited 0") != std::string::npos;
  // Each ends 0 or fails cleanly: with pa-gen's one-line error, not a crash.
  if (!a_ok || !b_ok) {
    EXPECT_NE(both.out.find("pa-gen: "), std::string::npos) << both.out;
  }
  EXPECT_NE(both.out.find("batch all_nodes: waiting for pa-gen exec pid "), std::string::npos)
      << both.out;
  if (a_ok || b_ok) {
    EXPECT_TRUE(fs::exists(project_ / ".pa" / "stamps" / "all_nodes.stamp")) << both.out;
  } else {
    EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "all_nodes.stamp")) << both.out;
  }
  BatchState state;
  std::string err;
  ASSERT_TRUE(LoadBatchState(disk_, project_ / ".pa" / "state" / "all_nodes.json", &state, &err)) << err;
  for (const char* id : {"model.tiny.fast", "model.tiny.slow"}) {
    ASSERT_TRUE(state.count(id)) << id;
    EXPECT_EQ(state.at(id).Succeeded(), a_ok || b_ok) << id << "\n" << both.out;
  }
  Result again = Shell(project_, "ninja");
  EXPECT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("ninja: no work to do."), std::string::npos) << again.out;
}

// The digests of build.ninja's batches, from its `digest = ` lines.
std::set<std::string> NinjaDigests(const fs::path& file) {
  std::set<std::string> digests;
  std::istringstream lines(Read(file));
  for (std::string line; std::getline(lines, line);) {
    size_t at = line.find("digest = ");
    if (at != std::string::npos) digests.insert(line.substr(at + 9));
  }
  return digests;
}

// Two regenerations at once, with policies that give other batches: one
// waits for the other (.pa/locks/generate.lock), so build.ninja and the
// plan always come from the same run.
TEST_F(FailureTest, ConcurrentRegenerationsLeaveAMatchingPair) {
  ASSERT_NO_FATAL_FAILURE(StartFromBuilt());
  std::string pa_gen = "'" + kPaGen.string() + "'";
  bool waited = false;
  for (int round = 0; round < 20; ++round) {
    Result both = Shell(project_, pa_gen + " --policy=folder > a.out 2>&1 & a=$!; " + pa_gen +
                                      " --policy=per-model > b.out 2>&1 & b=$!; "
                                      "wait $a; ca=$?; wait $b; cb=$?; cat a.out b.out; "
                                      "test $ca = 0 && test $cb = 0");
    ASSERT_EQ(both.code, 0) << both.out;
    waited = waited || both.out.find("to finish generating") != std::string::npos;
    Plan plan;
    std::string err;
    ASSERT_TRUE(LoadPlan(disk_, project_ / ".pa-plan.json", &plan, &err)) << err;
    std::set<std::string> planned;
    for (const PlanBatch& batch : plan.batches) planned.insert(batch.digest);
    ASSERT_EQ(planned, NinjaDigests(project_ / "build.ninja")) << "round " << round << "\n" << both.out;
  }
  EXPECT_TRUE(waited) << "no run ever waited for the other";
  Result build = Shell(project_, "ninja");
  EXPECT_EQ(build.code, 0) << build.out;
}

}  // namespace
