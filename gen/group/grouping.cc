#include "group/grouping.h"

Grouping GroupGraph(const Policy& policy, const std::string& name, const DbtProject& project,
                    const Graph& graph, const std::vector<std::string>& names) {
  Grouping g;
  g.policy = name;
  g.keys = GroupKeys(policy, project, graph, names, &g.group_settings);
  g.partition = PartitionGraph(graph, g.keys, names);
  LimitBatchSize(graph, names, policy.max_batch_size, &g.partition);
  return g;
}

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
  for (const std::string& candidate : kAutoCandidates) {
    Policy p = policy;
    std::string err;
    ParsePolicy(candidate, &p, &err);  // the candidates are known policies
    Grouping g = GroupGraph(p, candidate, project, graph, names);
    double seconds = PredictGrouping(p, g, graph, cost, max_threads);
    (*predictions)[candidate] = seconds;
    if (best.policy.empty() || seconds < best_seconds) {
      best = std::move(g);
      best_seconds = seconds;
    }
  }
  return best;
}
