#include "write/plan.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/escape.h"
#include "util/hash.h"

using nlohmann::ordered_json;

fs::path StampPath(const std::string& batch) {
  return fs::path(".pa") / "stamps" / (batch + ".stamp");
}

fs::path RunDir(const std::string& batch) { return fs::path(".pa") / "run" / batch; }

const PlanBatch* Plan::Find(const std::string& batch) const {
  auto it = std::find_if(batches.begin(), batches.end(),
                         [&](const PlanBatch& b) { return b.name == batch; });
  return it == batches.end() ? nullptr : &*it;
}

namespace {

// `items` as a JSON array at `indent`, one item per line, as nlohmann's dump(1).
template <typename T, typename Write>
void Array(std::string* out, const std::vector<T>& items, int indent, Write write) {
  if (items.empty()) {
    *out += "[]";
    return;
  }
  *out += "[\n";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) *out += ",\n";
    out->append(indent + 1, ' ');
    write(items[i]);
  }
  *out += '\n';
  out->append(indent, ' ');
  *out += ']';
}

}  // namespace

// Written directly, byte for byte what nlohmann's ordered_json.dump(1) gave:
// building an ordered_json costs a linear search per batch name, which is
// quadratic with a batch per node.
std::string PlanToJson(const Plan& plan) {
  std::string out = "{\n";
  out += fmt::format(" \"project_dir\": {},\n", JsonQuote(plan.project_dir));
  out += fmt::format(" \"dbt\": {},\n", JsonQuote(plan.dbt.dbt.string()));
  out += fmt::format(" \"profiles_dir\": {},\n", JsonQuote(plan.dbt.profiles_dir.string()));
  out += fmt::format(" \"target\": {},\n", JsonQuote(plan.dbt.target));
  out += fmt::format(" \"vars\": {},\n", JsonQuote(plan.dbt.vars));
  out += fmt::format(" \"threads\": {},\n", plan.dbt.threads);
  out += fmt::format(" \"batch_timeout\": {},\n", plan.dbt.batch_timeout);
  out += fmt::format(" \"retries\": {},\n", plan.dbt.retries);
  out += " \"batches\": ";
  if (plan.batches.empty()) out += "{}";
  for (size_t b = 0; b < plan.batches.size(); ++b) {
    const PlanBatch& batch = plan.batches[b];
    out += b ? ",\n  " : "{\n  ";
    out += fmt::format("{}: {{\n   \"digest\": {},\n   \"members\": ", JsonQuote(batch.name),
                       JsonQuote(batch.digest));
    Array(&out, batch.members, 3, [&](const PlanMember& m) {
      out += fmt::format("{{\n     \"id\": {},\n     \"select\": {},\n     \"fingerprint\": {},\n"
                         "     \"deps\": ",
                         JsonQuote(m.unique_id), JsonQuote(m.selector), JsonQuote(m.fingerprint));
      Array(&out, m.deps, 5, [&](const std::pair<std::string, std::string>& dep) {
        out += fmt::format("[\n       {},\n       {}\n      ]", JsonQuote(dep.first),
                           JsonQuote(dep.second));
      });
      out += "\n    }";
    });
    if (!batch.group.empty()) out += fmt::format(",\n   \"group\": {}", JsonQuote(batch.group));
    out += "\n  }";
  }
  if (!plan.batches.empty()) out += "\n }";
  return out + "\n}\n";
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
    plan->dbt.batch_timeout = doc.at("batch_timeout").get<int>();
    plan->dbt.retries = doc.at("retries").get<int>();
    for (const auto& [name, batch] : doc.at("batches").items()) {
      PlanBatch planned{name, batch.at("digest").get<std::string>(), {},
                        batch.value("group", "")};
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

Plan MakePlan(const std::string& project_dir, const DbtSettings& dbt,
              const std::string& settings_digest, const Graph& graph,
              const Partition& partition) {
  Plan plan{project_dir, dbt, {}};
  for (const Batch& batch : partition.batches) {
    PlanBatch planned{batch.name, "", {}, batch.group};
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
