#include "write/plan.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/hash.h"

using nlohmann::json;

fs::path StampPath(const std::string& batch) {
  return fs::path(".pa") / "stamps" / (batch + ".stamp");
}

fs::path RunDir(const std::string& batch) { return fs::path(".pa") / "run" / batch; }

const PlanBatch* Plan::Find(const std::string& batch) const {
  auto it = std::find_if(batches.begin(), batches.end(),
                         [&](const PlanBatch& b) { return b.name == batch; });
  return it == batches.end() ? nullptr : &*it;
}

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
    if (!batch.group.empty()) batches[batch.name]["group"] = batch.group;
    if (batch.threads > 0) batches[batch.name]["threads"] = batch.threads;
  }
  doc["batches"] = std::move(batches);
  // [unique_id, fqn, flags]; flags: 1 versioned, 2 neutral.
  json selectable = json::array();
  for (const SelectableNode& n : plan.selectable)
    selectable.push_back({n.unique_id, n.fqn, (n.versioned ? 1 : 0) | (n.neutral ? 2 : 0)});
  if (!plan.selectable.empty()) doc["selectable"] = std::move(selectable);
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
                        batch.value("group", ""), batch.value("threads", 0)};
      for (const auto& m : batch.at("members")) {
        PlanMember member{m.at("id").get<std::string>(), m.at("select").get<std::string>(),
                          m.at("fingerprint").get<std::string>(), {}};
        for (const auto& dep : m.at("deps"))
          member.deps.emplace_back(dep.at(0).get<std::string>(), dep.at(1).get<std::string>());
        planned.members.push_back(std::move(member));
      }
      plan->batches.push_back(std::move(planned));
    }
    if (auto it = doc.find("selectable"); it != doc.end()) {
      for (const auto& n : *it) {
        int flags = n.at(2).get<int>();
        plan->selectable.push_back({n.at(0).get<std::string>(),
                                    n.at(1).get<std::vector<std::string>>(), (flags & 1) != 0,
                                    (flags & 2) != 0});
      }
    }
  } catch (const nlohmann::json::exception& e) {
    *err = fmt::format("{}: not a pa-gen plan ({}); run pa-gen again", path.string(), e.what());
    return false;
  }
  return true;
}

Plan MakePlan(const std::string& project_dir, const DbtSettings& dbt,
              const std::string& settings_digest, const Graph& graph,
              const Partition& partition, const std::vector<BatchSettings>& batch_settings) {
  Plan plan{project_dir, dbt, {}};
  for (size_t b = 0; b < partition.batches.size(); ++b) {
    const Batch& batch = partition.batches[b];
    PlanBatch planned{batch.name, "", {}, batch.group, batch_settings[b].threads};
    Hasher digest;
    for (int m : batch.members) {
      const Node& node = graph.nodes[m];
      PlanMember member{node.unique_id, node.Selector(),
                        Hasher().Add(node.fingerprint).Add(settings_digest).Hex(), {}};
      digest.Add(member.unique_id).Add(member.fingerprint);
      for (int d : node.deps) {
        member.deps.emplace_back(partition.batches[partition.batch_of[d]].name,
                                 graph.nodes[d].unique_id);
        digest.Add(graph.nodes[d].unique_id);
      }
      planned.members.push_back(std::move(member));
    }
    planned.digest = digest.Hex();
    plan.batches.push_back(std::move(planned));
  }
  return plan;
}
