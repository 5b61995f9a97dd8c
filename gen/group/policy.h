#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "manifest/project.h"

// How nodes are grouped into batches before the partition makes the groups
// safe (acyclic, convex). Tests never get a group of their own choosing:
// they follow their parents.
enum class PolicyKind {
  kFolder,        // seeds, snapshots, and models by their first N folders under the model path
  kPerModel,      // one batch per node
  kTag,           // by first tag (or first of a named list); untagged nodes by folder
  kMeta,          // by config.meta[key]; nodes without it by folder
  kResourceType,  // seeds, models, snapshots
  kLevel,         // by topological generation: level0 holds the nodes without parents
  kComponent,     // by weakly connected component (tests connect too)
  kSingle,        // everything in one group
  kAuto,          // the candidate grouping with the shortest predicted build (group/grouping.h)
};

// A rule of a policy file: which nodes it matches (every field given must
// match) and the group it puts them in.
struct PolicyRule {
  int line = 0;  // in the policy file, for messages
  std::string path;  // glob on the node's file, relative to its package
  std::string tag;
  std::string resource_type;
  std::string package;
  std::string materialized;
  std::vector<std::pair<std::string, std::string>> meta;  // all must match
  // May hold {folder}, {name}, {tag}, {resource_type}, {package},
  // {materialized}, {meta.KEY}.
  std::string group;
  int threads = 0;   // dbt --threads for the group's batches; 0: the default
  std::string pool;  // Ninja pool for the group's batches; "": the default
};

// A group's settings from the policy file.
struct GroupSettings {
  int threads = 0;
  std::string pool;
};

struct Policy {
  // As --policy or the policy file's defaults name it; "" until one does
  // (then the adapter's default, DefaultPolicyFor).
  std::string name;
  PolicyKind kind = PolicyKind::kFolder;
  int folder_depth = 1;           // folder:N
  std::vector<std::string> tags;  // tag:a,b; empty: a node's first tag
  std::string meta_key;           // meta:KEY
  // From a policy file: the first rule that matches a node names its
  // group; nodes no rule matches are grouped by `kind`.
  std::vector<PolicyRule> rules;
  int max_batch_size = 0;  // 0: no limit
  GroupSettings defaults;
  std::map<std::string, int> pools;  // name -> depth
};

// `text` is a --policy value: folder, folder:N, per-model, tag, tag:a,b,
// meta:KEY, resource-type, level, component, single, auto.
bool ParsePolicy(const std::string& text, Policy* policy, std::string* err);

// The most models, seeds and snapshots in one batch of the server default:
// a folder's batch above it is cut along the DAG (as --max-batch-size
// cuts). One dbt process runs its Python on one core, so a folder in one
// batch builds on one core however many threads it has, and folders that
// depend on one another in a chain run one after another whatever -j
// says. Cut, each folder runs as several processes side by side. 64: a
// piece of 64 models and their tests holds about 4.5 s of dbt's own CPU
// (36-40 ms a node, measured on layered-500-cost50ms-postgres) against
// the 0.5-0.9 s a batch costs before and after its nodes, and a folder of
// 125 models is cut in two, the cut that measured fastest there on two
// cores (0.66x `dbt build`; in four, 0.89x: four processes on two cores).
// Small folders (planalign's) stay whole.
inline constexpr int kServerMaxBatchSize = 64;

// The policy a build gets when neither --policy nor the policy file names
// one, and why, for `pa-gen explain`. A fixed rule per adapter, never a
// prediction from recorded node times, so that the same project gives the
// same batches whatever earlier runs measured:
// - where one process at a time may write (DuckDB), batches take turns, so
//   every batch adds dbt's fixed cost and buys nothing: `single`. Skipping
//   is per node and a batch runs only its stale members, so one batch costs
//   no more in an edit or after a failure either;
// - on a server, batches run side by side: `folder`, each folder's batch
//   cut into pieces of at most kServerMaxBatchSize models unless a limit
//   was given (--max-batch-size, the policy file's max_batch_size).
struct DefaultPolicy {
  std::string name;
  int max_batch_size = 0;  // the limit the default cuts batches to; 0: none
  std::string why;
};
// `given_max_batch_size`: the limit the options set (0: none), which the
// default keeps and names in `why`.
DefaultPolicy DefaultPolicyFor(const std::string& adapter_type, int given_max_batch_size = 0);

// A short name per node, unique in the graph: its name, or its unique_id
// without the resource type where two nodes share a name.
std::vector<std::string> UniqueNodeNames(const Graph& graph);

// The group key of every node. Tests get "": they follow their parents.
// When `settings` is given it receives each group's settings from the
// policy file: those of the first rule that named it.
std::vector<std::string> GroupKeys(const Policy& policy, const DbtProject& project,
                                   const Graph& graph, const std::vector<std::string>& names,
                                   std::map<std::string, GroupSettings>* settings = nullptr);
