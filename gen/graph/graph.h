#pragma once

#include <set>
#include <string>
#include <vector>

#include "manifest/manifest.h"

enum class NodeKind { kSeed, kModel, kSnapshot, kTest, kUnitTest };

const char* NodeKindName(NodeKind kind);

// A node dbt executes. Ephemeral models are not nodes: they are folded into
// the nodes that use them (their files become inputs, their parents deps).
struct Node {
  std::string unique_id;
  std::string name;
  std::string package;
  NodeKind kind = NodeKind::kModel;
  std::vector<std::string> fqn;
  std::string file;                 // original_file_path (relative to its package)
  std::string materialized;
  // A model with config.on_error: continue: when it fails, `dbt build`
  // still runs its descendants (dbt 1.12; only models).
  bool on_error_continue = false;
  std::vector<std::string> tags;                              // see ManifestNode
  std::vector<std::pair<std::string, std::string>> meta;      // see ManifestNode
  std::vector<std::string> inputs;  // project files that define it, relative to the project, sorted
  std::vector<int> deps;            // executable parents, ascending
  // Changes when anything that defines the node's result changes, apart
  // from its executable parents: its definition, every macro it uses
  // (transitively, any package) and every ephemeral model folded into it.
  std::string fingerprint;
  bool checksum_is_path = false;  // see ManifestNode

  bool IsTest() const { return kind == NodeKind::kTest || kind == NodeKind::kUnitTest; }
  // dbt's exact selector for this node: the dotted fqn.
  std::string Selector() const;
};

struct Graph {
  std::vector<Node> nodes;  // sorted by unique_id

  // Parents before children; ties in node order, so the result is deterministic.
  std::vector<int> TopologicalOrder() const;
};

// Fails (naming the manifest) on a dependency cycle or on a reference to an
// executable node the manifest does not have.
bool BuildGraph(const Manifest& manifest, const std::string& manifest_file, Graph* graph,
                std::string* err);

// Mixes the content of the files dbt checksums only by path (seeds over
// 1 MiB) into their nodes' fingerprints; `project_dir` holds them.
bool FingerprintFileContents(const fs::path& project_dir, Graph* graph, std::string* err);

// The nodes of `graph` whose unique_id is in `ids` (a dbt selection), in
// the same order. A parent left out is a dependency no more: as with
// `dbt build --select`, it is taken to be built already.
Graph SelectNodes(const Graph& graph, const std::set<std::string>& ids);
