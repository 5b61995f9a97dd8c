#include "util/topo.h"

bool TopologicalOrder(const std::vector<std::vector<int>>& deps, std::vector<int>* order) {
  return TopologicalOrder(deps.size(), [&](size_t v) -> const std::vector<int>& { return deps[v]; },
                          order);
}
