#include "write/plan.h"

#include <fstream>
#include <string>
#include <type_traits>
#include <variant>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dbt/options.h"
#include "plan/plan_json.h"
#include "plan/layout.h"
#include "util/disk.h"

static RealDisk real_disk;  // these tests read and write real files

namespace {

Plan SamplePlan() {
  Plan plan;
  plan.project_dir = "../../p";
  plan.dbt.dbt = "/p/.venv/bin/dbt";
  plan.dbt.profiles_dir = "/home/me/.dbt";
  plan.dbt.target = "dev";
  plan.dbt.vars = "{\"start_year\": 2025}";
  plan.dbt.threads = 4;
  plan.batches = {
      {"marts", "d1", {{"model.proj.fct_orders", "proj.marts.fct_orders", "f1",
                        {{"staging.1", "model.proj.stg_a"}}}}},
      {"seeds", "d2",
       {{"seed.proj.raw_customers", "proj.raw_customers", "f2", {}},
        {"seed.proj.raw_orders", "proj.raw_orders", "f3", {}}}},
      {"staging.1", "d3",
       {{"model.proj.stg_a", "proj.staging.stg_a", "f4", {{"seeds", "seed.proj.raw_orders"}}},
        {"test.proj.not_null_stg_a_id.1a2b3c", "proj.staging.not_null_stg_a_id", "f5",
         {{"staging.1", "model.proj.stg_a"}}}}},
  };
  plan.batches[0].members[0].gated_by = {{"staging.1", "test.proj.not_null_stg_a_id.1a2b3c"}};
  plan.batches[2].members[0].on_error_continue = true;
  return plan;
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

void ExpectSamePlan(const Plan& a, const Plan& b) {
  EXPECT_EQ(a.project_dir, b.project_dir);
  EXPECT_EQ(a.dbt.dbt, b.dbt.dbt);
  EXPECT_EQ(a.dbt.profiles_dir, b.dbt.profiles_dir);
  EXPECT_EQ(a.dbt.target, b.dbt.target);
  EXPECT_EQ(a.dbt.vars, b.dbt.vars);
  EXPECT_EQ(a.dbt.threads, b.dbt.threads);
  ASSERT_EQ(a.batches.size(), b.batches.size());
  for (size_t i = 0; i < a.batches.size(); ++i) {
    EXPECT_EQ(a.batches[i].name, b.batches[i].name);
    EXPECT_EQ(a.batches[i].digest, b.batches[i].digest);
    ASSERT_EQ(a.batches[i].members.size(), b.batches[i].members.size());
    for (size_t j = 0; j < a.batches[i].members.size(); ++j) {
      const PlanMember& x = a.batches[i].members[j];
      const PlanMember& y = b.batches[i].members[j];
      EXPECT_EQ(x.unique_id, y.unique_id);
      EXPECT_EQ(x.selector, y.selector);
      EXPECT_EQ(x.fingerprint, y.fingerprint);
      EXPECT_EQ(x.deps, y.deps);
      EXPECT_EQ(x.gated_by, y.gated_by);
      EXPECT_EQ(x.on_error_continue, y.on_error_continue);
    }
  }
}

TEST(Plan, RoundTripsThroughJson) {
  Plan plan = SamplePlan();
  std::string path = WriteTemp("pa_gen_plan_roundtrip.json", PlanToJson(plan));
  Plan loaded;
  std::string err;
  ASSERT_TRUE(LoadPlan(real_disk, path, &loaded, &err)) << err;
  ExpectSamePlan(plan, loaded);
  EXPECT_EQ(PlanToJson(loaded), PlanToJson(plan));
}

TEST(Plan, EmptySettingsRoundTrip) {
  Plan plan;
  plan.project_dir = ".";
  std::string path = WriteTemp("pa_gen_plan_empty.json", PlanToJson(plan));
  Plan loaded;
  std::string err;
  ASSERT_TRUE(LoadPlan(real_disk, path, &loaded, &err)) << err;
  ExpectSamePlan(plan, loaded);
}


TEST(Plan, JsonEndsWithNewline) {
  std::string json = PlanToJson(SamplePlan());
  ASSERT_FALSE(json.empty());
  EXPECT_EQ(json.back(), '\n');
}

TEST(Plan, GarbageNamesTheFile) {
  std::string path = WriteTemp("pa_gen_plan_garbage.json", "this is not json {");
  Plan loaded;
  std::string err;
  EXPECT_FALSE(LoadPlan(real_disk, path, &loaded, &err));
  EXPECT_EQ(err.rfind(path + ": not a pa-gen plan (", 0), 0u) << err;
  EXPECT_NE(err.find("run pa-gen again"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
}

TEST(Plan, MissingFieldNamesTheFile) {
  std::string path = WriteTemp("pa_gen_plan_partial.json", R"({"project_dir": "."})");
  Plan loaded;
  std::string err;
  EXPECT_FALSE(LoadPlan(real_disk, path, &loaded, &err));
  EXPECT_EQ(err.rfind(path + ": not a pa-gen plan (", 0), 0u) << err;
  EXPECT_NE(err.find("'dbt'"), std::string::npos) << err;
}

TEST(Plan, MissingFileNamesTheFile) {
  std::string path = ::testing::TempDir() + "/pa_gen_no_such_dir/.pa-plan.json";
  Plan loaded;
  std::string err;
  EXPECT_FALSE(LoadPlan(real_disk, path, &loaded, &err));
  EXPECT_EQ(err, path + ": cannot read: No such file or directory");
}

TEST(Plan, StampAndRunPaths) {
  EXPECT_EQ(StampPath("staging.1").generic_string(), ".pa/stamps/staging.1.stamp");
  EXPECT_EQ(RunDir("marts").generic_string(), ".pa/run/marts");
}

std::vector<std::string> Selectors(const PlanBatch& batch) {
  std::vector<std::string> out;
  for (const PlanMember& m : batch.members) out.push_back(m.selector);
  return out;
}

const std::vector<BatchSettings> kDefaults(2);

TEST(Plan, MakePlanUsesSelectorsIdsAndDepsInBatchOrder) {
  Graph graph;
  graph.nodes.resize(3);
  graph.nodes[0].unique_id = "model.proj.a";
  graph.nodes[0].fqn = {"proj", "staging", "a"};
  graph.nodes[0].deps = {2};
  graph.nodes[0].fingerprint = "fa";
  graph.nodes[1].unique_id = "model.proj.b";
  graph.nodes[1].fqn = {"proj", "marts", "b"};
  graph.nodes[1].deps = {0};
  graph.nodes[1].fingerprint = "fb";
  graph.nodes[2].unique_id = "seed.proj.s";
  graph.nodes[2].fqn = {"proj", "s"};
  graph.nodes[2].fingerprint = "fs";
  Partition partition;
  partition.batches = {{"marts", {1}, {1}}, {"staging", {0, 2}, {}}};
  partition.batch_of = {1, 0, 1};
  DbtSettings dbt;
  dbt.dbt = "/usr/bin/dbt";
  Plan plan = MakePlan("..", dbt, "settings-1", graph, partition, kDefaults);
  EXPECT_EQ(plan.project_dir, "..");
  EXPECT_EQ(plan.dbt.dbt, "/usr/bin/dbt");
  ASSERT_EQ(plan.batches.size(), 2u);
  EXPECT_EQ(plan.batches[0].name, "marts");
  EXPECT_EQ(Selectors(plan.batches[0]), (std::vector<std::string>{"proj.marts.b"}));
  EXPECT_EQ(Selectors(plan.batches[1]), (std::vector<std::string>{"proj.staging.a", "proj.s"}));
  EXPECT_EQ(plan.batches[1].members[0].unique_id, "model.proj.a");
  EXPECT_EQ(plan.batches[0].members[0].deps,
            (std::vector<std::pair<std::string, std::string>>{{"staging", "model.proj.a"}}));

  // Other settings (vars, target) give every node another fingerprint and
  // every batch another digest; the same settings give the same plan.
  Plan again = MakePlan("..", dbt, "settings-1", graph, partition, kDefaults);
  EXPECT_EQ(PlanToJson(again), PlanToJson(plan));
  Plan other = MakePlan("..", dbt, "settings-2", graph, partition, kDefaults);
  EXPECT_NE(other.batches[0].members[0].fingerprint, plan.batches[0].members[0].fingerprint);
  EXPECT_NE(other.batches[0].digest, plan.batches[0].digest);
}

// As `dbt build` gates: a test holds back the nodes downstream of all of its
// parents; the plan names it for the first such nodes in other batches.
TEST(Plan, MakePlanListsTheTestsThatGateAMemberFromOtherBatches) {
  Graph graph;
  graph.nodes.resize(6);
  const char* ids[] = {"model.p.a", "model.p.b", "model.p.c", "model.p.d", "test.p.rel", "test.p.t"};
  for (int i = 0; i < 6; ++i) {
    graph.nodes[i].unique_id = ids[i];
    graph.nodes[i].fqn = {"p", ids[i]};
  }
  graph.nodes[4].kind = graph.nodes[5].kind = NodeKind::kTest;
  graph.nodes[1].deps = {0};     // b reads a
  graph.nodes[2].deps = {1};     // c reads b
  graph.nodes[3].deps = {0};     // d reads a only
  graph.nodes[4].deps = {0, 1};  // rel tests a and b: gates c, not d
  graph.nodes[5].deps = {0};     // t tests a: gates b and d (and c through b)
  Partition partition;
  partition.batches = {{"marts", {1, 2, 3}, {1}}, {"staging", {0, 4, 5}, {}}};
  partition.batch_of = {1, 0, 0, 0, 1, 1};
  Plan plan = MakePlan(".", DbtSettings(), "s", graph, partition, kDefaults);
  using Gates = std::vector<std::pair<std::string, std::string>>;
  const std::vector<PlanMember>& marts = plan.batches[0].members;  // b, c, d
  EXPECT_EQ(marts[0].gated_by, (Gates{{"staging", "test.p.t"}}));
  EXPECT_EQ(marts[1].gated_by, (Gates{{"staging", "test.p.rel"}}));
  EXPECT_EQ(marts[2].gated_by, (Gates{{"staging", "test.p.t"}}));
  for (const PlanMember& m : plan.batches[1].members) EXPECT_TRUE(m.gated_by.empty());  // same batch: dbt gates
}

// config.on_error: continue goes into the plan for the models that have it.
TEST(Plan, MakePlanKeepsOnErrorContinue) {
  Graph graph;
  graph.nodes.resize(2);
  graph.nodes[0].unique_id = "model.p.a";
  graph.nodes[0].fqn = {"p", "a"};
  graph.nodes[0].on_error_continue = true;
  graph.nodes[1].unique_id = "model.p.b";
  graph.nodes[1].fqn = {"p", "b"};
  graph.nodes[1].deps = {0};
  Partition partition;
  partition.batches = {{"one", {0, 1}, {}}};
  partition.batch_of = {0, 0};
  Plan plan = MakePlan(".", DbtSettings(), "s", graph, partition, kDefaults);
  EXPECT_TRUE(plan.batches[0].members[0].on_error_continue);
  EXPECT_FALSE(plan.batches[0].members[1].on_error_continue);
  std::string json = PlanToJson(plan);
  EXPECT_EQ(json.find("\"on_error\": \"continue\""), json.rfind("\"on_error\": \"continue\""));
  EXPECT_NE(json.find("\"on_error\": \"continue\""), std::string::npos) << json;
}

// Issue 13, class 8: numbers from the plan are checked for type and range
// (get<int>() of 1e20 is undefined behaviour; of 1e12 it wraps).
TEST(Plan, OutOfRangeNumbersNameTheFileAndField) {
  std::string json = PlanToJson(SamplePlan());
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"threads\": 4", "\"threads\": 1e20"},
           {"\"threads\": 4", "\"threads\": 4000000000000"},
           {"\"retries\": 2", "\"retries\": -1"},
           {"\"batch_timeout\": 0", "\"batch_timeout\": 2.5"}}) {
    std::string text = json;
    ASSERT_NE(text.find(from), std::string::npos) << from << "\n" << text;
    text.replace(text.find(from), from.size(), to);
    std::string path = WriteTemp("range.json", text);
    Plan loaded;
    std::string err;
    EXPECT_FALSE(LoadPlan(real_disk, path, &loaded, &err)) << to;
    EXPECT_EQ(err.rfind(path + ": not a pa-gen plan (", 0), 0u) << err;
    std::string field = to.substr(1, to.find('"', 1) - 1);
    EXPECT_NE(err.find("'" + field + "'"), std::string::npos) << err;
  }
}

// Issue 14 item 8: two outputs in one folder each have a plan of their own.
TEST(PlanFile, IsNamedAfterItsBuildFile) {
  EXPECT_EQ(PlanFile("/p/build.ninja"), fs::path("/p/.pa-plan.json"));
  EXPECT_EQ(PlanFile("/p/a.ninja"), fs::path("/p/.a.ninja.pa-plan.json"));
  EXPECT_EQ(PlanFile("b.ninja"), fs::path(".b.ninja.pa-plan.json"));
  EXPECT_NE(PlanFile("/p/a.ninja"), PlanFile("/p/b.ninja"));
}

}  // namespace

// The plan's text is what nlohmann's dump(1) gave when the plan was built
// as a json document (its writer until it became the slowest part of
// generating 30,000 nodes): the same bytes, so no plan changes on upgrade.
TEST(Plan, JsonIsNlohmannsDumpOfThePlan) {
  using nlohmann::json;
  Plan plan = SamplePlan();
  plan.dbt.vars = "{\"a\": \"q\\\"uote\", \"tab\": \"\t\", \"nl\": \"\n\x01\x1f\x7f\"}";
  plan.dbt.target = "prod-é-日本";
  plan.batches.push_back({"b\"odd\\name", "d4", {}, "marts", 3, {"marts", "seeds"}});
  plan.batches.push_back({"a-first", "d5", {{"model.p.x", "p.x", "f6", {}}}, "", 0, {}});
  plan.selectable = {{"model.proj.fct_orders", {"proj", "marts", "fct_orders"}, false, false},
                     {"model.proj.v.v2", {"proj", "v", "v2"}, true, true},
                     {"source.proj.s.t", {}, false, true}};
  json doc;
  doc["project_dir"] = plan.project_dir;
  for (const DbtOption& option : DbtOptions()) {
    std::visit(
        [&](auto field) {
          const auto& value = plan.dbt.*field;
          if constexpr (std::is_same_v<std::decay_t<decltype(value)>, fs::path>)
            doc[option.plan_key] = value.string();
          else
            doc[option.plan_key] = value;
        },
        option.field);
  }
  json batches = json::object();
  for (const PlanBatch& batch : plan.batches) {
    json members = json::array();
    for (const PlanMember& m : batch.members) {
      json deps = json::array();
      for (const auto& [dep_batch, dep_id] : m.deps) deps.push_back({dep_batch, dep_id});
      json member = {{"id", m.unique_id}, {"select", m.selector}, {"fingerprint", m.fingerprint},
                     {"deps", std::move(deps)}};
      if (!m.gated_by.empty()) {
        json gates = json::array();
        for (const auto& [test_batch, test_id] : m.gated_by) gates.push_back({test_batch, test_id});
        member["gated_by"] = std::move(gates);
      }
      if (m.on_error_continue) member["on_error"] = "continue";
      members.push_back(std::move(member));
    }
    batches[batch.name] = {{"digest", batch.digest}, {"members", std::move(members)}};
    if (!batch.split_from.empty()) batches[batch.name]["split_from"] = batch.split_from;
    if (batch.threads > 0) batches[batch.name]["threads"] = batch.threads;
    if (!batch.upstream.empty()) batches[batch.name]["upstream"] = batch.upstream;
  }
  doc["batches"] = std::move(batches);
  json selectable = json::array();
  for (const SelectableNode& n : plan.selectable)
    selectable.push_back({n.unique_id, n.fqn, (n.versioned ? 1 : 0) | (n.neutral ? 2 : 0)});
  doc["selectable"] = std::move(selectable);
  EXPECT_EQ(PlanToJson(plan), doc.dump(1) + "\n");

  Plan bare;  // no batches, no selectable nodes
  json empty;
  empty["project_dir"] = "";
  for (const DbtOption& option : DbtOptions())
    std::visit([&](auto field) {
      const auto& value = bare.dbt.*field;
      if constexpr (std::is_same_v<std::decay_t<decltype(value)>, fs::path>)
        empty[option.plan_key] = value.string();
      else
        empty[option.plan_key] = value;
    }, option.field);
  empty["batches"] = json::object();
  EXPECT_EQ(PlanToJson(bare), empty.dump(1) + "\n");
}

TEST(Plan, JsonRefusesTextThatIsNotUtf8AsNlohmannDid) {
  Plan plan = SamplePlan();
  plan.dbt.vars = "\xff";
  EXPECT_THROW(PlanToJson(plan), nlohmann::json::type_error);
}
