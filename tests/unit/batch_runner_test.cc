#include "exec/batch_runner.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dbt/dbt.h"
#include "exec/run_results.h"
#include "exec/merged_results.h"
#include "exec/outputs.h"
#include "exec/split.h"
#include "exec/status.h"
#include "exec/state.h"
#include "fake_command_runner.h"
#include "fake_disk.h"
#include "plan/layout.h"
#include "plan/plan_json.h"

namespace {

RealDisk real_disk;  // for the tests of files on the real disk

const char* kLockHeld = "IO Error: Could not set lock on file \"x.duckdb\": Conflicting lock is held";

std::string RunResults(const std::vector<std::pair<std::string, std::string>>& statuses) {
  std::string items;
  for (const auto& [id, status] : statuses)
    items += (items.empty() ? "" : ",") +
             std::string(R"({"unique_id": ")") + id + R"(", "status": ")" + status +
             R"(", "message": "line one\nline two", "execution_time": 1.5})";
  return R"({"elapsed_time": 2.0, "results": [)" + items + "]}";
}

std::string Finished(const std::string& id, const std::string& status) {
  return R"({"info": {"name": "NodeFinished"}, "data": {"node_info": {"unique_id": ")" + id +
         R"(", "node_status": ")" + status + R"("}, "run_result": {"message": "ok"}}})" + "\n";
}

std::string Read(const fs::path& path) {
  std::stringstream s;
  s << std::ifstream(path).rdbuf();
  return s.str();
}

// A project folder with a plan of two batches: `staging` (a, b) and
// `marts` (c, waiting for staging), on an in-memory disk.
class BatchRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runner_.disk = &disk_;
    plan_.project_dir = ".";
    plan_.dbt.dbt = "/fake/dbt";
    plan_.dbt.profiles_dir = "/fake/profiles";
    plan_.dbt.retries = 0;
    plan_.batches = {
        {"marts", "d1", {{"model.p.c", "p.marts.c", "fc", {{"staging", "model.p.b"}}}}, "", 0, {"staging"}},
        {"staging", "d2",
         {{"model.p.a", "p.staging.a", "fa", {}}, {"model.p.b", "p.staging.b", "fb", {{"staging", "model.p.a"}}}}},
    };
    WritePlan();
  }
  void WritePlan() {
    std::string err;
    bool changed = false;
    ASSERT_TRUE(disk_.WriteFileIfChanged(dir_ / kPlanFileName, PlanToJson(plan_), &changed, &err)) << err;
  }
  BatchState State(const std::string& batch) {
    BatchState state;
    std::string err;
    EXPECT_TRUE(LoadBatchState(disk_, StateFile(dir_, batch), &state, &err)) << err;
    return state;
  }
  int Run(const std::string& batch, const std::string& digest) {
    return RunBatch(runner_, disk_, dir_ / kPlanFileName, digest, batch);
  }

  fs::path dir_ = "/proj";
  FakeDisk disk_;
  Plan plan_;
  FakeCommandRunner runner_;
};

TEST_F(BatchRunnerTest, SuccessWritesStateAndStamp) {
  runner_.script.push_back({.run_results = RunResults({{"model.p.a", "success"}, {"model.p.b", "success"}})});
  EXPECT_EQ(Run("staging", "d2"), 0);
  ASSERT_EQ(runner_.requests.size(), 1u);
  EXPECT_EQ(FakeCommandRunner::Selected(runner_.requests[0]),
            (std::vector<std::string>{"p.staging.a", "p.staging.b"}));
  EXPECT_TRUE(disk_.Exists(dir_ / StampPath("staging")));
  BatchState state = State("staging");
  EXPECT_TRUE(state["model.p.a"].Succeeded());
  EXPECT_EQ(state["model.p.a"].seconds, 1.5);
  // Nothing changed: no dbt the second time.
  EXPECT_EQ(Run("staging", "d2"), 0);
  EXPECT_EQ(runner_.requests.size(), 1u);
}

TEST_F(BatchRunnerTest, AStaleDigestIsExitTwoWithoutDbt) {
  EXPECT_EQ(Run("staging", "old"), 2);
  EXPECT_EQ(Run("nope", "d2"), 2);
  EXPECT_TRUE(runner_.requests.empty());
}

// A node fails, dbt runs to its end: the batch records it, writes no stamp,
// and exits 0 so that Ninja goes on with the batches that wait for it
// (they skip what depends on the failure); no batch is split any more.
TEST_F(BatchRunnerTest, ANodeFailureIsRecordedAndTheBuildGoesOn) {
  runner_.script.push_back({.exit_code = 1, .run_results = RunResults({{"model.p.a", "error"}, {"model.p.b", "skipped"}})});
  std::string err;
  ASSERT_TRUE(disk_.Touch(dir_ / BuildOkPath(), &err)) << err;  // an earlier build's
  EXPECT_EQ(Run("staging", "d2"), 0);
  EXPECT_FALSE(disk_.Exists(dir_ / StampPath("staging")));
  // The check edge must run even when the stamp never existed (restat).
  EXPECT_FALSE(disk_.Exists(dir_ / BuildOkPath()));
  BatchState state = State("staging");
  EXPECT_EQ(state["model.p.a"].status, "error");
  EXPECT_EQ(state["model.p.a"].message, "line one line two");
  EXPECT_EQ(state["model.p.b"].status, "skipped");
  EXPECT_FALSE(disk_.Exists(SplitDir(dir_) / "staging"));
  // The build's run_results.json has both, as dbt wrote them.
  std::string merged;
  ASSERT_TRUE(disk_.ReadFile(MergedRunResultsFile(dir_), &merged, &err)) << err;
  nlohmann::json doc = nlohmann::json::parse(merged);
  ASSERT_EQ(doc["results"].size(), 2u);
  EXPECT_EQ(doc["results"][0]["status"], "error");
  EXPECT_EQ(doc["results"][1]["unique_id"], "model.p.b");
}

// `pa-gen forget` and the build's summary go through the disk they are
// given: here the fake one, no file on the real disk.
TEST_F(BatchRunnerTest, ForgetAndTheFailureSummaryWorkOnTheFakeDisk) {
  runner_.script.push_back({.run_results = RunResults({{"model.p.a", "success"}, {"model.p.b", "success"}})});
  ASSERT_EQ(Run("staging", "d2"), 0);
  ASSERT_TRUE(disk_.Exists(dir_ / StampPath("staging")));
  EXPECT_EQ(PrintFailures(disk_, dir_ / kPlanFileName, 0, false), 0);

  std::string err;
  ASSERT_TRUE(disk_.Touch(dir_ / BuildOkPath(), &err)) << err;
  EXPECT_EQ(Forget(disk_, dir_ / kPlanFileName, {"a"}, /*full_refresh=*/true), 0);
  EXPECT_FALSE(disk_.Exists(dir_ / StampPath("staging")));
  EXPECT_FALSE(disk_.Exists(dir_ / BuildOkPath()));
  BatchState state = State("staging");
  EXPECT_EQ(state["model.p.a"].status, "");
  EXPECT_TRUE(state["model.p.a"].full_refresh);
  EXPECT_TRUE(state["model.p.b"].Succeeded());
  EXPECT_EQ(Forget(disk_, dir_ / kPlanFileName, {"no_such_node"}, false), 2);

  runner_.script.push_back({.exit_code = 1, .run_results = RunResults({{"model.p.a", "error"}, {"model.p.b", "skipped"}})});
  ASSERT_EQ(Run("staging", "d2"), 0);
  EXPECT_EQ(PrintFailures(disk_, dir_ / kPlanFileName, 0, false), 2);  // a failed, b skipped
  EXPECT_EQ(PrintFailures(disk_, dir_ / "missing.json", 0, false), 0);  // no plan: nothing to say
}

// A failure that is not the nodes': dbt exits 2, or leaves nodes unreported,
// or a lock is held: the edge fails as before and Ninja stops what waits.
TEST_F(BatchRunnerTest, ACrashedOrIncompleteRunFailsTheEdge) {
  runner_.script.push_back({.exit_code = 2, .run_results = RunResults({{"model.p.a", "error"}, {"model.p.b", "skipped"}})});
  EXPECT_EQ(Run("staging", "d2"), 1);
  runner_.script.push_back({.exit_code = 1, .run_results = RunResults({{"model.p.a", "error"}})});
  EXPECT_EQ(Run("staging", "d2"), 1);  // b not reported
  runner_.script.push_back({.exit_code = 1, .output = kLockHeld,
                            .run_results = RunResults({{"model.p.a", "error"}, {"model.p.b", "skipped"}})});
  EXPECT_EQ(Run("staging", "d2"), 1);
  runner_.script.push_back({.exit_code = 1, .run_results = RunResults({{"model.p.a", "success"}, {"model.p.b", "success"}})});
  EXPECT_EQ(Run("staging", "d2"), 1);  // every node succeeded, yet dbt failed: a hook
  EXPECT_FALSE(disk_.Exists(dir_ / StampPath("staging")));
}

// marts: c reads staging's b, d reads staging's a, e is gated by staging's
// test t (it reads a, which t tests), r reads c.
class SkipByNodeTest : public BatchRunnerTest {
 protected:
  void SetUp() override {
    BatchRunnerTest::SetUp();
    plan_.batches = {
        {"marts", "d1",
         {{"model.p.c", "p.marts.c", "fc", {{"staging", "model.p.b"}}},
          {"model.p.d", "p.marts.d", "fd", {{"staging", "model.p.a"}}},
          {"model.p.e", "p.marts.e", "fe", {{"staging", "model.p.a"}}, {{"staging", "test.p.t"}}}},
         "", 0, {"staging"}},
        {"reports", "d3", {{"model.p.r", "p.reports.r", "fr", {{"marts", "model.p.c"}}}}, "", 0, {"marts"}},
        {"staging", "d2",
         {{"model.p.a", "p.staging.a", "fa", {}},
          {"model.p.b", "p.staging.b", "fb", {{"staging", "model.p.a"}}},
          {"test.p.t", "p.staging.t", "ft", {{"staging", "model.p.a"}}}}},
    };
    WritePlan();
  }
};

TEST_F(SkipByNodeTest, DownstreamBatchesRunWhatDoesNotDependOnTheFailure) {
  runner_.script.push_back({.exit_code = 1, .run_results = RunResults(
      {{"model.p.a", "success"}, {"model.p.b", "error"}, {"test.p.t", "pass"}})});
  EXPECT_EQ(Run("staging", "d2"), 0);
  runner_.script.push_back({.run_results = RunResults({{"model.p.d", "success"}, {"model.p.e", "success"}})});
  EXPECT_EQ(Run("marts", "d1"), 0);
  ASSERT_EQ(runner_.requests.size(), 2u);
  EXPECT_EQ(FakeCommandRunner::Selected(runner_.requests[1]),
            (std::vector<std::string>{"p.marts.d", "p.marts.e"}));
  EXPECT_FALSE(disk_.Exists(dir_ / StampPath("marts")));  // c did not succeed
  BatchState marts = State("marts");
  EXPECT_EQ(marts["model.p.c"].status, "skipped");
  EXPECT_EQ(marts["model.p.c"].message, "skipped because upstream model.p.b failed");
  EXPECT_TRUE(marts["model.p.d"].Succeeded());

  // reports has nothing that can run: no dbt, skipped naming the node that failed.
  EXPECT_EQ(Run("reports", "d3"), 0);
  EXPECT_EQ(runner_.requests.size(), 2u);
  EXPECT_EQ(State("reports")["model.p.r"].message, "skipped because upstream model.p.b failed");
  EXPECT_FALSE(disk_.Exists(dir_ / StampPath("reports")));

  // The build's run_results.json: every node, what dbt said or skipped.
  std::string merged, err;
  ASSERT_TRUE(disk_.ReadFile(MergedRunResultsFile(dir_), &merged, &err)) << err;
  nlohmann::json doc = nlohmann::json::parse(merged);
  std::map<std::string, std::string> status;
  for (const auto& r : doc["results"]) status[r["unique_id"]] = r["status"];
  EXPECT_EQ(status, (std::map<std::string, std::string>{
                        {"model.p.a", "success"}, {"model.p.b", "error"}, {"model.p.c", "skipped"},
                        {"model.p.d", "success"}, {"model.p.e", "success"}, {"model.p.r", "skipped"},
                        {"test.p.t", "pass"}}));
  EXPECT_EQ(CheckBuild(disk_, dir_ / kPlanFileName), 1);
  EXPECT_FALSE(disk_.Exists(dir_ / BuildOkPath()));

  // After the fix: b, then c and r only, one dbt process per batch.
  runner_.script.push_back({.run_results = RunResults({{"model.p.b", "success"}})});
  EXPECT_EQ(Run("staging", "d2"), 0);
  EXPECT_EQ(FakeCommandRunner::Selected(runner_.requests[2]), (std::vector<std::string>{"p.staging.b"}));
  runner_.script.push_back({.run_results = RunResults({{"model.p.c", "success"}})});
  EXPECT_EQ(Run("marts", "d1"), 0);
  EXPECT_EQ(FakeCommandRunner::Selected(runner_.requests[3]), (std::vector<std::string>{"p.marts.c"}));
  runner_.script.push_back({.run_results = RunResults({{"model.p.r", "success"}})});
  EXPECT_EQ(Run("reports", "d3"), 0);
  EXPECT_EQ(FakeCommandRunner::Selected(runner_.requests[4]), (std::vector<std::string>{"p.reports.r"}));
  for (const char* batch : {"staging", "marts", "reports"})
    EXPECT_TRUE(disk_.Exists(dir_ / StampPath(batch))) << batch;
  EXPECT_EQ(CheckBuild(disk_, dir_ / kPlanFileName), 0);
  EXPECT_TRUE(disk_.Exists(dir_ / BuildOkPath()));
}

TEST_F(SkipByNodeTest, AFailingTestHoldsBackWhatItGatesInOtherBatches) {
  runner_.script.push_back({.exit_code = 1, .run_results = RunResults(
      {{"model.p.a", "success"}, {"model.p.b", "skipped"}, {"test.p.t", "fail"}})});
  EXPECT_EQ(Run("staging", "d2"), 0);
  // d reads a too but no test gates it in the plan; e and c are held back.
  runner_.script.push_back({.run_results = RunResults({{"model.p.d", "success"}})});
  EXPECT_EQ(Run("marts", "d1"), 0);
  EXPECT_EQ(FakeCommandRunner::Selected(runner_.requests[1]), (std::vector<std::string>{"p.marts.d"}));
  BatchState marts = State("marts");
  EXPECT_EQ(marts["model.p.e"].message, "skipped because upstream test.p.t failed");
  // c's parent b was skipped by dbt because of t: the cause is t.
  EXPECT_EQ(marts["model.p.c"].message, "skipped because upstream test.p.t failed");
}

// config.on_error: continue, as `dbt build` 1.12 honours it: the failed
// model holds nothing back in other batches; its tests still gate.
TEST_F(SkipByNodeTest, AFailedModelWithOnErrorContinueHoldsNothingBack) {
  plan_.batches[2].members[0].on_error_continue = true;  // a
  plan_.batches[2].members[1].on_error_continue = true;  // b
  WritePlan();
  runner_.script.push_back({.exit_code = 1, .run_results = RunResults(
      {{"model.p.a", "success"}, {"model.p.b", "error"}, {"test.p.t", "pass"}})});
  EXPECT_EQ(Run("staging", "d2"), 0);
  runner_.script.push_back({.exit_code = 1, .run_results = RunResults(
      {{"model.p.c", "error"}, {"model.p.d", "success"}, {"model.p.e", "success"}})});
  EXPECT_EQ(Run("marts", "d1"), 0);
  EXPECT_EQ(FakeCommandRunner::Selected(runner_.requests[1]),
            (std::vector<std::string>{"p.marts.c", "p.marts.d", "p.marts.e"}));
  // c has no on_error: its own failure holds r back, naming c.
  EXPECT_EQ(Run("reports", "d3"), 0);
  EXPECT_EQ(runner_.requests.size(), 2u);
  EXPECT_EQ(State("reports")["model.p.r"].message, "skipped because upstream model.p.c failed");
  EXPECT_EQ(CheckBuild(disk_, dir_ / kPlanFileName), 1);  // the build still fails
}

TEST_F(SkipByNodeTest, OnErrorContinueLeavesTheGateOfItsTestsAndItsOwnSkip) {
  plan_.batches[2].members[0].on_error_continue = true;  // a
  plan_.batches[2].members[1].on_error_continue = true;  // b
  WritePlan();
  // a failed, dbt ran b anyway, and a's test t failed on what a left.
  runner_.script.push_back({.exit_code = 1, .run_results = RunResults(
      {{"model.p.a", "error"}, {"model.p.b", "success"}, {"test.p.t", "error"}})});
  EXPECT_EQ(Run("staging", "d2"), 0);
  runner_.script.push_back({.run_results = RunResults({{"model.p.c", "success"}, {"model.p.d", "success"}})});
  EXPECT_EQ(Run("marts", "d1"), 0);
  EXPECT_EQ(FakeCommandRunner::Selected(runner_.requests[1]),
            (std::vector<std::string>{"p.marts.c", "p.marts.d"}));
  EXPECT_EQ(State("marts")["model.p.e"].message, "skipped because upstream test.p.t failed");
}

TEST_F(SkipByNodeTest, ASkippedModelWithOnErrorContinueHoldsItsDescendantsBack) {
  plan_.batches[2].members[1].on_error_continue = true;  // b, skipped because a failed
  WritePlan();
  runner_.script.push_back({.exit_code = 1, .run_results = RunResults(
      {{"model.p.a", "error"}, {"model.p.b", "skipped"}, {"test.p.t", "skipped"}})});
  EXPECT_EQ(Run("staging", "d2"), 0);
  EXPECT_EQ(Run("marts", "d1"), 0);
  EXPECT_EQ(runner_.requests.size(), 1u);  // nothing in marts can run
  EXPECT_EQ(State("marts")["model.p.c"].message, "skipped because upstream model.p.a failed");
}

TEST(MergeRunResults, KeepsEachNodesLastResultInDbtsSchema) {
  Plan plan;
  plan.batches = {{"b", "d", {{"model.p.a", "p.a", "fa", {}}, {"model.p.b", "p.b", "fb", {}},
                              {"model.p.c", "p.c", "fc", {}}}}};
  plan.dbt.threads = 4;
  std::string first = MergeRunResults(
      "", {nlohmann::json::parse(R"({"metadata": {"invocation_id": "one"}, "elapsed_time": 1.0, "args": {"which": "build",
           "select": ["p.a"], "partial_parse_file_path": "x", "target_path": "t", "vars": {}},
           "results": [{"unique_id": "model.p.b", "status": "error"},
                       {"unique_id": "model.p.a", "status": "success"},
                       {"unique_id": "model.p.gone", "status": "success"}]})"), {}},
      plan);
  nlohmann::json doc = nlohmann::json::parse(first);
  EXPECT_EQ(doc["metadata"]["invocation_id"], "one");
  EXPECT_EQ(doc["args"], (nlohmann::json{{"which", "build"}, {"vars", nlohmann::json::object()},
                                         {"threads", 4},
                                         {"invocation_command",
                                          "pa-gen build (merged from the batches' dbt build runs)"}}));
  ASSERT_EQ(doc["results"].size(), 2u);  // gone is not in the plan
  EXPECT_EQ(doc["results"][0]["unique_id"], "model.p.a");  // sorted

  // A later batch run replaces b's entry; pa-gen's own entry for c.
  std::string second = MergeRunResults(
      first, {nlohmann::json::parse(R"({"metadata": {"invocation_id": "two"}, "elapsed_time": 2.0,
                 "results": [{"unique_id": "model.p.b", "status": "success"}]})"),
              {{"model.p.c", "skipped", "skipped because upstream model.p.x failed", 0}}},
      plan);
  doc = nlohmann::json::parse(second);
  EXPECT_EQ(doc["metadata"]["invocation_id"], "two");
  EXPECT_EQ(doc["elapsed_time"], 3.0);
  ASSERT_EQ(doc["results"].size(), 3u);
  EXPECT_EQ(doc["results"][1]["status"], "success");
  EXPECT_EQ(doc["results"][2]["status"], "skipped");
  EXPECT_EQ(doc["results"][2]["timing"], nlohmann::json::array());
  EXPECT_TRUE(doc["results"][2].contains("adapter_response"));
  EXPECT_EQ(doc["args"]["which"], "build");  // kept from the first
  // Unreadable old text: start afresh.
  EXPECT_EQ(nlohmann::json::parse(MergeRunResults("{cut", {nlohmann::json(), {}}, plan))["results"].size(), 0u);
}

TEST_F(BatchRunnerTest, KilledBeforeResultsTheLogKeepsFinishedNodes) {
  runner_.script.push_back({.exit_code = 128 + SIGINT, .interrupted_by = SIGINT,
                            .log = Finished("model.p.a", "success") + "{\"cut by a ki"});
  EXPECT_EQ(Run("staging", "d2"), 1);
  BatchState state = State("staging");
  EXPECT_TRUE(state["model.p.a"].Succeeded());
  EXPECT_EQ(state["model.p.b"].status, "not run");
  EXPECT_FALSE(disk_.Exists(SplitDir(dir_) / "staging"));  // a signal is no reason to split
  // The next run selects only what did not finish.
  runner_.script.push_back({.run_results = RunResults({{"model.p.b", "success"}})});
  EXPECT_EQ(Run("staging", "d2"), 0);
  EXPECT_EQ(FakeCommandRunner::Selected(runner_.requests[1]), (std::vector<std::string>{"p.staging.b"}));
}

// Ctrl-C to ninja: ninja closes the pipe it reads our stderr from. Printing
// the failures must neither kill pa-gen exec (SIGPIPE) nor lose the state.
TEST_F(BatchRunnerTest, AClosedOutputPipeLosesNoState) {
  runner_.script.push_back({.exit_code = 1, .run_results = RunResults({{"model.p.a", "success"}, {"model.p.b", "error"}})});
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);  // nobody reads
  int saved_stderr = dup(STDERR_FILENO);
  dup2(fds[1], STDERR_FILENO);
  close(fds[1]);
  int code = Run("staging", "d2");
  dup2(saved_stderr, STDERR_FILENO);
  close(saved_stderr);
  signal(SIGPIPE, SIG_DFL);
  EXPECT_EQ(code, 0);  // a node failed: recorded, and the build goes on
  BatchState state = State("staging");
  EXPECT_TRUE(state["model.p.a"].Succeeded());
  EXPECT_EQ(state["model.p.b"].status, "error");
}

TEST_F(BatchRunnerTest, DbtThatCannotStartIsAFailedBatch) {
  runner_.script.push_back({.start_fails = true});
  EXPECT_EQ(Run("staging", "d2"), 1);
  EXPECT_FALSE(disk_.Exists(dir_ / StampPath("staging")));
}

TEST_F(BatchRunnerTest, TheCommand) {
  plan_.dbt.target = "dev";
  plan_.dbt.threads = 3;
  plan_.dbt.batch_timeout = 60;
  BatchState state;
  state["model.p.b"].full_refresh = true;
  const PlanBatch& staging = plan_.batches[1];
  BatchWork work = SelectWork(staging, {{false, ""}, {true, "changed"}}, state);
  ASSERT_EQ(work.selected.size(), 1u);
  EXPECT_TRUE(work.full_refresh);
  CommandRequest c = DbtBuildCommand(plan_, staging, "/proj", work);
  std::vector<std::string> want = {
      "/fake/dbt", "build", "--project-dir", "/proj", "--profiles-dir=/fake/profiles",
      "--target=dev", "--threads", "3", "--full-refresh", "--select", "p.staging.b",
      "--indirect-selection", "cautious", "--target-path", "/proj/.pa/run/staging/target",
      "--log-path", "/proj/.pa/run/staging/logs", "--log-format-file", "json",
      "--partial-parse-file-path", "/proj/.pa/parse/partial_parse.msgpack",
      "--warn-error-options", R"({"error":["NoNodesForSelectionCriteria"]})"};
  EXPECT_EQ(c.argv, want);
  EXPECT_EQ(c.cwd, "/proj");
  EXPECT_EQ(c.output, "/proj/.pa/run/staging/dbt.out");
  EXPECT_EQ(c.timeout_seconds, 60);
}

TEST_F(BatchRunnerTest, RetriesATransientFailureWithBackoff) {
  CommandRequest c = DbtBuildCommand(plan_, plan_.batches[1], dir_, {});
  runner_.script = {{.exit_code = 1, .output = kLockHeld}, {.exit_code = 1, .output = kLockHeld}, {.exit_code = 0}};
  std::vector<int> waits;
  std::vector<std::string> said;
  DbtRun run;
  std::string err;
  ASSERT_TRUE(RunWithRetries(runner_, disk_, c, 2, {}, "staging", [&](int s) { waits.push_back(s); },
                             [&](const std::string& l) { said.push_back(l); }, &run, &err));
  EXPECT_EQ(run.result.exit_code, 0);
  EXPECT_EQ(runner_.requests.size(), 3u);
  EXPECT_EQ(waits, (std::vector<int>{1, 2}));
  ASSERT_EQ(said.size(), 2u);
  EXPECT_NE(said[0].find("retrying in 1 s (1 of 2)"), std::string::npos) << said[0];
}

TEST_F(BatchRunnerTest, NoRetryForRealFailuresTimeoutsOrWhenSpent) {
  CommandRequest c = DbtBuildCommand(plan_, plan_.batches[1], dir_, {});
  auto attempts = [&](std::deque<FakeCommandRunner::Step> script, int retries) {
    runner_.requests.clear();
    runner_.script = std::move(script);
    DbtRun run;
    std::string err;
    EXPECT_TRUE(RunWithRetries(runner_, disk_, c, retries, {}, "s", [](int) {}, [](const std::string&) {},
                               &run, &err));
    return runner_.requests.size();
  };
  EXPECT_EQ(attempts({{.exit_code = 1, .output = "Database Error: syntax error"}}, 2), 1u);
  EXPECT_EQ(attempts({{.exit_code = 143, .timed_out = true, .output = kLockHeld}}, 2), 1u);
  EXPECT_EQ(attempts({{.exit_code = 130, .interrupted_by = SIGINT, .output = kLockHeld}}, 2), 1u);
  EXPECT_EQ(attempts({{.exit_code = 1, .output = kLockHeld}, {.exit_code = 1, .output = kLockHeld}}, 1), 2u);
}

TEST_F(BatchRunnerTest, RetriesRemoveStaleResults) {
  fs::path stale = dir_ / "old_run_results.json";
  bool changed = false;
  std::string put_err;
  ASSERT_TRUE(disk_.WriteFileIfChanged(stale, "{}", &changed, &put_err));
  runner_.script = {{.exit_code = 0}};
  DbtRun run;
  std::string err;
  ASSERT_TRUE(RunWithRetries(runner_, disk_, DbtBuildCommand(plan_, plan_.batches[1], dir_, {}), 0, {stale},
                             "s", [](int) {}, [](const std::string&) {}, &run, &err));
  EXPECT_FALSE(disk_.Exists(stale));
}

TEST(RecordOutcomes, LinesForOwnFailuresCountsForSkipped) {
  PlanMember a{"model.p.a", "p.a", "fa", {}}, b{"model.p.b", "p.b", "fb", {}},
      c{"model.p.c", "p.c", "fc", {}}, d{"model.p.d", "p.d", "fd", {}};
  std::vector<NodeResult> results = {{"model.p.a", "success", "", 1},
                                     {"model.p.b", "error", "bad\nsql", 2},
                                     {"model.p.c", "skipped", "", 0}};
  BatchState state;
  state["model.p.a"].full_refresh = true;
  BatchOutcome o = RecordOutcomes({&a, &b, &c, &d}, results, true, 42, "/l/dbt.log", &state);
  EXPECT_EQ(o.failed, 3);
  EXPECT_EQ(o.skipped, 1);
  EXPECT_EQ(o.lines, (std::vector<std::string>{
                         "FAILED model.p.b (error): bad sql [log: /l/dbt.log]",
                         "FAILED model.p.d (not run): dbt did not report it [log: /l/dbt.log]"}));
  EXPECT_EQ(state["model.p.a"].built_at, 42);
  EXPECT_FALSE(state["model.p.a"].full_refresh);
  EXPECT_EQ(state["model.p.b"].built_at, 0);
  EXPECT_EQ(state["model.p.d"].status, "not run");
  // Without run results (killed), nothing is listed: the final line says why.
  BatchState other;
  EXPECT_TRUE(RecordOutcomes({&d}, {}, false, 42, "/l", &other).lines.empty());
}

// Issue 15: the dbt process's CPU while its nodes ran (its CPU spread
// evenly over its run), over its nodes' time.
TEST(RecordCpu, ShareOfTheNodesTimeThatWasTheProcesssCpu) {
  EXPECT_DOUBLE_EQ(CpuShare(4, 8, 6, 6), 0.5);  // 4 s of CPU in 8 s, 6 of them with nodes
  EXPECT_DOUBLE_EQ(CpuShare(40, 8, 6, 6), 1);   // never more than their time
  EXPECT_DOUBLE_EQ(CpuShare(0, 8, 6, 6), 0);
  EXPECT_DOUBLE_EQ(CpuShare(-1, 8, 6, 6), -1);  // not measured (the fake runner)
  EXPECT_DOUBLE_EQ(CpuShare(4, 8, 6, 0), -1);   // no node time to share
  EXPECT_DOUBLE_EQ(CpuShare(4, 0, 6, 6), -1);
  PlanMember a{"model.p.a", "p.a", "fa", {}}, b{"model.p.b", "p.b", "fb", {}};
  std::vector<NodeResult> results = {{"model.p.a", "success", "", 2}, {"model.p.b", "success", "", 4}};
  BatchState state;
  RecordOutcomes({&a, &b}, results, true, 42, "/l", &state);
  RecordCpu(results, 0.25, &state);
  EXPECT_DOUBLE_EQ(state["model.p.a"].cpu_seconds, 0.5);
  EXPECT_DOUBLE_EQ(state["model.p.b"].cpu_seconds, 1);
  // Saved and loaded with the rest of the node's state.
  FakeDisk disk;
  std::string err;
  ASSERT_TRUE(SaveBatchState(disk, "/p/.pa/state/b.json", state, &err)) << err;
  BatchState loaded;
  ASSERT_TRUE(LoadBatchState(disk, "/p/.pa/state/b.json", &loaded, &err)) << err;
  EXPECT_DOUBLE_EQ(loaded["model.p.b"].cpu_seconds, 1);
  EXPECT_DOUBLE_EQ(loaded["model.p.b"].seconds, 4);
  // A run whose CPU is unknown forgets the last one's.
  RecordOutcomes({&a, &b}, results, true, 43, "/l", &state);
  RecordCpu(results, -1, &state);
  EXPECT_DOUBLE_EQ(state["model.p.a"].cpu_seconds, 0);
}

// The fixed cost is the batch's wall time less this span.
TEST(RecordCpu, TheNodesSpanIsFromTheFirstStartToTheLastEnd) {
  std::string text = R"({"metadata": {"invocation_started_at": "2026-12-01T10:00:00Z",
      "generated_at": "2026-12-01T10:00:09Z"}, "elapsed_time": 8.5, "results": [
    {"unique_id": "model.p.a", "status": "success", "thread_id": "Thread-1", "execution_time": 2,
     "timing": [{"name": "compile", "started_at": "2026-12-01T10:00:01.500000Z",
                 "completed_at": "2026-12-01T10:00:02Z"},
                {"name": "execute", "started_at": "2026-12-01T10:00:02Z",
                 "completed_at": "2026-12-01T10:00:03.500000Z"}]},
    {"unique_id": "model.p.b", "status": "success", "thread_id": "Thread-2", "execution_time": 4,
     "timing": [{"name": "execute", "started_at": "2026-12-01T10:00:03Z",
                 "completed_at": "2026-12-01T10:00:07.250000Z"}]},
    {"unique_id": "model.p.c", "status": "skipped", "thread_id": "Thread-1", "execution_time": 0,
     "timing": []}]})";
  EXPECT_DOUBLE_EQ(NodeSpanSeconds(nlohmann::json::parse(text)), 5.75);
  EXPECT_DOUBLE_EQ(NodeSpanSeconds(nlohmann::json::parse(R"({"metadata": {"invocation_started_at": "2026-12-01T10:00:00Z",
      "generated_at": "2026-12-01T10:00:09Z"}, "results": []})")), 0);
  EXPECT_DOUBLE_EQ(NodeSpanSeconds(nlohmann::json("not run results")), 0);
}

TEST(DbtOutput, TransientFailures) {
  EXPECT_TRUE(IsTransientFailure(kLockHeld));
  EXPECT_TRUE(IsTransientFailure("could not connect to server: Connection refused"));
  EXPECT_TRUE(IsTransientFailure("FATAL: the database system is starting up"));
  // What PostgreSQL says to the second of two batches creating one schema at once.
  EXPECT_TRUE(IsTransientFailure(
      "Database Error\n  duplicate key value violates unique constraint \"pg_namespace_nspname_index\"\n"
      "  DETAIL:  Key (nspname)=(main_shared) already exists."));
  EXPECT_FALSE(IsTransientFailure("Database Error in model x: syntax error at or near"));
  EXPECT_FALSE(IsTransientFailure(""));
}

TEST(DbtOutput, ErrorSummary) {
  EXPECT_EQ(DbtErrorSummary("12:00:01  Running with dbt=1.12.0\n12:00:02  Encountered an error:\n"
                            "12:00:02  Parsing Error\n12:00:02    at path x.yml\n"),
            "Parsing Error: at path x.yml");
  EXPECT_EQ(DbtErrorSummary("12:00:01  first\n\n12:00:02  last line\n"), "last line");
  EXPECT_EQ(DbtErrorSummary(""), "no output");
}

TEST(RunResults, LoadsResultsAndElapsedTime) {
  fs::path file = fs::path(::testing::TempDir()) / "pa_gen_run_results.json";
  std::ofstream(file) << RunResults({{"model.p.a", "success"}, {"test.p.t", "fail"}});
  std::vector<NodeResult> results;
  std::string err;
  double elapsed = 0;
  ASSERT_TRUE(LoadRunResults(real_disk, file, &results, &err, &elapsed)) << err;
  EXPECT_EQ(elapsed, 2.0);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].unique_id, "test.p.t");
  EXPECT_EQ(results[1].status, "fail");
  EXPECT_EQ(results[1].message, "line one\nline two");
  EXPECT_EQ(results[1].execution_time, 1.5);
  std::ofstream(file) << R"({"results": [{"unique_id": 3}]})";
  results.clear();
  EXPECT_FALSE(LoadRunResults(real_disk, file, &results, &err));
  EXPECT_EQ(err.rfind(file.string() + ": unreadable run results", 0), 0u) << err;
  EXPECT_FALSE(LoadRunResults(real_disk, file.string() + ".missing", &results, &err));
}

TEST(RunResults, TheJsonLogKeepsFinishedNodesAndSkipsCutLines) {
  fs::path file = fs::path(::testing::TempDir()) / "pa_gen_dbt.log";
  std::ofstream(file) << R"({"info": {"name": "NodeStart"}, "data": {"node_info": {"unique_id": "model.p.a"}}})"
                      << "\n" << Finished("model.p.a", "success") << "not json at all\n"
                      << Finished("model.p.b", "error") << R"({"info": {"name": "NodeFini)";
  std::vector<NodeResult> results;
  std::string err;
  ASSERT_TRUE(LoadFinishedFromLog(real_disk, file, &results, &err)) << err;
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].unique_id, "model.p.a");
  EXPECT_EQ(results[0].status, "success");
  EXPECT_EQ(results[0].message, "ok");
  EXPECT_EQ(results[1].status, "error");
  EXPECT_FALSE(LoadFinishedFromLog(real_disk, file.string() + ".missing", &results, &err));
}

// build.ok stands only while every batch of the plan has its stamp: a new
// batch (or one not built) that then fails would, under restat, not make
// Ninja run the check edge.
TEST_F(BatchRunnerTest, RegroupStateKeepsBuildOkOnlyWhileEveryBatchHasItsStamp) {
  std::string err;
  BatchState all;
  for (const char* batch : {"staging", "marts"}) ASSERT_TRUE(disk_.Touch(dir_ / StampPath(batch), &err)) << err;
  ASSERT_TRUE(disk_.Touch(dir_ / BuildOkPath(), &err)) << err;
  ASSERT_TRUE(RegroupState(disk_, dir_, plan_, all, &err)) << err;
  EXPECT_TRUE(disk_.Exists(dir_ / BuildOkPath()));
  plan_.batches.push_back({"reports", "d3", {{"model.p.r", "p.reports.r", "fr", {}}}});
  ASSERT_TRUE(RegroupState(disk_, dir_, plan_, all, &err)) << err;
  EXPECT_FALSE(disk_.Exists(dir_ / BuildOkPath()));
  EXPECT_TRUE(disk_.Exists(dir_ / StampPath("staging")));
}

TEST_F(BatchRunnerTest, RegroupStateMovesNodesAndDropsWhatLeft) {
  std::string err;
  BatchState old_batch;
  old_batch["model.p.a"] = {"fa", 5, "success"};
  old_batch["model.p.gone"] = {"fg", 5, "success"};
  ASSERT_TRUE(SaveBatchState(disk_, StateFile(dir_, "old"), old_batch, &err)) << err;
  ASSERT_TRUE(disk_.Touch(dir_ / StampPath("old"), &err)) << err;
  ASSERT_TRUE(disk_.Touch(dir_ / StampPath("staging"), &err)) << err;
  BatchState all;
  ASSERT_TRUE(LoadAllState(disk_, dir_, &all, &err)) << err;
  ASSERT_TRUE(RegroupState(disk_, dir_, plan_, all, &err)) << err;
  EXPECT_FALSE(disk_.Exists(StateFile(dir_, "old")));
  EXPECT_FALSE(disk_.Exists(dir_ / StampPath("old")));
  EXPECT_TRUE(disk_.Exists(dir_ / StampPath("staging")));
  BatchState staging = State("staging");
  EXPECT_EQ(staging.size(), 1u);
  EXPECT_TRUE(staging["model.p.a"].Succeeded());
  EXPECT_FALSE(disk_.Exists(StateFile(dir_, "marts")));  // nothing to keep, no file
}

TEST(WriteFileIfChanged, WritesOnceAndKeepsTheMtime) {
  fs::path file = fs::path(::testing::TempDir()) / "pa_gen_wfic" / "sub" / "f.txt";
  fs::remove_all(file.parent_path().parent_path());
  std::string err;
  bool changed = false;
  ASSERT_TRUE(WriteFileIfChanged(file, "one\n", &changed, &err)) << err;
  EXPECT_TRUE(changed);
  EXPECT_EQ(Read(file), "one\n");
  long long mtime = MtimeNs(file);
  ASSERT_TRUE(WriteFileIfChanged(file, "one\n", &changed, &err)) << err;
  EXPECT_FALSE(changed);
  EXPECT_EQ(MtimeNs(file), mtime);
  ASSERT_TRUE(WriteFileIfChanged(file, "two\n", &changed, &err)) << err;
  EXPECT_TRUE(changed);
  EXPECT_EQ(Read(file), "two\n");
  // No temporary file is left beside it.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(file.parent_path())) entries += e.is_regular_file();
  EXPECT_EQ(entries, 1);
  // It creates the folder first, so the error may be the folder's: one line naming the path.
  EXPECT_FALSE(WriteFileIfChanged("/proc/pa_gen_no/f", "x", &changed, &err));
  EXPECT_EQ(err.rfind("/proc/pa_gen_no", 0), 0u) << err;
  EXPECT_NE(err.find("cannot "), std::string::npos) << err;
}

// A file larger than the block it is compared in: the same bytes are no
// change; one byte other at the end, in the middle, or one byte more or
// less is. An empty file holds the empty text.
TEST(WriteFileIfChanged, ComparesALargeFileByItsBytes) {
  fs::path file = fs::path(::testing::TempDir()) / "pa_gen_wfic_large" / "f.txt";
  fs::remove_all(file.parent_path());
  std::string text(700000, 'a');
  for (size_t i = 0; i < text.size(); i += 97) text[i] = static_cast<char>('b' + i % 20);
  std::string err;
  bool changed = false;
  ASSERT_TRUE(WriteFileIfChanged(file, text, &changed, &err)) << err;
  EXPECT_TRUE(changed);
  ASSERT_TRUE(WriteFileIfChanged(file, text, &changed, &err)) << err;
  EXPECT_FALSE(changed);
  std::string last = text, middle = text;
  last.back() = '!';
  middle[text.size() / 2 + 3] = '!';
  for (const std::string& other : {last, middle, text + "a", text.substr(1), text}) {
    ASSERT_TRUE(WriteFileIfChanged(file, other, &changed, &err)) << err;
    EXPECT_TRUE(changed);
    EXPECT_EQ(Read(file), other);
  }
  ASSERT_TRUE(WriteFileIfChanged(file, "", &changed, &err)) << err;
  EXPECT_TRUE(changed);
  ASSERT_TRUE(WriteFileIfChanged(file, "", &changed, &err)) << err;
  EXPECT_FALSE(changed);
}

// Two build files of one project share its .pa/: a generation with other
// batches than a build file still there is refused, one with the same
// batches (or the same split node by node) is not, and a build file that
// is gone no longer counts.
TEST(SharedState, AnotherBuildFileWithOtherBatchesIsRefused) {
  FakeDisk disk;
  fs::path project = "/p";
  auto member = [](const std::string& id) { return PlanMember{id, id, "f", {}}; };
  auto plan_of = [&](std::vector<PlanBatch> batches, const std::string& project_dir) {
    Plan plan;
    plan.project_dir = project_dir;
    plan.batches = std::move(batches);
    return plan;
  };
  std::string err;
  bool changed = false;
  auto write = [&](const fs::path& output, const Plan& plan) {
    ASSERT_TRUE(disk.WriteFileIfChanged(output, "ninja", &changed, &err)) << err;
    ASSERT_TRUE(disk.WriteFileIfChanged(PlanFile(output), PlanToJson(plan), &changed, &err)) << err;
    ASSERT_TRUE(RecordOutput(disk, project, output, &err)) << err;
  };
  fs::path a = "/p/build.ninja", b = "/out/b/build.ninja";
  Plan folder = plan_of({{"marts", "d1", {member("model.p.c")}}, {"staging", "d2", {member("model.p.a"), member("model.p.b")}}}, ".");
  write(a, folder);

  Plan single = plan_of({{"all_nodes", "d3", {member("model.p.a"), member("model.p.b"), member("model.p.c")}}}, "../../p");
  EXPECT_FALSE(CheckOtherOutputs(disk, project, b, single, &err));
  EXPECT_EQ(err, "/p/build.ninja also builds /p with other batches (model.p.a is in batch staging there, "
                 "all_nodes here); the two share its .pa/ state and stamps, so each would make the other "
                 "rebuild: generate both with the same --policy, --policy-file, --max-batch-size, --select "
                 "and --exclude, or delete /p/build.ninja");
  // Regenerating the same build file with other batches is no conflict.
  EXPECT_TRUE(CheckOtherOutputs(disk, project, a, single, &err)) << err;

  Plan same = folder;
  same.project_dir = "../../p";
  EXPECT_TRUE(CheckOtherOutputs(disk, project, b, same, &err)) << err;
  write(b, same);
  std::string recorded;
  ASSERT_TRUE(disk.ReadFile(OutputsFile(project), &recorded, &err)) << err;
  EXPECT_EQ(recorded, "/out/b/build.ninja\n/p/build.ninja\n");
  // Recording a build file reads the other's plan, not its own just written.
  disk.reads.clear();
  ASSERT_TRUE(RecordOutput(disk, project, a, &err)) << err;
  EXPECT_EQ(disk.reads[FakeDisk::Key(PlanFile(a))], 0);
  EXPECT_EQ(disk.reads[FakeDisk::Key(PlanFile(b))], 1);
  // staging split node by node is still staging.
  Plan split = plan_of({{"marts", "d1", {member("model.p.c")}},
                        {"staging.a", "d4", {member("model.p.a")}, "staging"},
                        {"staging.b", "d5", {member("model.p.b")}, "staging"}}, ".");
  EXPECT_TRUE(CheckOtherOutputs(disk, project, a, split, &err)) << err;

  // b's build file deleted: it no longer counts, and leaves the list.
  disk.RemoveFile(b);
  EXPECT_TRUE(CheckOtherOutputs(disk, project, a, single, &err)) << err;
  ASSERT_TRUE(RecordOutput(disk, project, a, &err)) << err;
  ASSERT_TRUE(disk.ReadFile(OutputsFile(project), &recorded, &err)) << err;
  EXPECT_EQ(recorded, "/p/build.ninja\n");
}

}  // namespace
