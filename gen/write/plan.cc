#include "write/plan.h"

#include <algorithm>

#include "util/hash.h"

Plan MakePlan(const std::string& project_dir, const DbtSettings& dbt,
              const std::string& settings_digest, const Graph& graph,
              const Partition& partition, const std::vector<BatchSettings>& batch_settings) {
  Plan plan{project_dir, dbt, {}};
  for (size_t b = 0; b < partition.batches.size(); ++b) {
    const Batch& batch = partition.batches[b];
    PlanBatch planned{batch.name, "", {}, batch.split_from, batch_settings[b].threads};
    for (int up : batch.deps) planned.upstream.push_back(partition.batches[up].name);
    std::sort(planned.upstream.begin(), planned.upstream.end());
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
