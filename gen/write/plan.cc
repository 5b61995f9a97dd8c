#include "write/plan.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

using nlohmann::ordered_json;

fs::path StampPath(const std::string& batch) {
  return fs::path(".pa") / "stamps" / (batch + ".stamp");
}

fs::path RunDir(const std::string& batch) { return fs::path(".pa") / "run" / batch; }

std::string PlanToJson(const Plan& plan) {
  ordered_json doc;
  doc["project_dir"] = plan.project_dir;
  doc["dbt"] = plan.dbt.dbt.string();
  doc["profiles_dir"] = plan.dbt.profiles_dir.string();
  doc["target"] = plan.dbt.target;
  doc["vars"] = plan.dbt.vars;
  doc["threads"] = plan.dbt.threads;
  ordered_json batches = ordered_json::object();
  for (const PlanBatch& batch : plan.batches)
    batches[batch.name] = {{"selectors", batch.selectors}, {"members", batch.members}};
  doc["batches"] = std::move(batches);
  return doc.dump(1) + "\n";
}

bool LoadPlan(const fs::path& path, Plan* plan, std::string* err) {
  *plan = Plan();
  std::string text;
  if (!ReadFile(path, &text, err)) return false;
  try {
    ordered_json doc = ordered_json::parse(text);
    plan->project_dir = doc.at("project_dir").get<std::string>();
    plan->dbt.dbt = doc.at("dbt").get<std::string>();
    plan->dbt.profiles_dir = doc.at("profiles_dir").get<std::string>();
    plan->dbt.target = doc.at("target").get<std::string>();
    plan->dbt.vars = doc.at("vars").get<std::string>();
    plan->dbt.threads = doc.at("threads").get<int>();
    for (const auto& [name, batch] : doc.at("batches").items()) {
      plan->batches.push_back({name, batch.at("selectors").get<std::vector<std::string>>(),
                               batch.at("members").get<std::vector<std::string>>()});
    }
  } catch (const nlohmann::json::exception& e) {
    *err = fmt::format("{}: not a pa-gen plan ({}); run pa-gen again", path.string(), e.what());
    return false;
  }
  return true;
}

Plan MakePlan(const std::string& project_dir, const DbtSettings& dbt, const Graph& graph,
              const Partition& partition) {
  Plan plan{project_dir, dbt, {}};
  for (const Batch& batch : partition.batches) {
    PlanBatch planned{batch.name, {}, {}};
    for (int m : batch.members) {
      planned.selectors.push_back(graph.nodes[m].Selector());
      planned.members.push_back(graph.nodes[m].unique_id);
    }
    plan.batches.push_back(std::move(planned));
  }
  return plan;
}
