#include "group/batch_settings.h"

#include <algorithm>

std::vector<int> BatchWidths(const Graph& graph, const Partition& partition) {
  std::vector<int> depth(graph.nodes.size(), 0);
  std::vector<std::map<int, int>> per_depth(partition.batches.size());
  for (int n : graph.TopologicalOrder()) {
    if (graph.nodes[n].IsTest()) continue;
    int b = partition.batch_of[n];
    for (int p : graph.nodes[n].deps)
      if (partition.batch_of[p] == b) depth[n] = std::max(depth[n], depth[p] + 1);
    ++per_depth[b][depth[n]];
  }
  std::vector<int> widths;
  for (const auto& counts : per_depth) {
    int width = 1;
    for (const auto& [d, count] : counts) width = std::max(width, count);
    widths.push_back(width);
  }
  return widths;
}

std::vector<BatchSettings> SettingsOfBatches(const Policy& policy,
                                             const std::map<std::string, GroupSettings>& groups,
                                             const std::vector<std::string>& keys,
                                             const Graph& graph, const Partition& partition,
                                             int max_threads) {
  std::vector<int> widths = BatchWidths(graph, partition);
  std::vector<BatchSettings> out;
  for (size_t b = 0; b < partition.batches.size(); ++b) {
    const Batch& batch = partition.batches[b];
    GroupSettings group = policy.defaults;
    auto first = std::find_if(batch.members.begin(), batch.members.end(),
                              [&](int m) { return !graph.nodes[m].IsTest(); });
    if (first != batch.members.end()) {
      if (auto it = groups.find(keys[*first]); it != groups.end()) {
        if (it->second.threads > 0) group.threads = it->second.threads;
        if (!it->second.pool.empty()) group.pool = it->second.pool;
      }
    }
    BatchSettings settings{group.threads, group.pool};
    if (settings.threads == 0 && max_threads > 0)
      settings.threads = std::min(max_threads, widths[b]);
    out.push_back(settings);
  }
  return out;
}
