#pragma once

#include <vector>

// Kahn's algorithm over `deps` (for each vertex, the vertices it depends
// on): *order lists every vertex after its dependencies, ties by the
// lowest index first. Returns false when there is a cycle; *order then
// holds only the vertices outside it and what depends on none of it.
bool TopologicalOrder(const std::vector<std::vector<int>>& deps, std::vector<int>* order);
