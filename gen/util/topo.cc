#include "util/topo.h"

#include <functional>
#include <queue>

bool TopologicalOrder(const std::vector<std::vector<int>>& deps, std::vector<int>* order) {
  size_t n = deps.size();
  std::vector<int> waiting(n, 0);
  std::vector<std::vector<int>> users(n);
  for (size_t v = 0; v < n; ++v) {
    for (int d : deps[v]) {
      ++waiting[v];
      users[d].push_back(static_cast<int>(v));
    }
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (size_t v = 0; v < n; ++v)
    if (waiting[v] == 0) ready.push(static_cast<int>(v));
  order->clear();
  while (!ready.empty()) {
    int v = ready.top();
    ready.pop();
    order->push_back(v);
    for (int u : users[v])
      if (--waiting[u] == 0) ready.push(u);
  }
  return order->size() == n;
}
