#include "plan/plan_json.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

using nlohmann::json;

// nlohmann::json keeps keys sorted in a map; ordered_json would look each
// batch name up linearly, quadratic with a batch per node.
std::string PlanToJson(const Plan& plan) {
  json doc;
  doc["project_dir"] = plan.project_dir;
  doc["dbt"] = plan.dbt.dbt.string();
  doc["profiles_dir"] = plan.dbt.profiles_dir.string();
  doc["target"] = plan.dbt.target;
  doc["vars"] = plan.dbt.vars;
  doc["threads"] = plan.dbt.threads;
  doc["batch_timeout"] = plan.dbt.batch_timeout;
  doc["retries"] = plan.dbt.retries;
  json batches = json::object();
  for (const PlanBatch& batch : plan.batches) {
    json members = json::array();
    for (const PlanMember& m : batch.members) {
      json deps = json::array();
      for (const auto& [dep_batch, dep_id] : m.deps) deps.push_back({dep_batch, dep_id});
      members.push_back({{"id", m.unique_id},
                         {"select", m.selector},
                         {"fingerprint", m.fingerprint},
                         {"deps", std::move(deps)}});
    }
    batches[batch.name] = {{"digest", batch.digest}, {"members", std::move(members)}};
    if (!batch.split_from.empty()) batches[batch.name]["split_from"] = batch.split_from;
    if (batch.threads > 0) batches[batch.name]["threads"] = batch.threads;
    if (!batch.upstream.empty()) batches[batch.name]["upstream"] = batch.upstream;
  }
  doc["batches"] = std::move(batches);
  return doc.dump(1) + "\n";
}

bool LoadPlan(const fs::path& path, Plan* plan, std::string* err) {
  *plan = Plan();
  std::string text;
  if (!ReadFile(path, &text, err)) return false;
  try {
    json doc = json::parse(text);
    plan->project_dir = doc.at("project_dir").get<std::string>();
    plan->dbt.dbt = doc.at("dbt").get<std::string>();
    plan->dbt.profiles_dir = doc.at("profiles_dir").get<std::string>();
    plan->dbt.target = doc.at("target").get<std::string>();
    plan->dbt.vars = doc.at("vars").get<std::string>();
    plan->dbt.threads = doc.at("threads").get<int>();
    plan->dbt.batch_timeout = doc.at("batch_timeout").get<int>();
    plan->dbt.retries = doc.at("retries").get<int>();
    for (const auto& [name, batch] : doc.at("batches").items()) {
      PlanBatch planned{name, batch.at("digest").get<std::string>(), {},
                        batch.value("split_from", ""), batch.value("threads", 0),
                        batch.value("upstream", std::vector<std::string>{})};
      for (const auto& m : batch.at("members")) {
        PlanMember member{m.at("id").get<std::string>(), m.at("select").get<std::string>(),
                          m.at("fingerprint").get<std::string>(), {}};
        for (const auto& dep : m.at("deps"))
          member.deps.emplace_back(dep.at(0).get<std::string>(), dep.at(1).get<std::string>());
        planned.members.push_back(std::move(member));
      }
      plan->batches.push_back(std::move(planned));
    }
  } catch (const nlohmann::json::exception& e) {
    *err = fmt::format("{}: not a pa-gen plan ({}); run pa-gen again", path.string(), e.what());
    return false;
  }
  return true;
}
