#include "plan/plan_json.h"

#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dbt/options.h"
#include "util/json_number.h"

using nlohmann::json;

namespace {

json FieldJson(const std::string& value) { return value; }
json FieldJson(const fs::path& value) { return value.string(); }
json FieldJson(int value) { return value; }
void ReadField(const json& j, const char*, std::string* value) { *value = j.get<std::string>(); }
void ReadField(const json& j, const char*, fs::path* value) { *value = j.get<std::string>(); }
// Numbers are checked for type and range (util/json_number.h): a plan anyone
// can edit must not be a float-to-integer overflow.
void ReadField(const json& j, const char* key, int* value) { *value = WholeNumber<int>(j, key, 0); }

}  // namespace

// nlohmann::json keeps keys sorted in a map; ordered_json would look each
// batch name up linearly, quadratic with a batch per node.
std::string PlanToJson(const Plan& plan) {
  json doc;
  doc["project_dir"] = plan.project_dir;
  for (const DbtOption& option : DbtOptions()) {
    std::visit([&](auto field) { doc[option.plan_key] = FieldJson(plan.dbt.*field); }, option.field);
  }
  json batches = json::object();
  for (const PlanBatch& batch : plan.batches) {
    json members = json::array();
    for (const PlanMember& m : batch.members) {
      json deps = json::array();
      for (const auto& [dep_batch, dep_id] : m.deps) deps.push_back({dep_batch, dep_id});
      json member = {{"id", m.unique_id},
                     {"select", m.selector},
                     {"fingerprint", m.fingerprint},
                     {"deps", std::move(deps)}};
      if (!m.gated_by.empty()) {
        json gates = json::array();
        for (const auto& [test_batch, test_id] : m.gated_by) gates.push_back({test_batch, test_id});
        member["gated_by"] = std::move(gates);
      }
      members.push_back(std::move(member));
    }
    batches[batch.name] = {{"digest", batch.digest}, {"members", std::move(members)}};
    if (!batch.split_from.empty()) batches[batch.name]["split_from"] = batch.split_from;
    if (batch.threads > 0) batches[batch.name]["threads"] = batch.threads;
    if (!batch.upstream.empty()) batches[batch.name]["upstream"] = batch.upstream;
  }
  doc["batches"] = std::move(batches);
  // [unique_id, fqn, flags]; flags: 1 versioned, 2 neutral.
  json selectable = json::array();
  for (const SelectableNode& n : plan.selectable)
    selectable.push_back({n.unique_id, n.fqn, (n.versioned ? 1 : 0) | (n.neutral ? 2 : 0)});
  if (!plan.selectable.empty()) doc["selectable"] = std::move(selectable);
  return doc.dump(1) + "\n";
}

bool LoadPlan(Disk& disk, const fs::path& path, Plan* plan, std::string* err) {
  *plan = Plan();
  std::string text;
  if (!disk.ReadFile(path, &text, err)) return false;
  try {
    json doc = json::parse(text);
    plan->project_dir = doc.at("project_dir").get<std::string>();
    for (const DbtOption& option : DbtOptions()) {
      std::visit([&](auto field) { ReadField(doc.at(option.plan_key), option.plan_key, &(plan->dbt.*field)); },
                 option.field);
    }
    for (const auto& [name, batch] : doc.at("batches").items()) {
      PlanBatch planned{name, batch.at("digest").get<std::string>(), {},
                        batch.value("split_from", ""), WholeNumberOr<int>(batch, "threads", 0, 0),
                        batch.value("upstream", std::vector<std::string>{})};
      for (const auto& m : batch.at("members")) {
        PlanMember member{m.at("id").get<std::string>(), m.at("select").get<std::string>(),
                          m.at("fingerprint").get<std::string>(), {}};
        for (const auto& dep : m.at("deps"))
          member.deps.emplace_back(dep.at(0).get<std::string>(), dep.at(1).get<std::string>());
        if (auto gates = m.find("gated_by"); gates != m.end())
          for (const auto& gate : *gates)
            member.gated_by.emplace_back(gate.at(0).get<std::string>(), gate.at(1).get<std::string>());
        planned.members.push_back(std::move(member));
      }
      plan->batches.push_back(std::move(planned));
    }
    if (auto it = doc.find("selectable"); it != doc.end()) {
      for (const auto& n : *it) {
        int flags = WholeNumber<int>(n.at(2), "selectable flags", 0);
        plan->selectable.push_back({n.at(0).get<std::string>(),
                                    n.at(1).get<std::vector<std::string>>(), (flags & 1) != 0,
                                    (flags & 2) != 0});
      }
    }
  } catch (const std::exception& e) {  // nlohmann's, or WholeNumber's out of range
    *err = fmt::format("{}: not a pa-gen plan ({}); run pa-gen again", path.string(), e.what());
    return false;
  }
  return true;
}
