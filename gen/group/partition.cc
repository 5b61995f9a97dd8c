#include "group/partition.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace {

// Batch names become file names and Ninja targets.
std::string SafeName(const std::string& key) {
  std::string out;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out.empty() ? "_" : out;
}

// Parts of groups joined by union, with the part graph kept up to date, so
// a merge can be checked against the graph it would change.
class PartGraph {
 public:
  explicit PartGraph(int parts) : succ_(parts), pred_(parts) {}

  void AddEdge(int from, int to) {
    if (from == to) return;
    succ_[from].insert(to);
    pred_[to].insert(from);
  }

  // Merging a and b makes a cycle iff one reaches the other through a third part.
  bool CanMerge(int a, int b) const { return !ReachesVia(a, b) && !ReachesVia(b, a); }

  // Folds `from` into `into`.
  void Merge(int into, int from) {
    for (int s : succ_[from]) {
      pred_[s].erase(from);
      AddEdge(into, s);
    }
    for (int p : pred_[from]) {
      succ_[p].erase(from);
      AddEdge(p, into);
    }
    succ_[into].erase(from);
    pred_[into].erase(from);
    succ_[from].clear();
    pred_[from].clear();
  }

 private:
  bool ReachesVia(int from, int to) const {
    std::vector<int> stack;
    std::set<int> seen = {from};
    for (int s : succ_[from])
      if (s != to && seen.insert(s).second) stack.push_back(s);
    while (!stack.empty()) {
      int n = stack.back();
      stack.pop_back();
      for (int s : succ_[n]) {
        if (s == to) return true;
        if (seen.insert(s).second) stack.push_back(s);
      }
    }
    return false;
  }

  std::vector<std::set<int>> succ_;
  std::vector<std::set<int>> pred_;
};

// Whether `node` depends on `ancestor`, directly or not.
bool DependsOn(const Graph& graph, int node, int ancestor) {
  std::vector<int> todo = {node};
  std::set<int> seen;
  while (!todo.empty()) {
    int n = todo.back();
    todo.pop_back();
    for (int d : graph.nodes[n].deps) {
      if (d == ancestor) return true;
      if (seen.insert(d).second) todo.push_back(d);
    }
  }
  return false;
}

// Names made unique, batches sorted by name, node-to-batch index and batch
// dependencies filled in.
Partition Assemble(const Graph& graph, std::vector<Batch> batches) {
  // Two groups whose keys sanitise alike get -2, -3, ... in member order.
  std::vector<int> by_name(batches.size());
  for (size_t i = 0; i < batches.size(); ++i) by_name[i] = static_cast<int>(i);
  std::sort(by_name.begin(), by_name.end(), [&](int a, int b) {
    if (batches[a].name != batches[b].name) return batches[a].name < batches[b].name;
    return batches[a].members.front() < batches[b].members.front();
  });
  std::set<std::string> taken;
  for (const Batch& batch : batches) taken.insert(batch.name);
  std::string previous;
  for (int b : by_name) {
    std::string base = batches[b].name;
    if (base != previous) {
      previous = base;
      continue;  // the first holder keeps its name
    }
    for (int k = 2;; ++k) {
      std::string candidate = fmt::format("{}-{}", base, k);
      if (taken.insert(candidate).second) {
        batches[b].name = candidate;
        break;
      }
    }
  }
  std::sort(batches.begin(), batches.end(),
            [](const Batch& a, const Batch& b) { return a.name < b.name; });

  Partition partition;
  partition.batch_of.resize(graph.nodes.size());
  for (size_t b = 0; b < batches.size(); ++b)
    for (int m : batches[b].members) partition.batch_of[m] = static_cast<int>(b);
  for (size_t b = 0; b < batches.size(); ++b) {
    std::set<int> deps;
    for (int m : batches[b].members)
      for (int d : graph.nodes[m].deps)
        if (partition.batch_of[d] != static_cast<int>(b)) deps.insert(partition.batch_of[d]);
    batches[b].deps.assign(deps.begin(), deps.end());
  }
  partition.batches = std::move(batches);
  return partition;
}

}  // namespace

Partition PartitionGraph(const Graph& graph, const std::vector<std::string>& keys,
                         const std::vector<std::string>& names) {
  const int n = static_cast<int>(graph.nodes.size());
  std::vector<int> order = graph.TopologicalOrder();

  // 1. Rank each node by how many group changes lie on the longest path to
  // it. Parts (key, rank) never make a cycle: every edge between two parts
  // goes to a higher rank.
  std::vector<int> rank(n, 0);
  for (int v : order) {
    if (keys[v].empty()) continue;
    for (int d : graph.nodes[v].deps) {
      if (keys[d].empty()) continue;
      rank[v] = std::max(rank[v], keys[d] == keys[v] ? rank[d] : rank[d] + 1);
    }
  }
  std::map<std::pair<std::string, int>, int> part_ids;  // ordered: by key, then rank
  for (int v = 0; v < n; ++v) {
    if (!keys[v].empty()) part_ids.emplace(std::make_pair(keys[v], rank[v]), 0);
  }
  int parts = 0;
  for (auto& [key, id] : part_ids) id = parts++;
  std::vector<int> part_of(n, -1);
  for (int v = 0; v < n; ++v)
    if (!keys[v].empty()) part_of[v] = part_ids.at({keys[v], rank[v]});
  PartGraph part_graph(parts);
  for (int v = 0; v < n; ++v) {
    if (part_of[v] < 0) continue;
    for (int d : graph.nodes[v].deps)
      if (part_of[d] >= 0) part_graph.AddEdge(part_of[d], part_of[v]);
  }

  // 2. The ranks split more than needed: merge the parts of each group back
  // together, earliest first, wherever the merge leaves the graph acyclic.
  std::vector<int> owner(parts);  // part -> the part it was merged into
  for (int p = 0; p < parts; ++p) owner[p] = p;
  std::map<std::string, std::vector<int>> survivors;  // key -> surviving parts by rank
  for (const auto& [key_rank, id] : part_ids) {
    std::vector<int>& kept = survivors[key_rank.first];
    bool merged = false;
    for (int s : kept) {
      if (part_graph.CanMerge(s, id)) {
        part_graph.Merge(s, id);
        owner[id] = s;
        merged = true;
        break;
      }
    }
    if (!merged) kept.push_back(id);
  }

  // 3. Name the batches: the key, or key.1, key.2, ... in rank order when split.
  struct Draft {
    std::string name;
    std::vector<int> members;
  };
  std::vector<Draft> drafts;
  std::vector<int> draft_of_part(parts, -1);
  for (const auto& [key, kept] : survivors) {
    for (size_t i = 0; i < kept.size(); ++i) {
      draft_of_part[kept[i]] = static_cast<int>(drafts.size());
      std::string name = SafeName(key);
      if (kept.size() > 1) name += fmt::format(".{}", i + 1);
      drafts.push_back({name, {}});
    }
  }
  std::vector<int> draft_of(n, -1);
  for (int v = 0; v < n; ++v) {
    if (part_of[v] < 0) continue;
    draft_of[v] = draft_of_part[owner[part_of[v]]];
  }

  // 4. Tests follow their parents; a test across batches runs on its own.
  for (int v = 0; v < n; ++v) {
    if (!keys[v].empty()) continue;
    std::set<int> parent_batches;
    for (int d : graph.nodes[v].deps) parent_batches.insert(draft_of[d]);
    if (parent_batches.size() == 1) {
      draft_of[v] = *parent_batches.begin();
    } else {
      draft_of[v] = static_cast<int>(drafts.size());
      drafts.push_back({SafeName(names[v]), {}});
    }
  }
  for (int v = 0; v < n; ++v) drafts[draft_of[v]].members.push_back(v);

  std::vector<Batch> batches;
  for (Draft& draft : drafts) batches.push_back({draft.name, std::move(draft.members), {}, ""});
  return Assemble(graph, std::move(batches));
}

void SplitIntoNodes(const Graph& graph, const std::vector<std::string>& names,
                    const std::set<std::string>& failed, Partition* partition) {
  std::vector<Batch> batches;
  for (Batch& batch : partition->batches) {
    if (!failed.count(batch.name) || batch.members.size() < 2) {
      batches.push_back({batch.name, std::move(batch.members), {}, batch.group});
      continue;
    }
    // One batch per model, seed or snapshot. A test stays with its parent
    // here (with the last of its parents, when the others lead to it), so
    // that, as in `dbt build`, a failing test stops what depends on the
    // tested node; other tests get a batch of their own.
    std::map<int, size_t> batch_of_node;
    for (int m : batch.members) {
      if (graph.nodes[m].IsTest()) continue;
      batch_of_node[m] = batches.size();
      batches.push_back({batch.name + "." + SafeName(names[m]), {m}, {}, batch.name});
    }
    for (int m : batch.members) {
      if (!graph.nodes[m].IsTest()) continue;
      std::vector<int> parents;
      for (int d : graph.nodes[m].deps)
        if (batch_of_node.count(d)) parents.push_back(d);
      // The parent that all the others lead to, if there is one.
      int last = -1;
      for (int p : parents) {
        bool after_all = true;
        for (int q : parents) after_all = after_all && (q == p || DependsOn(graph, p, q));
        if (after_all) last = p;
      }
      if (last >= 0) {
        batches[batch_of_node[last]].members.push_back(m);
      } else {
        batches.push_back({batch.name + "." + SafeName(names[m]), {m}, {}, batch.name});
      }
    }
  }
  for (Batch& batch : batches) std::sort(batch.members.begin(), batch.members.end());
  *partition = Assemble(graph, std::move(batches));
}
