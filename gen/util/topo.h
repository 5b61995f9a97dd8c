#pragma once

#include <cstddef>
#include <functional>
#include <queue>
#include <vector>

// Kahn's algorithm over `deps` (for each vertex, the vertices it depends
// on): *order lists every vertex after its dependencies, ties by the
// lowest index first. Returns false when there is a cycle; *order then
// holds only the vertices outside it and what depends on none of it.
bool TopologicalOrder(const std::vector<std::vector<int>>& deps, std::vector<int>* order);

// The same over `n` vertices whose dependencies `deps_of(v)` gives (any
// range of ints), without a copy of them.
template <typename DepsOf>
bool TopologicalOrder(size_t n, const DepsOf& deps_of, std::vector<int>* order) {
  // Who uses each vertex, in one array: users of v at users[start[v]..start[v + 1]).
  std::vector<int> waiting(n, 0);
  std::vector<int> start(n + 1, 0);
  for (size_t v = 0; v < n; ++v)
    for (int d : deps_of(v)) ++start[d + 1], ++waiting[v];
  for (size_t v = 0; v < n; ++v) start[v + 1] += start[v];
  std::vector<int> users(start[n]);
  std::vector<int> filled(start.begin(), start.end() - 1);
  for (size_t v = 0; v < n; ++v)
    for (int d : deps_of(v)) users[filled[d]++] = static_cast<int>(v);
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (size_t v = 0; v < n; ++v)
    if (waiting[v] == 0) ready.push(static_cast<int>(v));
  order->clear();
  order->reserve(n);
  while (!ready.empty()) {
    int v = ready.top();
    ready.pop();
    order->push_back(v);
    for (int i = start[v]; i < start[v + 1]; ++i)
      if (--waiting[users[i]] == 0) ready.push(users[i]);
  }
  return order->size() == n;
}
