#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"
#include "manifest/project.h"

// How nodes are grouped into batches before the partition makes the groups
// safe (acyclic, convex).
enum class PolicyKind {
  kFolder,    // seeds, snapshots, and models by first folder under the model path
  kPerModel,  // one batch per node
};

struct Policy {
  PolicyKind kind = PolicyKind::kFolder;
};

bool ParsePolicy(const std::string& text, Policy* policy, std::string* err);

// A short name per node, unique in the graph: its name, or its unique_id
// without the resource type where two nodes share a name.
std::vector<std::string> UniqueNodeNames(const Graph& graph);

// The group key of every node. Tests get "": they follow their parents.
std::vector<std::string> GroupKeys(const Policy& policy, const DbtProject& project,
                                   const Graph& graph, const std::vector<std::string>& names);
