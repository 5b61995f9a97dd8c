// End to end on PostgreSQL, the server path: the real pa-gen, dbt-postgres
// and ninja against a throwaway server that this test process starts with
// scripts/pg-server.sh (on a Unix socket in a folder of its own) and stops
// at the end. A watchdog removes the server should the process die first
// (a CTest timeout). Every test builds into databases of its own.
//
// Without the server binaries (scripts/setup.sh installs them) every test
// skips with a message saying so.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "e2e_util.h"
#include "planalign_edits.h"
#include "exec/state.h"
#include "util/disk.h"

namespace {

using nlohmann::json;

const fs::path kServerScript = kSource / "scripts" / "pg-server.sh";

std::string Quote(const std::string& s) { return "'" + s + "'"; }

class PostgresServer : public ::testing::Environment {
 public:
  void SetUp() override {
    // Short: a socket path has at most 107 bytes.
    dir_ = fs::temp_directory_path() / ("pa-pg-" + std::to_string(getpid()));
    Result r = Shell(fs::temp_directory_path(), Quote(kServerScript) + " start " + Quote(dir_));
    if (r.code == 3) {  // no server binaries
      missing_ = r.out;
      return;
    }
    ASSERT_EQ(r.code, 0) << r.out;
    started_ = true;
    // Should this process die before TearDown, the server goes with it.
    Shell(fs::temp_directory_path(),
          "setsid sh -c 'while kill -0 " + std::to_string(getpid()) + " 2>/dev/null; do sleep 1; done; \"" +
              kServerScript.string() + "\" remove \"" + dir_.string() + "\"' >/dev/null 2>&1 </dev/null &");
    std::smatch m;
    for (const char* var : {"PA_PG_HOST", "PA_PG_PORT", "PA_PG_USER", "PA_PG_PASSWORD", "PA_PG_BIN"}) {
      std::regex pattern(std::string(var) + "='([^']*)'");
      ASSERT_TRUE(std::regex_search(r.out, m, pattern)) << r.out;
      setenv(var, m[1].str().c_str(), 1);
    }
  }
  void TearDown() override {
    if (!started_) return;
    Result r = Shell(fs::temp_directory_path(), Quote(kServerScript) + " remove " + Quote(dir_));
    EXPECT_EQ(r.code, 0) << r.out;
  }

  static std::string missing_;  // why there is no server; "" when there is one

 private:
  fs::path dir_;
  bool started_ = false;
};
std::string PostgresServer::missing_;

const auto* const kServer = ::testing::AddGlobalTestEnvironment(new PostgresServer);

std::string Bin(const char* program) { return Quote((fs::path(std::getenv("PA_PG_BIN")) / program).string()); }

// psql on `database`, unaligned and without headers; stops at the first error.
std::string Psql(const std::string& database) {
  return Bin("psql") + " -X -q -v ON_ERROR_STOP=1 -At -h \"$PA_PG_HOST\" -p \"$PA_PG_PORT\" -U \"$PA_PG_USER\" -d " +
         database;
}

void CreateDatabase(const std::string& name) {
  Result r = Shell(fs::temp_directory_path(), Psql("postgres") + " -c 'create database " + name + "'");
  ASSERT_EQ(r.code, 0) << r.out;
}

// Every table and view of `database` outside the system schemas: name, row
// count and an md5 of its rows (each as text, sorted), one per line; as
// tests/e2e/warehouse_digest.py does for DuckDB.
std::string PostgresDigest(const std::string& database) {
  const char* query =
      "select format('select %L, count(*), md5(coalesce(string_agg(r::text, chr(10) order by r::text), %L)) "
      "from %I.%I r', table_schema || '.' || table_name, '', table_schema, table_name) "
      "from information_schema.tables "
      "where table_schema not in ('pg_catalog', 'information_schema') "
      "order by table_schema, table_name \\gexec";
  Result r = Shell(fs::temp_directory_path(), "printf '%s\\n' \"" + std::string(query) + "\" | " + Psql(database));
  EXPECT_EQ(r.code, 0) << r.out;
  return r.out;
}

// From each batch's run_results.json: when its first node started executing
// and its last one finished (ISO times sort as text).
std::map<std::string, std::pair<std::string, std::string>> ExecutionSpans(const fs::path& project) {
  std::map<std::string, std::pair<std::string, std::string>> spans;
  for (const auto& run : fs::directory_iterator(project / ".pa" / "run")) {
    fs::path results = run.path() / "target" / "run_results.json";
    if (!fs::exists(results)) continue;
    json doc = json::parse(Read(results));
    for (const auto& r : doc["results"]) {
      for (const auto& t : r["timing"]) {
        if (t["name"] != "execute") continue;
        auto [it, fresh] = spans.try_emplace(run.path().filename().string(), t["started_at"], t["completed_at"]);
        it->second.first = std::min(it->second.first, t["started_at"].get<std::string>());
        it->second.second = std::max(it->second.second, t["completed_at"].get<std::string>());
      }
    }
  }
  return spans;
}

const char kProfile[] = R"(tiny:
  target: postgres
  outputs:
    postgres:
      type: postgres
      host: "{{ env_var('PA_PG_HOST') }}"
      port: "{{ env_var('PA_PG_PORT', '5432') | as_number }}"
      user: "{{ env_var('PA_PG_USER') }}"
      password: "{{ env_var('PA_PG_PASSWORD', '') }}"
      dbname: "{{ env_var('PA_PG_DATABASE') }}"
      schema: main
      threads: 2
)";

// A small project: models `x` in folder a and `y` in folder b (two batches
// with no dependency between them), both in the schema main_shared.
void WriteTinyProject(const fs::path& p, const std::string& x_sql, const std::string& y_sql) {
  fs::create_directories(p / "models" / "a");
  fs::create_directories(p / "models" / "b");
  Write(p / "dbt_project.yml",
        "name: tiny\nversion: \"1.0.0\"\nconfig-version: 2\nprofile: tiny\n"
        "models:\n  tiny:\n    +schema: shared\n    +materialized: table\n");
  Write(p / "profiles.yml", kProfile);
  Write(p / "models" / "a" / "x.sql", x_sql);
  Write(p / "models" / "b" / "y.sql", y_sql);
}

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PostgresServer::missing_.empty())
      GTEST_SKIP() << "no PostgreSQL server binaries (scripts/setup.sh installs the Debian package "
                      "postgresql): "
                   << PostgresServer::missing_;
    root_ = TestRoot();
  }
  void TearDown() override {
    if (!root_.empty()) RemoveUnlessFailed(root_);
  }
  // pa-gen and ninja (or any command) with dbt building into `database`.
  Result Run(const fs::path& dir, const std::string& database, const std::string& command) {
    return Shell(dir, "PA_PG_DATABASE=" + database + " && export PA_PG_DATABASE && " + command);
  }

  fs::path root_;
};

// planalign on PostgreSQL: `pa-gen --target postgres && ninja -j4` builds
// what a plain `dbt build --target postgres` builds, with no Ninja pool (the
// server takes several writers); a second ninja has nothing to do.
TEST_F(PostgresTest, PlanalignBuildsWhatDbtBuildBuilds) {
  fs::path reference = root_ / "reference";
  fs::path project = root_ / "planalign";
  CopyExample(reference);
  CopyExample(project);
  CreateDatabase("reference");
  CreateDatabase("pa_built_db");
  Result dbt = Run(reference, "reference", Quote((kVenv / "dbt").string()) + " build --profiles-dir . --target postgres");
  ASSERT_EQ(dbt.code, 0) << dbt.out;

  Result build = Run(project, "pa_built_db", Quote(kPaGen.string()) + " --target postgres && ninja -j4");
  ASSERT_EQ(build.code, 0) << build.out;
  // The server default: folders, none above 64 models, so none is cut.
  EXPECT_EQ(BatchesRun(build.out),
            (std::set<std::string>{"seeds", "staging", "intermediate", "marts", "audit"}));
  Result explain = Run(project, "pa_built_db", Quote(kPaGen.string()) + " --target postgres explain");
  ASSERT_EQ(explain.code, 0) << explain.out;
  EXPECT_NE(explain.out.find("policy folder --max-batch-size 64 (the default on postgres: batches run "
                             "side by side, one per folder, and a folder of more than 64 models is cut"),
            std::string::npos)
      << explain.out;
  std::string ninja_text = Read(project / "build.ninja");
  EXPECT_EQ(ninja_text.find("pool"), std::string::npos) << "a server needs no pool";
  // The credentials stay in the environment.
  for (const char* file : {"build.ninja", ".pa-plan.json"}) {
    std::string text = Read(project / file);
    EXPECT_EQ(text.find(std::getenv("PA_PG_HOST")), std::string::npos) << file;
    EXPECT_EQ(text.find("pa_built_db"), std::string::npos) << file;
  }

  std::string expected = PostgresDigest("reference");
  EXPECT_EQ(std::count(expected.begin(), expected.end(), '\n'), 16 + 20) << expected;
  EXPECT_EQ(PostgresDigest("pa_built_db"), expected);

  Result again = Run(project, "pa_built_db", "ninja -j4");
  EXPECT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("ninja: no work to do."), std::string::npos) << again.out;

  // A touched model: its batch's edge runs, but no dbt (nothing changed).
  Write(root_ / "marker", "");
  Result touched = Run(project, "pa_built_db", "touch models/staging/stg_census.sql && ninja -j4");
  EXPECT_EQ(touched.code, 0) << touched.out;
  for (const auto& run : fs::directory_iterator(project / ".pa" / "run")) {
    fs::path results = run.path() / "target" / "run_results.json";
    if (fs::exists(results)) {
      EXPECT_LT(fs::last_write_time(results), fs::last_write_time(root_ / "marker")) << touched.out;
    }
  }
  EXPECT_EQ(PostgresDigest("pa_built_db"), expected);
}

// Batches with no dependency between them run side by side, as dbt's own
// timings show: each of the two models waits (in SQL, up to a minute) until
// the other one's query is running, so a build that ran them one after
// the other would show no overlap.
TEST_F(PostgresTest, IndependentBatchesRunSideBySide) {
  // The hook names itself in a comment and looks for the other's name,
  // spelled in pieces so that it does not find its own text.
  auto waits_for = [](const std::string& self, const std::string& other) {
    return "{{ config(pre_hook=\"/* pa_here_" + self +
           " */ do $$ declare n int; begin for i in 1..600 loop "
           "select count(*) into n from pg_stat_activity where state = 'active' and "
           "query like '%' || 'pa_here_' || '" + other + "' || '%' and pid <> pg_backend_pid(); "
           "exit when n > 0; perform pg_sleep(0.1); end loop; perform pg_sleep(2); end $$\") }}\n"
           "select 1 as id\n";
  };
  fs::path project = root_ / "tiny";
  WriteTinyProject(project, waits_for("x", "y"), waits_for("y", "x"));
  CreateDatabase("side_by_side");
  Result build = Run(project, "side_by_side", Quote(kPaGen.string()) + " --target postgres && ninja -j2");
  ASSERT_EQ(build.code, 0) << build.out;
  EXPECT_EQ(BatchesRun(build.out), (std::set<std::string>{"a", "b"}));
  auto spans = ExecutionSpans(project);
  ASSERT_EQ(spans.size(), 2u) << build.out;
  const auto& [a_start, a_end] = spans["a"];
  const auto& [b_start, b_end] = spans["b"];
  EXPECT_LT(a_start, b_end) << "a ran " << a_start << " to " << a_end << ", b " << b_start << " to " << b_end;
  EXPECT_LT(b_start, a_end) << "a ran " << a_start << " to " << a_end << ", b " << b_start << " to " << b_end;
}

// Issue 15: a build on the server records what the cost model needs (each
// node's CPU, the batch's fixed cost), and `--policy auto` weighs the
// folder cut in parts. Six models in folder a each wait 0.3 s on the
// server: that wait is not the dbt process's CPU.
TEST_F(PostgresTest, ABuildRecordsTheCpuAndFixedCostAutoPredictsWith) {
  fs::path project = root_ / "tiny";
  WriteTinyProject(project, "select 1 as id\n", "select 1 as id\n");
  for (int i = 1; i <= 5; ++i)
    Write(project / "models" / "a" / ("w" + std::to_string(i) + ".sql"), "select 1 as id from pg_sleep(0.3)\n");
  Write(project / "models" / "a" / "x.sql", "select 1 as id from pg_sleep(0.3)\n");
  CreateDatabase("cost_model");
  Result build = Run(project, "cost_model", Quote(kPaGen.string()) + " --target postgres --policy folder && ninja -j2");
  ASSERT_EQ(build.code, 0) << build.out;
  std::string fixed = Read(project / ".pa" / "dbt-fixed-cost");
  EXPECT_GT(std::stod(fixed), 0) << fixed;
  json state = json::parse(Read(project / ".pa" / "state" / "a.json"));
  ASSERT_EQ(state["nodes"].size(), 6u) << state.dump();
  for (const auto& [id, node] : state["nodes"].items()) {
    ASSERT_TRUE(node.contains("cpu_seconds")) << id << " " << node.dump();
    double seconds = node["seconds"].get<double>(), cpu = node["cpu_seconds"].get<double>();
    EXPECT_GE(seconds, 0.3) << id;
    EXPECT_GT(cpu, 0) << id;
    EXPECT_LT(cpu, seconds - 0.2) << id << ": the 0.3 s on the server counted as dbt's CPU";
  }
  Result explain = Run(project, "cost_model",
                       Quote(kPaGen.string()) + " --target postgres --policy auto --jobs 2 explain --json");
  ASSERT_EQ(explain.code, 0) << explain.out;
  size_t open = explain.out.find('{'), close = explain.out.rfind('}');
  ASSERT_NE(open, std::string::npos) << explain.out;
  json doc = json::parse(explain.out.substr(open, close - open + 1));
  EXPECT_TRUE(doc["alternatives"].contains("folder --max-batch-size 3")) << doc["alternatives"].dump();
  EXPECT_TRUE(doc["alternatives"].contains("folder --max-batch-size 2")) << doc["alternatives"].dump();
  double best = doc["predicted_seconds"].get<double>();
  for (const auto& [policy, seconds] : doc["alternatives"].items()) EXPECT_LE(best, seconds.get<double>()) << policy;
  EXPECT_DOUBLE_EQ(doc["cost_model"]["dbt_startup_seconds"].get<double>(), std::stod(fixed));
  EXPECT_GE(doc["cost_model"]["cores"].get<int>(), 1);
  EXPECT_LT(doc["cost_model"]["node_cpu_seconds"].get<double>(), doc["cost_model"]["node_seconds"].get<double>());
}

// Two batches that create the same schema at the same moment: PostgreSQL
// fails the second `create schema if not exists` with a unique violation.
// The race is made certain: a third session holds an uncommitted
// `create schema main_shared` until both batches wait on it, then rolls
// back. pa-gen takes the failure as transient and runs the batch again.
TEST_F(PostgresTest, TwoBatchesCreatingOneSchemaAtOnceBothSucceed) {
  fs::path project = root_ / "tiny";
  WriteTinyProject(project, "select 1 as id\n", "select 2 as id\n");
  CreateDatabase("one_schema");
  Result gen = Run(project, "one_schema", Quote(kPaGen.string()) + " --target postgres");
  ASSERT_EQ(gen.code, 0) << gen.out;
  std::string psql = Psql("one_schema");
  Write(root_ / "race.sh",
        "set -u\n"
        "(echo 'begin; create schema main_shared;'\n"
        " for i in $(seq 1 600); do [ -f release ] && break; sleep 0.5; done\n"
        " echo 'rollback;') | " + psql + " > holder.out 2>&1 &\n"
        "ninja -C '" + project.string() + "' -j2 > ninja.out 2>&1 &\n"
        "ninja=$!\n"
        "for i in $(seq 1 600); do\n"
        "  n=$(" + psql + " -c \"select count(*) from pg_stat_activity where wait_event_type = 'Lock'\")\n"
        "  [ \"$n\" -ge 2 ] && break\n"
        "  sleep 0.5\n"
        "done\n"
        "echo \"waiting on the lock: $n\"\n"
        "touch release\n"
        "wait $ninja; code=$?\n"
        "wait\n"
        "cat ninja.out\n"
        "exit $code\n");
  Result race = Run(root_, "one_schema", "bash race.sh");
  EXPECT_EQ(race.code, 0) << race.out;
  EXPECT_NE(race.out.find("waiting on the lock: 2"), std::string::npos) << race.out;
  EXPECT_NE(race.out.find("pg_namespace_nspname_index"), std::string::npos) << race.out;
  EXPECT_NE(race.out.find("retrying"), std::string::npos) << race.out;
  std::string digest = PostgresDigest("one_schema");
  EXPECT_TRUE(std::regex_match(digest, std::regex("main_shared\\.x\\|1\\|\\w+\nmain_shared\\.y\\|1\\|\\w+\n")))
      << digest;
}

// A failing node stops only what depends on it, per node as in dbt build:
// b fails, c's edge records its member (which reads b) as skipped without
// running it, a (independent) is built; the build ends non-zero (the check
// edge); the next ninja runs b and c only once b is fixed.
TEST_F(PostgresTest, AFailingBatchDoesNotStopIndependentBatches) {
  fs::path project = root_ / "tiny";
  WriteTinyProject(project, "select 1 as id\n", "select no_such_column from (select 1 as id) t\n");
  fs::create_directories(project / "models" / "c");
  Write(project / "models" / "c" / "z.sql", "select * from {{ ref('y') }}\n");
  CreateDatabase("failing");
  Result build = Run(project, "failing", Quote(kPaGen.string()) + " --target postgres && ninja -k 0 -j2");
  EXPECT_NE(build.code, 0) << build.out;
  EXPECT_EQ(BatchesRun(build.out), (std::set<std::string>{"a", "b", "c"})) << build.out;
  EXPECT_NE(build.out.find("batch c: 1 node skipped because upstream model.tiny.y failed"),
            std::string::npos)
      << build.out;
  EXPECT_TRUE(fs::exists(project / ".pa" / "stamps" / "a.stamp")) << build.out;
  EXPECT_FALSE(fs::exists(project / ".pa" / "stamps" / "b.stamp")) << build.out;
  EXPECT_FALSE(fs::exists(project / ".pa" / "stamps" / "c.stamp")) << build.out;
  std::string digest = PostgresDigest("failing");
  EXPECT_TRUE(std::regex_match(digest, std::regex("main_shared\\.x\\|1\\|\\w+\n"))) << digest;

  Write(project / "models" / "b" / "y.sql", "select 2 as id\n");
  Result fixed = Run(project, "failing", "ninja -j2");
  EXPECT_EQ(fixed.code, 0) << fixed.out;
  EXPECT_EQ(BatchesRun(fixed.out), (std::set<std::string>{"b", "c"})) << fixed.out;
}

// planalign_edits.h's sequence of edits on the postgres target: after each
// one, ninja runs exactly what the edit affects and the warehouse equals a
// full `dbt build --target postgres` of the same sources in another database.
TEST_F(PostgresTest, IncrementalBuildsRunExactlyWhatEachEditAffects) {
  fs::path project = root_ / "planalign";
  fs::path reference = root_ / "reference";
  CopyExample(project);
  CopyExample(reference);
  CreateDatabase("edits_ours");
  CreateDatabase("edits_reference");
  // Every command of the sequence runs in this process's environment.
  setenv("PA_PG_DATABASE", "edits_ours", 1);
  ASSERT_EQ(Run(project, "edits_ours", Quote(kPaGen.string()) + " --target postgres").code, 0);
  EditTarget target;
  target.project = project;
  target.reference = reference;
  target.marker = root_ / "marker";
  target.pa_gen_args = "--target postgres";
  target.dbt_build = "PA_PG_DATABASE=edits_reference " + Quote((kVenv / "dbt").string()) +
                     " build --profiles-dir . --target postgres";
  // Only the relations the project still defines: when a model is deleted,
  // neither dbt nor pa-gen drops its relation, but on PostgreSQL the
  // reference's full build drops it anyway when it is a view over a table
  // that build replaces (dbt-postgres drops the replaced table with
  // `cascade`), while the incremental build replaces nothing under it.
  auto defined = [project](const std::string& digest) {
    json manifest = json::parse(Read(project / ".pa" / "parse" / "manifest.json"));
    std::set<std::string> relations;
    for (const auto& [id, n] : manifest["nodes"].items())
      if (n["resource_type"] == "model" || n["resource_type"] == "seed")
        relations.insert(n["schema"].get<std::string>() + "." + n["alias"].get<std::string>() + "|");
    std::string kept;
    std::istringstream lines(digest);
    for (std::string line; std::getline(lines, line);)
      if (relations.count(line.substr(0, line.find('|') + 1))) kept += line + "\n";
    return kept;
  };
  target.ours = [defined] { return defined(PostgresDigest("edits_ours")); };
  target.theirs = [defined] { return defined(PostgresDigest("edits_reference")); };
  RunEditSequence(target);
  unsetenv("PA_PG_DATABASE");
}

// The fault tests' project: batch a holds x (fast) and slow, side by side
// on dbt's 2 threads; slow sleeps for the database's setting pa_test.sleep
// (seconds, 0 when unset), read when its query starts. So a rerun can be
// made quick without changing a file or an env var that dbt or pa-gen would
// see. A killed dbt's server session keeps running its query until it next
// talks to the client (dbt cancels its queries only on Ctrl-C), and a rerun
// waits on that session's locks: the sleeps are short enough not to hold
// it up long.
class PostgresFaultTest : public PostgresTest {
 protected:
  void SetUp() override {
    PostgresTest::SetUp();
    if (IsSkipped()) return;
    project_ = root_ / "tiny";
    WriteTinyProject(project_, "select 1 as id\n", "");
    fs::remove_all(project_ / "models" / "b");
    Write(project_ / "models" / "a" / "slow.sql",
          "select 1 as id from pg_sleep(coalesce(nullif(current_setting('pa_test.sleep', true), ''), '0')::float8)\n");
    database_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : database_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    CreateDatabase(database_);
  }
  void SetSleep(int seconds) {
    Result r = Shell(root_, Psql("postgres") + " -c \"alter database " + database_ + " set pa_test.sleep = '" +
                                std::to_string(seconds) + "'\"");
    ASSERT_EQ(r.code, 0) << r.out;
  }
  Result Run(const std::string& command) { return PostgresTest::Run(project_, database_, command); }
  // Server sessions on the test's database still running a query.
  int ActiveQueries() {
    Result r = Shell(root_, Psql("postgres") + " -c \"select count(*) from pg_stat_activity where datname = '" +
                                database_ + "' and state = 'active'\"");
    EXPECT_EQ(r.code, 0) << r.out;
    return std::atoi(r.out.c_str());
  }
  // `command` (which starts ninja in the background as $pid) once dbt has
  // finished x while slow sleeps, then `signal`; prints "ninja exited N" and
  // ninja's output.
  Result SignalOnceXFinished(const std::string& command, const std::string& signal) {
    fs::remove(project_ / ".pa" / "run" / "a" / "logs" / "dbt.log");  // not an earlier run's
    return Run(command + " > ninja.out 2>&1 & pid=$!; " +
               WaitUntilNodeFinished(".pa/run/a/logs/dbt.log", "model.tiny.x", 120) + signal +
               "; wait $pid; echo \"ninja exited $?\"; cat ninja.out");
  }
  // What the batch's state records of x and slow.
  void ExpectXSucceededAndSlowNot(const std::string& out) {
    BatchState state;
    std::string err;
    ASSERT_TRUE(LoadBatchState(disk_, project_ / ".pa" / "state" / "a.json", &state, &err)) << err << out;
    ASSERT_TRUE(state.count("model.tiny.x")) << out;
    EXPECT_TRUE(state.at("model.tiny.x").Succeeded()) << state.at("model.tiny.x").status;
    EXPECT_FALSE(state.count("model.tiny.slow") && state.at("model.tiny.slow").Succeeded()) << out;
  }
  // The next ninja (slow no longer sleeping) runs dbt for slow only and
  // completes the warehouse.
  void ExpectTheRerunBuildsSlowOnly(const std::string& command = "ninja") {
    ASSERT_NO_FATAL_FAILURE(SetSleep(0));
    Result resumed = Run(command);
    ASSERT_EQ(resumed.code, 0) << resumed.out;
    EXPECT_TRUE(fs::exists(project_ / ".pa" / "stamps" / "a.stamp"));
    std::string results = Read(project_ / ".pa" / "run" / "a" / "target" / "run_results.json");
    EXPECT_NE(results.find("model.tiny.slow"), std::string::npos);
    EXPECT_EQ(results.find("model.tiny.x"), std::string::npos) << results;
    std::string digest = PostgresDigest(database_);
    EXPECT_TRUE(std::regex_match(digest, std::regex("main_shared\\.slow\\|1\\|\\w+\nmain_shared\\.x\\|1\\|\\w+\n")))
        << digest;
    Result again = Run("ninja");
    EXPECT_NE(again.out.find("ninja: no work to do."), std::string::npos) << again.out;
  }

  fs::path project_;
  std::string database_;
  RealDisk disk_;
};

// kill -9 of dbt in the middle of a batch: no stamp, and the rerun builds
// only the node that had not finished.
TEST_F(PostgresFaultTest, KilledDbtKeepsTheNodesItFinished) {
  ASSERT_NO_FATAL_FAILURE(SetSleep(20));
  ASSERT_EQ(Run(Quote(kPaGen.string()) + " --target postgres").code, 0);
  // A fresh dbt process, so that pkill finds it by its command line.
  Result killed = SignalOnceXFinished("PA_NO_WORKER=1 ninja",
                                      "pkill -9 -f '[b]in/dbt build --project-dir " + project_.string() + "'");
  EXPECT_EQ(killed.out.find("ninja exited 0"), std::string::npos) << killed.out;
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "a.stamp"));
  EXPECT_EQ(DbtProcessesIn(project_), 0);
  ExpectXSucceededAndSlowNot(killed.out);
  ExpectTheRerunBuildsSlowOnly();
}

// Ctrl-C as a terminal sends it: SIGINT to ninja's process group (ninja,
// pa-gen exec, dbt or the worker's child), once x has finished while slow
// sleeps. dbt cancels its running query on the server.
TEST_F(PostgresFaultTest, CtrlCToNinjaKeepsTheNodesDbtFinished) {
  ASSERT_NO_FATAL_FAILURE(SetSleep(120));
  ASSERT_EQ(Run(Quote(kPaGen.string()) + " --target postgres").code, 0);
  auto start = std::chrono::steady_clock::now();
  // setsid: ninja leads a process group of its own, as in a terminal.
  Result interrupted = SignalOnceXFinished("setsid ninja", "kill -INT -$pid");
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count(),
            90) << "the 120 s model was not stopped";
  EXPECT_NE(interrupted.out.find("ninja: build stopped: interrupted by user."), std::string::npos)
      << interrupted.out;
  EXPECT_EQ(interrupted.out.find("ninja exited 0"), std::string::npos) << interrupted.out;
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "a.stamp"));
  EXPECT_EQ(DbtProcessesIn(project_), 0);
  EXPECT_EQ(ActiveQueries(), 0) << "dbt left its query running on the server";
  ExpectXSucceededAndSlowNot(interrupted.out);
  ExpectTheRerunBuildsSlowOnly();
}

// --batch-timeout: the batch's dbt is stopped, the batch fails with one
// clear line, x stays built, and dbt cancelled slow's query on the server;
// the build without the timeout completes it. The timeout leaves a fresh
// dbt on a busy machine time to start and finish x (at load 13 on 2 cores
// a fresh dbt took more than 35 s to get there); ninja must end well before
// slow's 300 s would. Generation (a full parse) is not timed.
TEST_F(PostgresFaultTest, BatchTimeoutStopsDbtAndKeepsTheNodesItFinished) {
  ASSERT_NO_FATAL_FAILURE(SetSleep(300));
  Result generated = Run(Quote(kPaGen.string()) + " --target postgres --batch-timeout 90");
  ASSERT_EQ(generated.code, 0) << generated.out;
  auto start = std::chrono::steady_clock::now();
  Result build = Run("ninja");
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count(),
            200) << build.out;
  EXPECT_EQ(ActiveQueries(), 0) << "dbt left its query running on the server";
  EXPECT_NE(build.code, 0) << build.out;
  EXPECT_NE(build.out.find("pa-gen: batch a timed out after 90 s (--batch-timeout)"), std::string::npos)
      << build.out;
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "a.stamp"));
  EXPECT_EQ(DbtProcessesIn(project_), 0);
  ExpectXSucceededAndSlowNot(build.out);
  ExpectTheRerunBuildsSlowOnly(Quote(kPaGen.string()) + " --target postgres && ninja");
}

}  // namespace
