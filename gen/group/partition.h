#pragma once

#include <set>
#include <string>
#include <vector>

#include "graph/graph.h"

// A group key made a batch name, which becomes file names (stamps, state)
// and a Ninja target and is passed to `pa-gen exec`: letters, digits, `_`,
// `-` and `.`, others replaced by `_`; never empty, never starting with `-` or `.`;
// at most kMaxBatchNameLength bytes (longer keys end in a digest of the key).
inline constexpr size_t kMaxBatchNameLength = 80;
std::string SafeBatchName(const std::string& key);

struct Batch {
  std::string name;          // stable: the group key, with ".N" when a group had to be split
  std::vector<int> members;  // node indices, ascending
  std::vector<int> deps;     // upstream batch indices, ascending
  std::string split_from = "";  // for a batch split node by node: the batch it was part of
  // The groups this batch is a part of, outermost first, so that `ninja
  // staging` still builds a folder that is no longer one batch: the group
  // split to avoid a cycle (staging for staging.1), the batch LimitBatchSize
  // cut (staging.1 for staging.1.2); what such a part split node by node
  // became, and a test of such parts' nodes alone, stay in them.
  std::vector<std::string> part_of = {};
  // For a batch of a group that had to be split, why: a dependency path
  // from this batch to another batch of its group, or from another to this
  // one, through a third batch, so that the two cannot be one batch. Node
  // indices; each node reads the one before it, or is in the same batch
  // (the path goes on from another member of that batch).
  std::vector<int> split_path = {};
};

// Every node in exactly one batch; the batch graph is acyclic, so every
// batch is convex (no dependency path leaves a batch and comes back).
struct Partition {
  std::vector<Batch> batches;  // sorted by name
  std::vector<int> batch_of;   // batch index of each node
};

// `keys` names each node's group; "" marks a test, which joins the batch of
// its parents, or gets a batch of its own (named from `names`) when its
// parents sit in different batches. A group is split only where keeping it
// whole would make a cycle between batches; its parts are part_of it.
Partition PartitionGraph(const Graph& graph, const std::vector<std::string>& keys,
                         const std::vector<std::string>& names);

// Cuts every batch with more than `max_members` models, seeds and snapshots
// (tests do not count) into as few chunks as that takes, of even sizes,
// along an order where each member follows its parents and chains of
// dependent members stay together; the batch graph stays acyclic. Chunks
// are named "<batch>.1", "<batch>.2", ... (with "-2", ... where that name
// is another batch's), keep the batch's split_path and part_of, and add its name.
// A test joins the chunk that holds its parents, or gets a batch of its
// own, named after it, when they are in different chunks (its part_of the
// groups all those chunks are parts of). A `max_members` below 1 means
// no limit.
void LimitBatchSize(const Graph& graph, const std::vector<std::string>& names, int max_members,
                    Partition* partition);

// Replaces every batch named in `failed` that has more than one member by
// one batch per model, seed or snapshot (with the tests of that node alone),
// named "<batch>.<node name>", so that the rerun after a failure runs only
// what failed and what depends on it. The parts keep the batch's part_of.
void SplitIntoNodes(const Graph& graph, const std::vector<std::string>& names,
                    const std::set<std::string>& failed, Partition* partition);

// "3 models, 1 seed, 5 tests": what a batch holds, kinds by name.
std::string DescribeMembers(const Graph& graph, const Batch& batch);
