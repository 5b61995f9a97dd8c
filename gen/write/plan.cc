#include "write/plan.h"

#include <algorithm>
#include <string_view>
#include <unordered_set>

#include <fmt/format.h>

#include "util/hash.h"

namespace {

// For each node, the tests in other batches whose failure holds it back:
// as `dbt build` does, a test gates every node downstream of all of its
// parents. Only the first such nodes (children of a parent) are listed:
// a node held back is recorded as skipped, and its skip holds back its own
// descendants through their deps.
std::vector<std::vector<int>> Gates(const Graph& graph, const Partition& partition) {
  size_t n = graph.nodes.size();
  std::vector<std::vector<int>> children(n);
  for (size_t v = 0; v < n; ++v)
    for (int d : graph.nodes[v].deps) children[d].push_back(static_cast<int>(v));
  std::vector<std::vector<int>> gates(n);
  // Gated nodes are in another batch than their test: none in one batch.
  if (partition.batches.size() <= 1) return gates;
  // Reused by every test with several parents, reset through `touched`
  // (a fresh pair per test made this quadratic in the project's size).
  std::vector<int> count(n, 0);
  std::vector<int> seen_by(n, -1);  // the parent index that last reached a node
  std::vector<int> touched;
  for (size_t t = 0; t < n; ++t) {
    const Node& test = graph.nodes[t];
    if (test.kind != NodeKind::kTest || test.deps.empty()) continue;
    std::vector<int> gated;
    if (test.deps.size() == 1) {
      gated = children[test.deps[0]];
    } else {
      // Downstream of every parent; of those, the ones with a parent among the test's parents
      // or among the others not gated (the frontier).
      for (size_t i = 0; i < test.deps.size(); ++i) {
        std::vector<int> stack = {test.deps[i]};
        while (!stack.empty()) {
          int v = stack.back();
          stack.pop_back();
          for (int c : children[v])
            if (seen_by[c] != static_cast<int>(i)) {
              if (seen_by[c] == -1) touched.push_back(c);
              seen_by[c] = static_cast<int>(i);
              ++count[c];
              stack.push_back(c);
            }
        }
      }
      int all = static_cast<int>(test.deps.size());
      std::sort(touched.begin(), touched.end());  // node order, as the full scan had
      for (int v : touched) {
        if (count[v] != all) continue;
        bool frontier = true;
        for (int d : graph.nodes[v].deps) frontier = frontier && count[d] != all;
        if (frontier) gated.push_back(v);
      }
      for (int v : touched) count[v] = 0, seen_by[v] = -1;
      touched.clear();
    }
    for (int g : gated)
      if (!graph.nodes[g].IsTest() && partition.batch_of[g] != partition.batch_of[t])
        gates[g].push_back(static_cast<int>(t));
  }
  return gates;
}

}  // namespace

Plan MakePlan(const std::string& project_dir, const DbtSettings& dbt,
              const std::string& settings_digest, const Graph& graph,
              const Partition& partition, const std::vector<BatchSettings>& batch_settings) {
  Plan plan{project_dir, dbt, {}};
  std::vector<std::vector<int>> gates = Gates(graph, partition);
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
      for (int t : gates[m])
        member.gated_by.emplace_back(partition.batches[partition.batch_of[t]].name,
                                     graph.nodes[t].unique_id);
      member.on_error_continue = node.on_error_continue;
      planned.members.push_back(std::move(member));
    }
    planned.digest = digest.Hex();
    plan.batches.push_back(std::move(planned));
  }
  return plan;
}

std::vector<SelectableNode> SelectableNodes(const Manifest& manifest, const Graph& graph) {
  // Both lists are sorted by unique_id (the graph keeps the manifest's
  // order), so whether a node is executable is one walk along the graph.
  std::vector<std::string_view> executable;
  executable.reserve(graph.nodes.size());
  for (const Node& node : graph.nodes) executable.push_back(node.unique_id);
  if (!std::is_sorted(executable.begin(), executable.end()))
    std::sort(executable.begin(), executable.end());
  auto next_executable = executable.begin();
  std::unordered_set<std::string_view> tested;  // parents of a test
  tested.reserve(manifest.nodes.size());
  for (const ManifestNode& node : manifest.nodes)
    if (node.resource_type == "test" || node.resource_type == "unit_test")
      for (const std::string& parent : node.depends_on_nodes) tested.insert(parent);
  std::vector<SelectableNode> nodes;
  nodes.reserve(manifest.nodes.size());
  for (const ManifestNode& node : manifest.nodes) {
    std::string_view id = node.unique_id;
    while (next_executable != executable.end() && *next_executable < id) ++next_executable;
    bool is_executable = next_executable != executable.end() && *next_executable == id;
    const std::vector<std::string>& fqn = node.fqn;
    if (fqn.empty()) continue;
    // A versioned model's fqn ends in its version; its unique_id too.
    bool versioned = node.resource_type == "model" && fqn.size() >= 2 &&
                     fqn[fqn.size() - 2] == node.name &&
                     node.unique_id == fmt::format("model.{}.{}.{}", node.package_name, node.name,
                                                   fqn.back());
    bool neutral = !is_executable && !tested.count(id);
    nodes.push_back({node.unique_id, fqn, versioned, neutral});
  }
  return nodes;
}
