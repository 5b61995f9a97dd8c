#include "group/grouping.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

Grouping GroupGraph(const Policy& policy, const std::string& name, const DbtProject& project,
                    const Graph& graph, const std::vector<std::string>& names) {
  Grouping g;
  g.policy = name;
  g.keys = GroupKeys(policy, project, graph, names, &g.group_settings);
  g.partition = PartitionGraph(graph, g.keys, names);
  LimitBatchSize(graph, names, policy.max_batch_size, &g.partition);
  g.max_batch_size = policy.max_batch_size;
  return g;
}

Grouping GroupByDefault(const std::string& adapter_type, const DbtProject& project,
                        const Graph& graph, const std::vector<std::string>& names, Policy* policy,
                        std::string* why) {
  DefaultPolicy fallback = DefaultPolicyFor(adapter_type, policy->max_batch_size);
  std::string err;
  ParsePolicy(fallback.name, policy, &err);  // a known policy
  *why = fallback.why;
  Policy cut = *policy;
  cut.max_batch_size = fallback.max_batch_size;
  std::string name = cut.max_batch_size == policy->max_batch_size
                         ? fallback.name
                         : fmt::format("{} --max-batch-size {}", fallback.name, cut.max_batch_size);
  return GroupGraph(cut, name, project, graph, names);
}

namespace {

// The models, seeds and snapshots of the largest batch (tests do not count,
// as in LimitBatchSize).
int LargestBatch(const Graph& graph, const Partition& partition) {
  int largest = 0;
  for (const Batch& batch : partition.batches) {
    int size = 0;
    for (int m : batch.members) size += !graph.nodes[m].IsTest();
    largest = std::max(largest, size);
  }
  return largest;
}

}  // namespace

double PredictGrouping(const Policy& policy, const Grouping& grouping, const Graph& graph,
                       const CostModel& cost, int max_threads) {
  std::vector<BatchSettings> settings = SettingsOfBatches(
      policy, grouping.group_settings, grouping.keys, graph, grouping.partition, max_threads);
  return PredictBuild(graph, grouping.partition, settings, cost).seconds;
}

Grouping ChooseGrouping(const Policy& policy, const DbtProject& project, const Graph& graph,
                        const std::vector<std::string>& names, const CostModel& cost,
                        int max_threads, std::map<std::string, double>* predictions) {
  Grouping best;
  double best_seconds = 0;
  auto weigh = [&](const Policy& p, Grouping g) {
    double seconds = PredictGrouping(p, g, graph, cost, max_threads);
    (*predictions)[g.policy] = seconds;
    if (best.policy.empty() || seconds < best_seconds) {
      best = std::move(g);
      best_seconds = seconds;
    }
  };
  int largest_folder = 0;
  for (const std::string& candidate : kAutoCandidates) {
    Policy p = policy;
    std::string err;
    ParsePolicy(candidate, &p, &err);  // the candidates are known policies
    Grouping g = GroupGraph(p, candidate, project, graph, names);
    if (candidate == "folder") largest_folder = LargestBatch(graph, g.partition);
    weigh(p, std::move(g));
  }
  if (cost.jobs <= 1) return best;  // batches take turns: cutting one only adds start-ups
  std::set<int> limits;  // two k giving one limit are one candidate
  for (int k : kAutoSplits) {
    int limit = (largest_folder + k - 1) / k;
    if (limit < 1 || limit >= largest_folder || !limits.insert(limit).second) continue;
    if (policy.max_batch_size > 0 && limit >= policy.max_batch_size) continue;  // no new cut
    Policy p = policy;
    std::string err;
    ParsePolicy("folder", &p, &err);
    p.max_batch_size = limit;
    weigh(p, GroupGraph(p, fmt::format("folder --max-batch-size {}", limit), project, graph, names));
  }
  return best;
}
