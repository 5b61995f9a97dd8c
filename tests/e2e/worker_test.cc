// End to end: the resident dbt worker (gen/worker) with the real pa-gen,
// dbt and ninja on examples/planalign. A build through the worker must
// equal a build with fresh processes; when the worker is killed, stale,
// replaced by something else or raced for, the build still ends right.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "e2e_util.h"
#include "dbt/dbt.h"
#include "util/process.h"
#include "worker/worker_runner.h"

namespace {

const std::string kBuild = "'" + kPaGen.string() + "' --profiles-dir . --policy folder --retries 6 && ninja";

// What Python `code` (no single quote in it) prints, run in `project` by
// the interpreter of the dbt under test.
std::string PythonOutput(const fs::path& project, const std::string& code) {
  return Shell(project, "'" + (kVenv / "python").string() + "' -c '" + code + "'").out;
}

// unique_id -> status over every batch's run_results.json.
std::string Statuses(const fs::path& project) {
  Result r = Shell(project,
                   "'" + (kVenv / "python").string() +
                       "' -c 'import json,glob,sys\n"
                       "rows=set()\n"
                       "for f in glob.glob(\".pa/run/*/target/run_results.json\"):\n"
                       "  for x in json.load(open(f))[\"results\"]: rows.add(x[\"unique_id\"]+\" \"+x[\"status\"])\n"
                       "print(\"\\n\".join(sorted(rows)))'");
  return r.out;
}

// The children of `project`'s worker: a handler per request in flight (not
// multiprocessing's resource tracker, which a preloaded manifest starts).
// Every batch's target/graph_summary.json as "<batch> <node> <type> <successors>"
// lines, by name (the worker computes it without serialising each node).
std::string GraphSummaries(const fs::path& project) {
  Result r = Shell(project,
                   "'" + (kVenv / "python").string() +
                       "' -c 'import json,glob\n"
                       "rows=[]\n"
                       "for f in sorted(glob.glob(\".pa/run/*/target/graph_summary.json\")):\n"
                       "  d=json.load(open(f))\n"
                       "  for k in (\"linked\",\"with_test_edges\"):\n"
                       "    g=d[k]\n"
                       "    for n in g.values(): rows.append(\" \".join([f.split(\"/\")[2],k,n[\"name\"],n[\"type\"]]+sorted(g[str(i)][\"name\"] for i in n.get(\"succ\",[]))))\n"
                       "print(\"\\n\".join(sorted(rows)))'");
  return r.out;
}

int WorkerChildren(const fs::path& project) {
  Result r = Shell(project, "z=$('" + kPaGen.string() +
                                "' worker status | sed -n 's/.*: pid \\([0-9]*\\),.*/\\1/p'); "
                                "sleep 1; ps -o args= --ppid $z | grep -vc resource_tracker");
  return std::atoi(r.out.c_str());
}

int WorkerCount(const fs::path& project) {
  Result r = Shell(project, "'" + kPaGen.string() + "' worker status");
  int n = 0;
  for (size_t p = r.out.find(": pid "); p != std::string::npos; p = r.out.find(": pid ", p + 1)) ++n;
  return n;
}

class WorkerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = TestRoot("worker");
    setenv("PA_WORKER_IDLE_SECONDS", "300", 1);
    // The warm file shared across projects goes here, not in the user's cache.
    setenv("XDG_CACHE_HOME", (root_ / "cache").c_str(), 1);
    reference_ = ReferenceDigest();  // the e2e_reference fixture
  }
  static void TearDownTestSuite() { RemoveUnlessFailed(root_); }
  void TearDown() override {
    for (const char* p : {"with", "without", "fallback", "requests", "preload", "warm", "shared1", "shared2", "secrets",
                          "selection", "artifacts", "prelink", "decode", "decode_dbt", "cache_events", "cache_events_dbt", "templates", "events"})
      if (fs::exists(root_ / p)) Shell(root_ / p, "'" + kPaGen.string() + "' worker stop");
  }
  static fs::path root_;
  static std::string reference_;
};
fs::path WorkerTest::root_;
std::string WorkerTest::reference_;

// Two copies of the example built, the first through the worker, the
// second in fresh dbt processes.
std::pair<Result, Result> BuildWithAndWithoutTheWorker(const fs::path& with, const fs::path& without) {
  CopyExample(with);
  CopyExample(without);
  Result a = Shell(with, kBuild);
  return {a, Shell(without, "export PA_NO_WORKER=1; " + kBuild)};
}

TEST_F(WorkerTest, BuildThroughTheWorkerEqualsFreshProcesses) {
  fs::path with = root_ / "with";
  fs::path without = root_ / "without";
  auto [a, b] = BuildWithAndWithoutTheWorker(with, without);
  EXPECT_EQ(a.code, 0) << a.out;
  EXPECT_EQ(b.code, 0) << b.out;
  EXPECT_EQ(a.out.find("warning: dbt worker"), std::string::npos) << a.out;
  EXPECT_EQ(WorkerCount(with), 1) << "parse and batches share one worker";
  EXPECT_EQ(WorkerCount(without), 0);
  EXPECT_EQ(WarehouseDigest(with), reference_);
  EXPECT_EQ(WarehouseDigest(without), reference_);
  std::string statuses = Statuses(with);
  EXPECT_NE(statuses, "");
  EXPECT_EQ(statuses, Statuses(without));
  // The worker's child writes dbt's graph summary of every batch, equal.
  std::string summaries = GraphSummaries(with);
  EXPECT_NE(summaries.find(" with_test_edges model.planalign."), std::string::npos) << summaries;
  EXPECT_EQ(summaries, GraphSummaries(without));
  // No DuckDB WAL left behind by a child that skipped atexit.
  EXPECT_FALSE(fs::exists(with / "planalign.duckdb.wal"));
  // Only the zygote remains: no handler or dbt child outlived its request.
  EXPECT_EQ(WorkerChildren(with), 0);
  EXPECT_EQ(Shell(with, "'" + kPaGen.string() + "' worker stop").code, 0);
  EXPECT_EQ(WorkerCount(with), 0);
}

TEST_F(WorkerTest, FallbackCasesEndWithTheRightWarehouse) {
  fs::path project = root_ / "fallback";
  CopyExample(project);
  Result first = Shell(project, kBuild);
  ASSERT_EQ(first.code, 0) << first.out;
  std::string forget = "'" + kPaGen.string() + "' --profiles-dir . --policy folder forget >/dev/null && ";
  std::string sock;
  for (const auto& e : fs::directory_iterator(project / ".pa" / "worker"))
    if (e.path().extension() == ".sock") sock = e.path().string();
  ASSERT_NE(sock, "");

  {  // A socket file that is not a worker: it answers garbage.
    Shell(project, "'" + kPaGen.string() + "' worker stop");
    std::string py = "import socket,os\ns=socket.socket(socket.AF_UNIX)\ns.bind('" + sock +
                     "')\ns.listen(8)\nwhile True:\n  c,_=s.accept(); c.sendall(b'\\x00\\x00\\x00\\x02no'); c.close()\n";
    Write(root_ / "impostor.py", py);
    Result r = Shell(project, "('" + (kVenv / "python").string() + "' '" +
                                  (root_ / "impostor.py").string() + "' & echo $! > impostor.pid); sleep 1; " +
                                  forget + kBuild + "; code=$?; kill $(cat impostor.pid); exit $code");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(WarehouseDigest(project), reference_);
    EXPECT_EQ(WorkerCount(project), 1) << "the impostor was replaced by a worker";
  }
  {  // A worker left for another key (other vars) on this socket: replaced.
    Shell(project, "'" + kPaGen.string() + "' worker stop");
    // This pa-gen's own script: other builds of pa-gen leave theirs beside it.
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    std::string script = PathsFor(project, "", runtime ? runtime : "", getuid()).script.string();
    ASSERT_TRUE(fs::exists(script)) << script;
    Result r = Shell(project, "PA_WORKER_CONFIG='{\"socket\": \"" + sock +
                                  "\", \"key\": \"another\", \"idle\": 60}' '" +
                                  (kVenv / "python").string() + "' '" + script +
                                  "' 2>/dev/null & sleep 8; " + forget + kBuild);
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(WarehouseDigest(project), reference_);
    EXPECT_EQ(WorkerCount(project), 1);
    // Another vars value is another worker, both correct.
    Result v = Shell(project, "'" + kPaGen.string() +
                                  "' --profiles-dir . --policy folder --vars '{pa_unused: 1}' --retries 6 && ninja");
    EXPECT_EQ(v.code, 0) << v.out;
    EXPECT_EQ(WarehouseDigest(project), reference_);
    EXPECT_EQ(WorkerCount(project), 2);
    Result back = Shell(project, kBuild);  // back to no vars: its own worker again
    EXPECT_EQ(back.code, 0) << back.out;
  }
  {  // The worker (zygote and handlers; the dbt child dies with its handler) killed mid-batch.
    // Killed once a batch's dbt has started writing its output.
    Result r = Shell(project, forget + "touch started; (ninja > ninja.out 2>&1; echo $? > ninja.code) & "
                              "until grep -qs 'Running with dbt' $(find .pa/run -name dbt.out -newer started); do sleep 0.2; done; "
                              "z=$('" + kPaGen.string() + "' worker status | sed -n 's/.*: pid \\([0-9]*\\),.*/\\1/p'); "
                              "echo killing worker $z; for p in $z; do pkill -9 -P $p; kill -9 $p; done; wait; "
                              "cat ninja.out; exit $(cat ninja.code)");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("running dbt as a fresh process"), std::string::npos) << r.out;
    EXPECT_EQ(WarehouseDigest(project), reference_);
    Result again = Shell(project, "ninja");
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_NE(again.out.find("no work to do"), std::string::npos) << again.out;
  }
  {  // Two pa-gen exec at once, no worker running: they share one.
    Shell(project, "'" + kPaGen.string() + "' worker stop");
    Result r = Shell(project, "'" + kPaGen.string() + "' --profiles-dir . --policy folder --retries 6 forget marts audit >/dev/null && "
                              "ninja -t commands | grep ' exec ' | grep -E ' (marts|audit)$' > two.sh && "
                              "test $(wc -l < two.sh) = 2 && "
                              "(sh -c \"$(sed -n 1p two.sh)\" & sh -c \"$(sed -n 2p two.sh)\" & wait %1 && wait %2)");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(r.out.find("warning: dbt worker"), std::string::npos) << r.out;
    EXPECT_EQ(WorkerCount(project), 1);
    EXPECT_EQ(WarehouseDigest(project), reference_);
    // The stamps the two execs wrote are newer than .pa/build.ok, so Ninja
    // runs the check edge once (no dbt); then nothing is left.
    Result again = Shell(project, "ninja && ninja");
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_EQ(again.out.find("dbt build"), std::string::npos) << again.out;
    EXPECT_NE(again.out.find("no work to do"), std::string::npos) << again.out;
  }
}

// Twenty-odd requests in one worker, each with its own environment and
// vars (two values, so two workers), interleaved with failures: each
// answer is what that request alone would give.
TEST_F(WorkerTest, ManyRequestsWithDifferentVarsAndEnvStayCorrect) {
  fs::path project = root_ / "requests";
  CopyExample(project);
  Write(project / "macros" / "pa_echo.sql",
        "{% macro pa_echo() %}{% do log('ECHO ' ~ var('x', 'none') ~ ' ' ~ env_var('PA_E', 'none'), "
        "info=True) %}{% endmacro %}\n");
  SubprocessRunner fresh;
  WorkerRunner worker(fresh);
  fs::path dbt = kVenv / "dbt";
  auto request = [&](std::vector<std::string> args, const std::string& e) {
    CommandRequest r;
    r.argv = {dbt.string()};
    r.argv.insert(r.argv.end(), args.begin(), args.end());
    r.cwd = project;
    r.output = project / "out.txt";
    r.env = DbtEnvironment();
    if (!e.empty()) r.env.emplace_back("PA_E", e);
    return r;
  };
  auto run = [&](CommandRunner& runner, const CommandRequest& r, std::string* out) {
    CommandResult result;
    std::string err;
    EXPECT_TRUE(runner.Run(r, &result, &err)) << err;
    *out = Read(r.output);
    return result;
  };
  std::string out;
  // Exit codes as a fresh dbt gives them: a failing model 1, a bad option 2.
  Write(project / "models" / "pa_broken.sql", "select * from nowhere_at_all\n");
  for (auto [args, code] : std::vector<std::pair<std::vector<std::string>, int>>{
           {{"build", "--profiles-dir", ".", "--select", "pa_broken"}, 1},
           {{"build", "--profiles-dir", ".", "--no-such-option"}, 2},
           {{"build", "--profiles-dir", ".", "--select", "no_such_model", "--warn-error-options",
             R"({"error":["NoNodesForSelectionCriteria"]})"}, 2}}) {
    CommandResult f = run(fresh, request(args, ""), &out);
    CommandResult w = run(worker, request(args, ""), &out);
    EXPECT_EQ(f.exit_code, code) << out;
    EXPECT_EQ(w.exit_code, code) << out;
    EXPECT_EQ(w.ran_by, "worker");
  }
  fs::remove(project / "models" / "pa_broken.sql");
  for (int i = 0; i < 22; ++i) {
    std::vector<std::string> args = {"run-operation", "pa_echo", "--profiles-dir", "."};
    std::string x = i % 2 ? "one" : "two";
    args.insert(args.end(), {"--vars", "{x: " + x + "}"});
    std::string e = i % 3 ? "e" + std::to_string(i) : "";  // sometimes unset
    CommandResult w = run(worker, request(args, e), &out);
    EXPECT_EQ(w.exit_code, 0) << out;
    EXPECT_EQ(w.ran_by, "worker");
    EXPECT_NE(out.find("ECHO " + x + " " + (e.empty() ? "none" : e)), std::string::npos)
        << i << ": " << out;
  }
  EXPECT_EQ(WorkerCount(project), 3) << "no vars, and two values of x";
}

// dbt scrubs the values of DBT_ENV_SECRET_* variables from every line it
// logs; the worker's child keeps dbt's list of them while the environment
// is unchanged (install_cheap_env_secrets). Requests to one worker with the
// secret set, changed and unset print what a fresh dbt prints.
TEST_F(WorkerTest, SecretsAreScrubbedAsByAFreshDbt) {
  fs::path project = root_ / "secrets";
  CopyExample(project);
  Write(project / "macros" / "pa_say.sql",
        "{% macro pa_say() %}{% do log('SAY ' ~ env_var('PA_S'), info=True) %}{% endmacro %}\n");
  SubprocessRunner fresh;
  WorkerRunner worker(fresh);
  auto request = [&](const std::string& secret) {
    CommandRequest r;
    r.argv = {(kVenv / "dbt").string(), "run-operation", "pa_say", "--profiles-dir", "."};
    r.cwd = project;
    r.output = project / "out.txt";
    r.env = DbtEnvironment();
    r.env.emplace_back("PA_S", "hunter2");
    if (!secret.empty()) r.env.emplace_back("DBT_ENV_SECRET_PA", secret);
    return r;
  };
  auto said = [&](CommandRunner& runner, const std::string& secret, std::string* ran_by) {
    CommandResult result;
    std::string err;
    EXPECT_TRUE(runner.Run(request(secret), &result, &err)) << err;
    EXPECT_EQ(result.exit_code, 0);
    *ran_by = result.ran_by;
    std::string out = Read(project / "out.txt");
    size_t p = out.find("SAY ");
    return p == std::string::npos ? out : out.substr(p, out.find('\n', p) - p);
  };
  for (const std::string secret : {"hunter2", "other", "", "hunter2"}) {
    std::string by_fresh, by_worker;
    std::string f = said(fresh, secret, &by_fresh);
    std::string w = said(worker, secret, &by_worker);
    EXPECT_EQ(f, secret == "hunter2" ? "SAY *****" : "SAY hunter2") << secret;
    EXPECT_EQ(w, f) << secret;
    EXPECT_EQ(by_worker, "worker");
  }
  EXPECT_EQ(WorkerCount(project), 1);
}

// The worker's log: what its zygote and children said (the preload markers).
std::string WorkerLog(const fs::path& project) {
  std::string all;
  for (const auto& e : fs::directory_iterator(project / ".pa" / "worker"))
    if (e.path().extension() == ".log") all += Read(e.path());
  return all;
}

// The preloaded manifest's sha256 prefix in `pa-gen worker status`, or "".
std::string PreloadSha(const std::string& status) {
  size_t p = status.find(", sha256 ");
  return p == std::string::npos ? "" : status.substr(p + 9, 16);
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// The value of `column` in the first row of `table` of planalign.duckdb.
std::string Cell(const fs::path& project, const std::string& table, const std::string& column) {
  Result r = Shell(project, "'" + (kVenv / "python").string() +
                                "' -c 'import duckdb; print(duckdb.connect(\"planalign.duckdb\", "
                                "read_only=True).sql(\"select " + column + " from " + table +
                                " limit 1\").fetchall()[0][0])' 2>&1");
  return r.out;
}

// Issue 11 item 3: after pa-gen's parse the worker preloads that parse's
// manifest and batches are served from it (the children's markers in the
// worker log, and `worker status`); an edit between the parse and a batch
// is caught (the child reads the files as dbt does) and the warehouse is
// still right; the run_results.json of each batch is dbt's own, complete.
TEST_F(WorkerTest, BatchesUseThePreloadedManifestAndAnEditBeforeABatchIsCaught) {
  fs::path project = root_ / "preload";
  CopyExample(project);
  Result build = Shell(project, kBuild);
  ASSERT_EQ(build.code, 0) << build.out;
  EXPECT_EQ(build.out.find("warning: dbt worker"), std::string::npos) << build.out;
  EXPECT_EQ(WarehouseDigest(project), reference_);
  std::string log = WorkerLog(project);
  EXPECT_NE(log.find("preload: loaded " + (project / ".pa/parse/partial_parse.msgpack").string()),
            std::string::npos)
      << log;
  size_t served = Count(log, "preload: build served from the preloaded manifest");
  EXPECT_GE(served, 2u) << log;  // every batch after the parse
  EXPECT_EQ(Count(log, "preload: files not reused"), 0u) << log;
  Result status = Shell(project, "'" + kPaGen.string() + "' worker status");
  EXPECT_NE(status.out.find("preloaded " + (project / ".pa/parse/partial_parse.msgpack").string()),
            std::string::npos)
      << status.out;
  // Each batch's run_results.json: dbt's schema, every result a success; a
  // preloaded build skips manifest.json and graph.gpickle, which pa-gen never reads.
  int batches = 0;
  for (const auto& e : fs::directory_iterator(project / ".pa" / "run")) {
    fs::path target = e.path() / "target";
    if (!fs::exists(target / "run_results.json")) continue;
    ++batches;
    std::string results = Read(target / "run_results.json");
    EXPECT_NE(results.find("https://schemas.getdbt.com/dbt/run-results/v6.json"), std::string::npos)
        << target;
    EXPECT_FALSE(fs::exists(target / "manifest.json")) << target;
  }
  EXPECT_GE(batches, 2);
  std::string statuses = Statuses(project);
  EXPECT_EQ(statuses.find(" error"), std::string::npos) << statuses;
  EXPECT_EQ(statuses.find(" skipped"), std::string::npos) << statuses;
  EXPECT_NE(statuses.find("model.planalign.rpt_headcount_by_age_band success"), std::string::npos)
      << statuses;

  // An edit, then pa-gen's parse (the worker loads the new manifest), then
  // another edit of the same model before its batch runs.
  fs::path model = project / "models" / "marts" / "rpt_headcount_by_age_band.sql";
  std::string sql = Read(model);
  const std::string anchor = "as simulation_year,";
  ASSERT_NE(sql.find(anchor), std::string::npos);
  auto edit = [&](int n) {
    std::string s = sql;
    s.insert(s.find(anchor) + anchor.size(), " " + std::to_string(n) + " as pa_edit,");
    Write(model, s);
  };
  edit(7);
  Result regen = Shell(project, "'" + kPaGen.string() + "' --profiles-dir . --policy folder");
  ASSERT_EQ(regen.code, 0) << regen.out;
  // The zygote loads the new file before it accepts another connection, so
  // this answer comes after the load (as a batch's would).
  std::string before = status.out;
  status = Shell(project, "'" + kPaGen.string() + "' worker status");
  EXPECT_NE(status.out.find("preloaded "), std::string::npos) << status.out;
  EXPECT_NE(PreloadSha(status.out), PreloadSha(before)) << before << status.out;
  EXPECT_EQ(Count(WorkerLog(project), "preload: loaded "), 2u) << WorkerLog(project);
  edit(8);
  Result batch = Shell(project, "b=$(grep -l rpt_headcount_by_age_band .pa/state/*.json | head -1); "
                                "b=$(basename $b .json); ninja -t commands .pa/stamps/$b.stamp | "
                                "tail -1 > cmd.sh; sh cmd.sh");
  EXPECT_EQ(batch.code, 0) << batch.out;
  EXPECT_EQ(batch.out.find("warning: dbt worker"), std::string::npos) << batch.out;
  log = WorkerLog(project);
  EXPECT_NE(log.find("preload: files not reused for build: " + model.string() + " changed"),
            std::string::npos)
      << log;
  EXPECT_EQ(Cell(project, "rpt_headcount_by_age_band", "pa_edit"), "8\n");
  // pa-gen then sees the edit as usual and builds what it affects, again
  // from a preloaded manifest.
  Result again = Shell(project, kBuild);
  EXPECT_EQ(again.code, 0) << again.out;
  EXPECT_EQ(Cell(project, "rpt_headcount_by_age_band", "pa_edit"), "8\n");
  Shell(project, "'" + kPaGen.string() + "' worker status");
  log = WorkerLog(project);
  EXPECT_EQ(Count(log, "preload: loaded "), 3u) << log;
  EXPECT_GT(Count(log, "preload: build served from the preloaded manifest"), served) << log;
  // Back to the original SQL: the warehouse equals plain dbt's again.
  Write(model, sql);
  Result back = Shell(project, kBuild);
  EXPECT_EQ(back.code, 0) << back.out;
  EXPECT_EQ(WarehouseDigest(project), reference_);
}

// `file`'s manifest.json with what differs between two parses of the same
// files left out (when and by which invocation), keys sorted.
std::string ComparableManifest(const fs::path& project, const std::string& file) {
  Result r = Shell(project, "'" + (kVenv / "python").string() +
                                "' -c 'import json,sys\n"
                                "def strip(x):\n"
                                "  if isinstance(x, dict): return {k: strip(v) for k, v in x.items() if k != \"created_at\"}\n"
                                "  if isinstance(x, list): return [strip(v) for v in x]\n"
                                "  return x\n"
                                "m = json.load(open(sys.argv[1]))\n"
                                "for k in (\"generated_at\", \"invocation_id\", \"invocation_started_at\", \"run_started_at\"): m[\"metadata\"].pop(k, None)\n"
                                "print(json.dumps(strip(m), sort_keys=True))' " + file);
  return r.out;
}

// Checks that pa-gen's last parse (.pa/parse/manifest.json) is the manifest
// a fresh `dbt parse <args>` writes into fresh/; returns ours, comparable.
std::string ManifestEqualsAFreshParse(const fs::path& project, const std::string& args) {
  Result fresh = Shell(project, "DO_NOT_TRACK=1 '" + (kVenv / "dbt").string() +
                                    "' parse --profiles-dir . --target-path fresh --log-path fresh " + args);
  EXPECT_EQ(fresh.code, 0) << fresh.out;
  std::string ours = ComparableManifest(project, ".pa/parse/manifest.json");
  EXPECT_GT(ours.size(), 1000u);
  EXPECT_EQ(ours, ComparableManifest(project, "fresh/manifest.json"));
  return ours;
}

// The zygote builds what dbt makes lazily per class (JSON schemas, codecs)
// once children have reported it, and a new worker starts with what the
// last one learnt (<socket>.warm). A parse forked from a warmed zygote gives
// the manifest a fresh dbt process gives from the same partial-parse file,
// and the batches after it the warehouse of plain dbt.
TEST_F(WorkerTest, AWarmedZygoteParsesAndBuildsAsAFreshDbt) {
  fs::path project = root_ / "warm";
  CopyExample(project);
  Result build = Shell(project, kBuild);
  ASSERT_EQ(build.code, 0) << build.out;
  EXPECT_EQ(WarehouseDigest(project), reference_);
  std::string log = WorkerLog(project);
  EXPECT_NE(log.find("warm-up: "), std::string::npos) << log;
  Result warm = Shell(project, "cat .pa/worker/*.warm");
  // A schema the parse builds (the zygote's known warm-up covers the
  // project's and profile's contracts, so the children never report those).
  // (Each entry then names the commands whose children built it.)
  EXPECT_NE(warm.out.find("[\"schema\", \"dbt.contracts.graph.nodes\", \"ModelNode\", \"\", \"parse"),
            std::string::npos)
      << warm.out;

  // An edit: pa-gen's parse runs in a child of the warmed zygote; a fresh
  // dbt parses the same edit from the same partial-parse file beside it.
  ASSERT_EQ(Shell(project, "cp .pa/parse/partial_parse.msgpack before.msgpack").code, 0);
  fs::path model = project / "models" / "marts" / "rpt_headcount_by_age_band.sql";
  std::string sql = Read(model);
  const std::string anchor = "as simulation_year,";
  ASSERT_NE(sql.find(anchor), std::string::npos);
  std::string edited = sql;
  edited.insert(edited.find(anchor) + anchor.size(), " 9 as pa_edit,");
  Write(model, edited);
  Result regen = Shell(project, "'" + kPaGen.string() + "' --profiles-dir .");
  ASSERT_EQ(regen.code, 0) << regen.out;
  std::string ours = ManifestEqualsAFreshParse(project, "--partial-parse-file-path before.msgpack");
  EXPECT_NE(ours.find("9 as pa_edit"), std::string::npos);
  Result again = Shell(project, kBuild);
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_EQ(again.out.find("warning: dbt worker"), std::string::npos) << again.out;
  EXPECT_EQ(Cell(project, "rpt_headcount_by_age_band", "pa_edit"), "9\n");

  // A new worker starts warm from the file, and builds the same.
  Shell(project, "'" + kPaGen.string() + "' worker stop");
  Write(model, sql);
  Result back = Shell(project, kBuild);
  ASSERT_EQ(back.code, 0) << back.out;
  log = WorkerLog(project);
  EXPECT_NE(log.find("warm-up: "), std::string::npos) << log;
  EXPECT_NE(log.find(".warm ("), std::string::npos) << log;  // "warm-up: N from <file> (s)"
  EXPECT_EQ(WarehouseDigest(project), reference_);
  // The old manifest a reload dropped is collected once the worker is idle.
  Shell(project, "sleep 4");
  log = WorkerLog(project);
  EXPECT_NE(log.find("gc: "), std::string::npos) << log;
  Result status = Shell(project, "'" + kPaGen.string() + "' worker status");
  EXPECT_NE(status.out.find("preloaded "), std::string::npos) << status.out;
}

// A cache folder and a runtime folder (the worker's script,
// $XDG_RUNTIME_DIR/pa-gen) of a test's own under `own`, as shell exports.
std::string OwnCacheAndRuntime(const fs::path& own) {
  fs::create_directories(own / "cache");
  fs::create_directories(own / "runtime");
  fs::permissions(own / "runtime", fs::perms::owner_all);
  return "export XDG_CACHE_HOME='" + (own / "cache").string() + "' XDG_RUNTIME_DIR='" +
         (own / "runtime").string() + "'; ";
}

// What children built is also kept in one warm file per dbt installation
// under $XDG_CACHE_HOME/pa-gen, so a project that never ran starts warm. The
// file names only dbt's classes and files (nothing of a project), and one
// that is corrupt is ignored and replaced whole.
//
// The test has a cache folder and a runtime folder (the worker's script,
// $XDG_RUNTIME_DIR/pa-gen) of its own: what other tests of this process
// left in the suite's cache, or their workers, still running, write there,
// and the scripts other builds of pa-gen left in /tmp/pa-gen-<uid>, change
// nothing it counts.
TEST_F(WorkerTest, AFreshProjectStartsWarmFromTheSharedFile) {
  fs::path own = root_ / "shared-env";
  const std::string env = OwnCacheAndRuntime(own);
  const std::string stop = env + "'" + kPaGen.string() + "' worker stop";
  fs::path cache = own / "cache" / "pa-gen";
  fs::path first = root_ / "shared1";
  CopyExample(first);
  Result a = Shell(first, env + kBuild);
  ASSERT_EQ(a.code, 0) << a.out;
  Shell(first, stop);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(cache))
    if (e.path().filename().string().rfind("warm-", 0) == 0) files.push_back(e.path());  // not the trees or schemas
  ASSERT_EQ(files.size(), 1u);
  std::string shared = Read(files[0]);
  EXPECT_NE(shared.find("\"dbt.contracts.graph.nodes\""), std::string::npos) << shared;
  EXPECT_EQ(shared.find(first.string()), std::string::npos) << "no project path in the shared file";
  EXPECT_EQ(shared.find("planalign"), std::string::npos) << shared;
  EXPECT_TRUE(fs::exists(own / "runtime" / "pa-gen")) << "the worker's script is the test's own";

  // A second project's worker queues the entries before its first request.
  fs::path second = root_ / "shared2";
  CopyExample(second);
  Result b = Shell(second, env + kBuild);
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_EQ(WarehouseDigest(second), reference_);
  std::string log = WorkerLog(second);
  std::regex queued("warm-up: ([0-9]+) from " + files[0].string());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m, queued)) << log;
  EXPECT_GT(std::stoi(m[1]), 10) << log;
  Shell(second, stop);

  // Corrupt: ignored (the build is right), then written whole again.
  Write(files[0], "[[\"schema\", \"dbt.contracts");
  Shell(second, "rm -rf .pa/worker");
  Result c = Shell(second, env + "'" + kPaGen.string() + "' --profiles-dir . --policy folder forget >/dev/null && " + kBuild);
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_EQ(WarehouseDigest(second), reference_);
  log = WorkerLog(second);
  EXPECT_NE(log.find("warm-up: 0 from " + files[0].string()), std::string::npos) << log;
  Shell(second, stop + "; sleep 2");
  Result valid = Shell(second, "'" + (kVenv / "python").string() + "' -c 'import json,sys; json.load(open(sys.argv[1]))' '" +
                                   files[0].string() + "'");
  EXPECT_EQ(valid.code, 0) << valid.out << Read(files[0]);
}

// The zygote parses the macros of dbt and its adapters once per
// installation while idle and keeps the trees in $XDG_CACHE_HOME/pa-gen
// (the installation's texts only), and the JSON schemas of dbt's contracts
// beside them; a later worker's first parse of another project reuses both
// rather than building them, and gives the manifest a fresh dbt parse
// gives, and plain dbt's warehouse. (Batches reuse them too.) Corrupt files
// are ignored and written anew.
TEST_F(WorkerTest, AFirstParseReusesTheInstallationsMacroTreesAndEqualsAFreshDbt) {
  fs::path own = root_ / "jinja-env";
  const std::string env = OwnCacheAndRuntime(own);
  const std::string stop = env + "'" + kPaGen.string() + "' worker stop";
  fs::path first = root_ / "jinja1";
  CopyExample(first);
  Result a = Shell(first, env + "'" + kPaGen.string() + "' --profiles-dir .");
  ASSERT_EQ(a.code, 0) << a.out;
  // The trees are built while the zygote is idle: after the parse, at most
  // some seconds later on a loaded machine; the schemas the parse built
  // itself (a node's) once the zygote has built them from its report.
  std::vector<fs::path> files, schema_files;
  auto learnt = [&] { return !schema_files.empty() && Read(schema_files[0]).find("\"ModelNode\"") != std::string::npos; };
  for (int i = 0; i < 600 && (files.empty() || !learnt()); ++i) {
    files.clear();
    schema_files.clear();
    for (const auto& e : fs::directory_iterator(own / "cache" / "pa-gen")) {
      if (e.path().extension() == ".pickle") files.push_back(e.path());
      if (e.path().filename().string().rfind("schemas-", 0) == 0) schema_files.push_back(e.path());
    }
    if (files.empty() || !learnt()) Shell(first, "sleep 0.2");
  }
  ASSERT_EQ(files.size(), 1u) << WorkerLog(first);
  ASSERT_EQ(schema_files.size(), 1u) << WorkerLog(first);
  ASSERT_TRUE(learnt()) << WorkerLog(first);
  Shell(first, stop);
  for (const fs::path& file : {files[0], schema_files[0]}) {
    std::string kept = Read(file);
    EXPECT_GT(kept.size(), 10000u) << file;
    EXPECT_EQ(kept.find(first.string()), std::string::npos) << "no project path in " << file;
    EXPECT_EQ(kept.find("planalign"), std::string::npos) << "no project text in " << file;
  }

  fs::path second = root_ / "jinja2";
  CopyExample(second);
  Result b = Shell(second, env + kBuild);
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_EQ(b.out.find("warning: dbt worker"), std::string::npos) << b.out;
  std::string log = WorkerLog(second);
  EXPECT_NE(log.find("macro trees from " + files[0].string()), std::string::npos) << log;
  EXPECT_NE(log.find("jinja: macro trees reused, not parsed again"), std::string::npos) << log;
  EXPECT_NE(log.find(" from " + schema_files[0].string()), std::string::npos) << log;  // "schemas: N of M from"
  EXPECT_EQ(WarehouseDigest(second), reference_);
  ManifestEqualsAFreshParse(second, "--no-partial-parse");
  Shell(second, stop);

  // Corrupt: ignored, and the build is right.
  Write(files[0], "not a pickle");
  Write(schema_files[0], "{\"v\": 1, \"schemas\": [[\"dbt.contracts");
  fs::path third = root_ / "jinja3";
  CopyExample(third);
  Result c = Shell(third, env + kBuild);
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_EQ(WarehouseDigest(third), reference_);
  log = WorkerLog(third);
  EXPECT_NE(log.find("jinja: ignoring " + files[0].string()), std::string::npos) << log;
  EXPECT_NE(log.find("macro trees parsed into " + files[0].string()), std::string::npos)
      << "written whole again\n" << log;
  EXPECT_NE(log.find("schemas: ignoring " + schema_files[0].string()), std::string::npos) << log;
  Shell(third, stop);
}

// What a `dbt build` selected and how it ended: its exit code, every
// result of target/run_results.json as "<unique_id> <status>", and its
// summary lines (what it found, an empty selection, the totals) without
// their timestamps.
std::string BuildOutcome(CommandRunner& runner, const fs::path& project, const std::vector<std::string>& args,
                         const std::vector<std::pair<std::string, std::string>>& env = {}) {
  CommandRequest r;
  r.argv = {(kVenv / "dbt").string(), "build", "--profiles-dir", "."};
  r.argv.insert(r.argv.end(), args.begin(), args.end());
  r.cwd = project;
  r.output = project / "out.txt";
  r.env = DbtEnvironment();
  r.env.insert(r.env.end(), env.begin(), env.end());
  fs::remove(project / "target" / "run_results.json");
  CommandResult result;
  std::string err;
  EXPECT_TRUE(runner.Run(r, &result, &err)) << err;
  std::string outcome = "exit " + std::to_string(result.exit_code) + " by " + result.ran_by + "\n";
  Result rows = Shell(project, "'" + (kVenv / "python").string() +
                                   "' -c 'import json\n"
                                   "try: d=json.load(open(\"target/run_results.json\"))\n"
                                   "except OSError: print(\"no run_results.json\"); raise SystemExit\n"
                                   "print(\"\\n\".join(sorted(x[\"unique_id\"]+\" \"+x[\"status\"] for x in d[\"results\"])))'");
  outcome += rows.out;
  std::istringstream out(Read(project / "out.txt"));
  static const std::regex stamp("^[0-9]{2}:[0-9]{2}:[0-9]{2}  ");
  for (std::string line; std::getline(out, line);)
    for (const char* what : {"Found ", "does not match any enabled nodes", "Nothing to do", "Done. PASS="})
      if (line.find(what) != std::string::npos) {
        outcome += std::regex_replace(line, stamp, "") + "\n";
        break;
      }
  return outcome;
}

// The worker's child resolves each selector of a `dbt build` once instead
// of once per pass (install_selection_once): every selection selects, runs
// and ends as in a fresh dbt. Several selectors, unit tests, --exclude,
// cautious and eager indirect selection, tests gated on a failing model,
// --exclude-resource-type, an empty selection (warned, or an error under
// --warn-error-options) and a `selector:` of selectors.yml (which is not
// kept).
TEST_F(WorkerTest, SelectionsSelectAndEndAsInAFreshDbt) {
  fs::path project = root_ / "selection";
  CopyExample(project);
  fs::create_directories(project / "models" / "pa_sel");
  Write(project / "models" / "pa_sel" / "pa_broken.sql", "select * from nowhere_at_all\n");
  Write(project / "models" / "pa_sel" / "pa_after_broken.sql", "select * from {{ ref('pa_broken') }}\n");
  Write(project / "models" / "pa_sel" / "_pa_sel.yml",
        "models:\n  - name: pa_broken\n    columns:\n      - name: id\n        data_tests: [not_null]\n");
  Write(project / "selectors.yml",
        "selectors:\n  - name: pa_pick\n    definition:\n      union:\n        - method: fqn\n          value: staging\n"
        "        - exclude:\n            - method: fqn\n              value: stg_census\n");
  SubprocessRunner fresh;
  WorkerRunner worker(fresh);
  // The whole project once (pa_broken fails), so that every case finds the
  // warehouse as the one before left it, the same for both arms.
  Result all = Shell(project, "DO_NOT_TRACK=1 '" + (kVenv / "dbt").string() + "' build --profiles-dir . -q");
  ASSERT_EQ(all.code, 1) << all.out;
  const std::string no_nodes = R"({"error":["NoNodesForSelectionCriteria"]})";
  const std::vector<std::vector<std::string>> selections = {
      {"--select", "staging", "intermediate.int_merit_increases+", "tag:reporting"},
      {"--select", "staging", "intermediate", "--exclude", "stg_census", "int_employer_match"},
      {"--select", "fct_workforce_snapshot", "stg_plan_design", "--indirect-selection", "cautious"},
      {"--select", "fct_workforce_snapshot", "stg_plan_design"},
      {"--select", "pa_sel", "stg_census"},
      {"--select", "intermediate", "--exclude-resource-type", "unit_test"},
      {"--select", "no_such_model"},
      {"--select", "no_such_model", "--warn-error-options", no_nodes},
      {"--select", "staging.stg_census", "no_such_model", "--warn-error-options", no_nodes},
      {"--select", "selector:pa_pick", "audit", "--exclude", "stg_departments"},
  };
  for (const auto& args : selections) {
    std::string a = BuildOutcome(fresh, project, args);
    std::string b = BuildOutcome(worker, project, args);
    EXPECT_NE(a.find("Found "), std::string::npos) << a;
    EXPECT_EQ(b, std::regex_replace(a, std::regex(" by process\n"), " by worker\n")) << args[1];
  }
  // What the cases ran: selected, gated and empty as meant.
  std::string gated = BuildOutcome(worker, project, selections[4]);
  EXPECT_NE(gated.find("exit 1 by worker"), std::string::npos) << gated;
  EXPECT_NE(gated.find("model.planalign.pa_broken error"), std::string::npos) << gated;
  EXPECT_NE(gated.find("model.planalign.pa_after_broken skipped"), std::string::npos) << gated;
  EXPECT_NE(gated.find("test.planalign.not_null_pa_broken_id"), std::string::npos) << gated;
  EXPECT_NE(gated.find("model.planalign.stg_census success"), std::string::npos) << gated;
  std::string units = BuildOutcome(worker, project, selections[0]);
  EXPECT_NE(units.find("unit_test.planalign."), std::string::npos) << units;
  EXPECT_NE(BuildOutcome(worker, project, selections[7]).find("exit 2 by worker"), std::string::npos);
  std::string log = WorkerLog(project);
  EXPECT_NE(log.find("selection: criteria resolved once, reused by the later passes"), std::string::npos) << log;
}

// Issue 11: the worker's child writes dbt's artifacts with the same bytes
// as dbt's own write_json (install_one_shot_write_json): the manifest.json
// of a parse from the same partial-parse file, with and without the cut
// (PA_WORKER_DBT_WRITE_JSON=1 in the worker's environment), differs only in
// when and by which invocation it was written; a build's run_results.json
// is in the encoding json.dump gives.
TEST_F(WorkerTest, ArtifactsAreWrittenWithDbtsBytes) {
  fs::path project = root_ / "artifacts";
  CopyExample(project);
  ASSERT_EQ(Shell(project, "DO_NOT_TRACK=1 '" + (kVenv / "dbt").string() +
                               "' parse --profiles-dir . --target-path base -q").code, 0);
  SubprocessRunner fresh;
  auto parse = [&](const std::string& target, const std::vector<std::pair<std::string, std::string>>& env) {
    WorkerRunner worker(fresh);
    CommandRequest r;
    r.argv = {(kVenv / "dbt").string(), "parse", "--profiles-dir", ".", "--target-path", target,
              "--partial-parse-file-path", "base/partial_parse.msgpack"};
    r.cwd = project;
    r.output = project / (target + ".out");
    r.env = DbtEnvironment();
    r.env.insert(r.env.end(), env.begin(), env.end());
    CommandResult result;
    std::string err;
    EXPECT_TRUE(worker.Run(r, &result, &err)) << err;
    EXPECT_EQ(result.exit_code, 0) << Read(r.output);
    EXPECT_EQ(result.ran_by, "worker");
    Shell(project, "'" + kPaGen.string() + "' worker stop");
    static const std::regex when(R"re("(generated_at|invocation_id|invocation_started_at)": "[^"]*")re");
    return std::regex_replace(Read(project / target / "manifest.json"), when, "\"$1\": \"\"");
  };
  std::string ours = parse("ours", {});
  std::string dbts = parse("dbts", {{"PA_WORKER_DBT_WRITE_JSON", "1"}});
  EXPECT_GT(ours.size(), 100000u);
  EXPECT_TRUE(ours == dbts) << "manifest.json differs: ours/manifest.json, dbts/manifest.json in " << project;
  WorkerRunner worker(fresh);
  std::string outcome = BuildOutcome(worker, project, {"--select", "+staging", "--indirect-selection", "cautious"});
  EXPECT_NE(outcome.find("exit 0 by worker"), std::string::npos) << outcome;
  Result same = Shell(project, "'" + (kVenv / "python").string() +
                                   "' -c 'import json\n"
                                   "t=open(\"target/run_results.json\").read()\n"
                                   "assert json.dumps(json.loads(t)) == t and len(t) > 1000'");
  EXPECT_EQ(same.code, 0) << same.out;
}

// Every batch's target/graph_summary.json, with only the invocation id left
// out: as written (`exact`, node indices in dbt's insertion order), or each
// node by name with its successors' names sorted. Two projects parsed by two
// processes may list the manifest's nodes in different orders (string
// hashing differs per process), so only the second compares across them.
std::string GraphSummaries(const fs::path& project, bool exact) {
  Result r = Shell(project, "'" + (kVenv / "python").string() +
                                "' -c 'import json,glob,sys\n"
                                "exact=sys.argv[1]==\"1\"\n"
                                "for f in sorted(glob.glob(\".pa/run/*/target/graph_summary.json\")):\n"
                                "  d=json.load(open(f)); d.pop(\"_invocation_id\")\n"
                                "  if not exact:\n"
                                "    for k,g in d.items():\n"
                                "      d[k]=sorted((n[\"name\"],n[\"type\"],sorted(g[str(i)][\"name\"] for i in n.get(\"succ\",[])))"
                                " for n in g.values())\n"
                                "  print(f.split(\"/\")[2], json.dumps(d))' " + (exact ? "1" : "0"));
  return r.out;
}

// Issue 11: the zygote links the preloaded manifest's graph and its fast
// test edges once (prelink), and a child served from that manifest unchanged
// takes them instead of linking again: every batch's graph (graph_summary.json,
// order included), statuses and warehouse equal fresh processes'. A child
// whose manifest differs (an edit that adds a ref, read by the child before
// the regeneration) links with dbt's code and gets a fresh dbt's graph too.
TEST_F(WorkerTest, PrelinkedGraphsEqualAFreshDbts) {
  fs::path project = root_ / "prelink";
  fs::path fresh = root_ / "prelink_fresh";
  auto [a, b] = BuildWithAndWithoutTheWorker(project, fresh);
  ASSERT_EQ(a.code, 0) << a.out;
  ASSERT_EQ(b.code, 0) << b.out;
  std::string graphs = GraphSummaries(project, false);
  EXPECT_NE(graphs.find("with_test_edges"), std::string::npos) << graphs;
  EXPECT_EQ(graphs, GraphSummaries(fresh, false));
  // Order included, against a fresh dbt on the same parse: each prelinked
  // batch run again in a fresh process (its state removed, so that every
  // member runs; its graph_summary.json removed, so that one not rewritten
  // fails the comparison).
  std::string prelinked = GraphSummaries(project, true);
  Result again = Shell(project, "export PA_NO_WORKER=1; rm -rf .pa/state .pa/run/*/target/graph_summary.json; "
                                "for s in .pa/stamps/*.stamp; do "
                                "ninja -t commands $s | tail -1 > cmd.sh; sh cmd.sh || exit 1; done");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_EQ(prelinked, GraphSummaries(project, true));
  EXPECT_EQ(Statuses(project), Statuses(fresh));
  EXPECT_EQ(WarehouseDigest(project), reference_);
  std::string log = WorkerLog(project);
  EXPECT_NE(log.find("prelink: linked "), std::string::npos) << log;
  size_t linked = Count(log, "prelink: graph linked in the zygote, reused");
  EXPECT_GE(linked, 2u) << log;  // every batch
  EXPECT_EQ(Count(log, "prelink: test edges added in the zygote, reused"), linked) << log;

  fs::path model = project / "models" / "marts" / "rpt_headcount_by_age_band.sql";
  Write(model, "-- depends_on: {{ ref('stg_census') }}\n" + Read(model));
  const std::string batch = "b=$(grep -l rpt_headcount_by_age_band .pa/state/*.json | head -1); "
                            "b=$(basename $b .json); ninja -t commands .pa/stamps/$b.stamp | tail -1 > cmd.sh; "
                            "sh cmd.sh && cat .pa/run/$b/target/graph_summary.json";
  static const std::regex id(R"re("_invocation_id": "[^"]*")re");
  Result ours = Shell(project, batch);
  EXPECT_EQ(ours.code, 0) << ours.out;
  EXPECT_EQ(Count(WorkerLog(project), "prelink: graph linked in the zygote, reused"), linked);
  Result dbts = Shell(project, "export PA_NO_WORKER=1; " + batch);
  EXPECT_EQ(dbts.code, 0) << dbts.out;
  auto graph = [&](const std::string& out) {
    size_t at = out.find("{\"_invocation_id\"");
    return at == std::string::npos ? out : std::regex_replace(out.substr(at), id, "");
  };
  std::string g1 = graph(ours.out), g2 = graph(dbts.out);
  EXPECT_NE(g1.find("model.planalign.stg_census"), std::string::npos) << g1;
  EXPECT_EQ(g1, g2);
}

// Issue 11: after an edit, the zygote decodes only the members of the new
// partial-parse file whose bytes changed (decode_manifest). With
// PA_WORKER_CHECK_DECODE=1 it also decodes the whole file with dbt's code
// and logs whether both manifests are the same; two edits (one that changes
// the SQL only, one that adds a ref), each rebuilt through the worker, against
// a copy built the same way with dbt's own decode (PA_WORKER_DBT_DECODE=1):
// same statuses, graphs and warehouse, every batch served from the preload.
TEST_F(WorkerTest, AReloadDecodesOnlyWhatChangedAsDbtDoes) {
  fs::path project = root_ / "decode";
  fs::path dbts = root_ / "decode_dbt";
  CopyExample(project);
  CopyExample(dbts);
  const std::string ours_env = "export PA_WORKER_CHECK_DECODE=1; ";
  const std::string dbts_env = "export PA_WORKER_DBT_DECODE=1; ";
  ASSERT_EQ(Shell(project, ours_env + kBuild).code, 0);
  ASSERT_EQ(Shell(dbts, dbts_env + kBuild).code, 0);
  const std::string rel = "models/marts/rpt_headcount_by_age_band.sql";
  std::string sql = Read(project / rel);
  const std::string anchor = "as simulation_year,";
  ASSERT_NE(sql.find(anchor), std::string::npos);
  std::string edited = sql;
  edited.insert(edited.find(anchor) + anchor.size(), " 7 as pa_edit,");
  for (const std::string& text : {edited, "-- depends_on: {{ ref('stg_census') }}\n" + edited}) {
    for (const fs::path& p : {project, dbts}) {
      Write(p / rel, text);
      Result r = Shell(p, (p == project ? ours_env : dbts_env) + kBuild);
      ASSERT_EQ(r.code, 0) << r.out;
      EXPECT_EQ(r.out.find("warning: dbt worker"), std::string::npos) << r.out;
    }
    EXPECT_EQ(Statuses(project), Statuses(dbts));
    EXPECT_EQ(GraphSummaries(project, false), GraphSummaries(dbts, false));
    EXPECT_EQ(Cell(project, "rpt_headcount_by_age_band", "pa_edit"), "7\n");
    EXPECT_EQ(WarehouseDigest(project), WarehouseDigest(dbts));
  }
  std::string log = WorkerLog(project);
  EXPECT_EQ(Count(log, "preload: loaded "), 3u) << log;
  EXPECT_EQ(Count(log, "decode: equal to a whole decode"), 2u) << log;  // both reloads
  EXPECT_EQ(Count(log, "DIFFERENT"), 0u) << log;
  static const std::regex reused(R"re(files, (\d+) members reused)re");
  std::vector<int> counts;
  for (std::sregex_iterator m(log.begin(), log.end(), reused), end; m != end; ++m)
    counts.push_back(std::stoi((*m)[1]));
  ASSERT_EQ(counts.size(), 3u) << log;
  EXPECT_EQ(counts[0], 0) << log;  // the first load decodes it all
  EXPECT_GT(counts[1], 100) << log;
  EXPECT_GT(counts[2], 100) << log;
  std::string dlog = WorkerLog(dbts);
  EXPECT_EQ(Count(dlog, " 0 members reused"), 3u) << dlog;
  EXPECT_EQ(Count(dlog, "decode: "), 0u) << dlog;
  EXPECT_EQ(Count(log, "preload: files not reused for build"), 0u) << log;
  EXPECT_EQ(Count(log, "preload: build served from the preloaded manifest"),
            Count(dlog, "preload: build served from the preloaded manifest")) << log << dlog;
  // Back to the original SQL: plain dbt's warehouse again.
  Write(project / rel, sql);
  ASSERT_EQ(Shell(project, ours_env + kBuild).code, 0);
  EXPECT_EQ(WarehouseDigest(project), reference_);
  EXPECT_EQ(Count(WorkerLog(project), "decode: equal to a whole decode"), 3u);
}

// Every batch's logs/dbt.log as "<batch> <event name> <count>" lines.
// Not the connection events (NewConnection, ConnectionReused,
// ConnectionClosedInCleanup, ...): which of dbt's threads takes a node, and
// so whether it opens a connection or reuses one, is up to the scheduler.
std::string LoggedEvents(const fs::path& project) {
  return PythonOutput(project,
                      "import json,glob,collections\n"
                      "for f in sorted(glob.glob(\".pa/run/*/logs/dbt.log\")):\n"
                      "  c=collections.Counter(n for n in (json.loads(l)[\"info\"][\"name\"] for l in open(f)) if \"Connection\" not in n)\n"
                      "  for k in sorted(c): print(f.split(\"/\")[2], k, c[k])");
}

// Issue 11: the child drops the adapter cache's CacheAction events (one per
// relation cached) before dbt builds their messages when no logger or
// callback would take them (install_quiet_cache_events). A build through
// the worker against one with dbt's own fire_event
// (PA_WORKER_DBT_CACHE_EVENTS=1): the same events in every batch's dbt.log,
// statuses and warehouse; with --log-cache-events (dbt's console then shows
// them) nothing is dropped and the console says what dbt's says.
TEST_F(WorkerTest, CacheEventsNoLoggerTakesAreDroppedUnbuilt) {
  fs::path project = root_ / "cache_events";
  fs::path dbts = root_ / "cache_events_dbt";
  CopyExample(project);
  CopyExample(dbts);
  const std::string dbts_env = "export PA_WORKER_DBT_CACHE_EVENTS=1; ";
  Result a = Shell(project, kBuild);
  ASSERT_EQ(a.code, 0) << a.out;
  Result b = Shell(dbts, dbts_env + kBuild);
  ASSERT_EQ(b.code, 0) << b.out;
  std::string events = LoggedEvents(project);
  EXPECT_NE(events.find(" SQLQuery "), std::string::npos) << events;
  EXPECT_EQ(events.find("CacheAction"), std::string::npos) << events;
  EXPECT_EQ(events, LoggedEvents(dbts));
  EXPECT_EQ(Statuses(project), Statuses(dbts));
  EXPECT_EQ(WarehouseDigest(project), reference_);
  EXPECT_EQ(WarehouseDigest(dbts), reference_);
  const std::string dropped = "cache events: dropped before their messages were built";
  size_t n = Count(WorkerLog(project), dropped);
  EXPECT_GE(n, 2u) << WorkerLog(project);  // every batch
  EXPECT_EQ(Count(WorkerLog(dbts), dropped), 0u) << WorkerLog(dbts);

  // --log-cache-events --debug: dbt's console shows every cache event.
  SubprocessRunner fresh;
  auto console = [&](const fs::path& p) {
    WorkerRunner worker(fresh);
    std::string outcome = BuildOutcome(worker, p, {"--select", "staging", "--log-cache-events", "--debug"});
    EXPECT_NE(outcome.find("exit 0 by worker"), std::string::npos) << outcome;
    std::istringstream out(Read(p / "out.txt"));
    std::set<std::string> lines;  // each relation once, in any order
    for (std::string line; std::getline(out, line);)
      if (size_t at = line.find("adding relation: "); at != std::string::npos) lines.insert(line.substr(at));
    for (const std::string& line : lines) outcome += line + "\n";
    return outcome;
  };
  std::string ours = console(project);
  EXPECT_NE(ours.find("adding relation: "), std::string::npos) << ours;
  EXPECT_EQ(ours, console(dbts));
  EXPECT_EQ(Count(WorkerLog(project), dropped), n) << WorkerLog(project);
}

// A project whose path is too long for a socket inside it has its worker's
// socket in /tmp (or $XDG_RUNTIME_DIR), reached through the link
// .pa/worker/<hash>.sock. Once the project is deleted the worker exits
// within its idle loop's second and removes that socket, rather than live
// on for its idle time with a socket no pa-gen can find.
TEST(WorkerOutsideTheProject, ExitsAndRemovesItsSocketWhenTheProjectIsDeleted) {
  fs::path root = TestRoot();
  fs::path project = root / std::string(100, 'p');
  fs::create_directories(project / "models");
  Write(project / "dbt_project.yml", "name: far\nprofile: far\nconfig-version: 2\nmodel-paths: [models]\n");
  Write(project / "profiles.yml",
        "far:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: far.duckdb\n");
  Write(project / "models" / "one.sql", "select 1 as id\n");
  Result gen = Shell(project, "'" + kPaGen.string() + "' --profiles-dir .");  // dbt parse, in the worker
  ASSERT_EQ(gen.code, 0) << gen.out;
  fs::path entry, socket;
  for (const auto& e : fs::directory_iterator(project / ".pa" / "worker"))
    if (e.path().extension() == ".sock") entry = e.path();
  ASSERT_TRUE(fs::is_symlink(entry)) << entry;
  socket = fs::read_symlink(entry);
  ASSERT_TRUE(fs::exists(socket)) << socket;
  Result status = Shell(project, "'" + kPaGen.string() + "' worker status | sed -n 's/.*: pid \\([0-9]*\\),.*/\\1/p'");
  int pid = std::atoi(status.out.c_str());
  ASSERT_GT(pid, 0) << status.out;

  fs::remove_all(project);
  auto alive = [pid] {  // a zombie (no one reaped it yet) has exited
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    size_t paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
  };
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = !alive() && !fs::exists(socket);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(gone) << "worker " << pid << " or " << socket << " still there";
  if (alive()) kill(pid, SIGTERM);
  RemoveUnlessFailed(root);
}

// The SQL dbt wrote for every batch (target/compiled and target/run), as
// "<path under .pa/run>\n<text>" blocks, the project's folder replaced.
std::string WrittenSql(const fs::path& project) {
  return PythonOutput(project,
                      "import glob,os\n"
                      "root=os.getcwd()\n"
                      "for f in sorted(glob.glob(\".pa/run/*/target/*/**/*.sql\", recursive=True)):\n"
                      "  print(f); print(open(f).read().replace(root, \"<project>\"))");
}

// The zygote compiles the installation's macro templates once it is idle
// (compile_macro_template); a child takes them from dbt's TemplateCache
// instead of compiling its own (install_macro_templates). The batches then
// write the same SQL, statuses and warehouse as fresh dbt processes.
TEST_F(WorkerTest, BatchesTakeTheZygotesMacroTemplatesAndEqualFreshProcesses) {
  fs::path with = root_ / "templates";
  fs::path without = root_ / "templates_dbt";
  CopyExample(with);
  CopyExample(without);
  Result parse = Shell(with, "'" + kPaGen.string() + "' --profiles-dir . --policy folder");
  ASSERT_EQ(parse.code, 0) << parse.out;
  for (int i = 0; i < 600 && WorkerLog(with).find("macro templates compiled (") == std::string::npos; ++i)
    Shell(with, "sleep 0.2");
  ASSERT_NE(WorkerLog(with).find("macro templates compiled ("), std::string::npos) << WorkerLog(with);
  Result a = Shell(with, kBuild);
  Result b = Shell(without, "export PA_NO_WORKER=1; " + kBuild);
  ASSERT_EQ(a.code, 0) << a.out;
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_EQ(a.out.find("warning: dbt worker"), std::string::npos) << a.out;
  EXPECT_NE(WorkerLog(with).find("jinja: macro templates compiled in the zygote, reused"), std::string::npos)
      << WorkerLog(with);
  std::string sql = WrittenSql(with);
  EXPECT_NE(sql.find("/target/run/"), std::string::npos) << sql;
  EXPECT_EQ(sql, WrittenSql(without));
  EXPECT_EQ(Statuses(with), Statuses(without));
  EXPECT_EQ(WarehouseDigest(with), reference_);
  EXPECT_EQ(WarehouseDigest(without), reference_);
}

// Every event message the worker's children build without json_format's
// parser (install_fast_events), and every JSON log line's dict they print
// with the table-driven printer (install_fast_event_dicts), equals
// json_format's: PA_WORKER_CHECK_EVENTS=1 makes each both ways and logs a
// mismatch. A build that succeeds, one
// where a model fails (error results, skipped nodes) and the edit's parse
// in between.
TEST_F(WorkerTest, EventMessagesBuiltWithoutJsonFormatEqualItsOwn) {
  fs::path project = root_ / "events";
  CopyExample(project);
  const std::string check = "export PA_WORKER_CHECK_EVENTS=1; ";
  Result a = Shell(project, check + kBuild);
  ASSERT_EQ(a.code, 0) << a.out;
  EXPECT_EQ(WarehouseDigest(project), reference_);
  Write(project / "models" / "pa_broken.sql", "select * from nowhere_at_all\n");
  Write(project / "models" / "pa_after_broken.sql", "select * from {{ ref('pa_broken') }}\n");
  Result b = Shell(project, check + kBuild + " -k 0");
  EXPECT_NE(b.code, 0) << b.out;
  EXPECT_NE(b.out.find("pa_broken"), std::string::npos) << b.out;
  std::string log = WorkerLog(project);
  EXPECT_NE(log.find("events: messages built without json_format"), std::string::npos) << log;
  EXPECT_GE(Count(log, "events: checked against json_format"), 3u) << log;  // parse and batches
  EXPECT_GE(Count(log, "events: dicts checked against json_format"), 3u) << log;  // the JSON log's lines
  EXPECT_EQ(log.find("events: MISMATCH"), std::string::npos) << log;
}

}  // namespace
