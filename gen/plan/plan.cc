#include "plan/plan.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "util/topo.h"

const PlanBatch* Plan::Find(const std::string& batch) const {
  auto it = std::lower_bound(batches.begin(), batches.end(), batch,
                             [](const PlanBatch& b, const std::string& name) { return b.name < name; });
  if (it != batches.end() && it->name == batch) return &*it;
  // Not sorted (a hand-made plan): look at every batch.
  auto found = std::find_if(batches.begin(), batches.end(),
                            [&](const PlanBatch& b) { return b.name == batch; });
  return found == batches.end() ? nullptr : &*found;
}

std::vector<const PlanBatch*> RunOrder(const Plan& plan) {
  std::map<std::string, int> index;
  for (size_t b = 0; b < plan.batches.size(); ++b) index[plan.batches[b].name] = static_cast<int>(b);
  std::vector<std::vector<int>> upstream(plan.batches.size());
  for (size_t b = 0; b < plan.batches.size(); ++b)
    for (const std::string& u : plan.batches[b].upstream)
      if (auto it = index.find(u); it != index.end() && it->second != static_cast<int>(b))
        upstream[b].push_back(it->second);
  // The pass in which a batch becomes ready: that of its latest upstream,
  // one more when that one comes after it by name.
  std::vector<int> order;
  TopologicalOrder(upstream, &order);  // a cycle leaves those batches out
  std::vector<int> pass(plan.batches.size(), 0);
  for (int b : order)
    for (int u : upstream[b]) pass[b] = std::max(pass[b], pass[u] + (u > b ? 1 : 0));
  std::sort(order.begin(), order.end(),
            [&](int a, int b) { return std::tie(pass[a], a) < std::tie(pass[b], b); });
  std::vector<const PlanBatch*> out;
  for (int b : order) out.push_back(&plan.batches[b]);
  return out;
}

bool HasDownstream(const Plan& plan, const std::string& name) {
  for (const PlanBatch& other : plan.batches)
    if (other.name != name &&
        std::find(other.upstream.begin(), other.upstream.end(), name) != other.upstream.end())
      return true;
  return false;
}
