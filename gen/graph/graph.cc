#include "graph/graph.h"

#include <algorithm>
#include <queue>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "util/hash.h"

const char* NodeKindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kSeed: return "seed";
    case NodeKind::kModel: return "model";
    case NodeKind::kSnapshot: return "snapshot";
    case NodeKind::kTest: return "test";
    case NodeKind::kUnitTest: return "unit_test";
  }
  return "?";
}

std::string Node::Selector() const {
  std::string s;
  for (const std::string& part : fqn) s += (s.empty() ? "" : ".") + part;
  return s;
}

std::vector<int> Graph::TopologicalOrder() const {
  std::vector<int> pending(nodes.size());
  std::vector<std::vector<int>> children(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    pending[i] = static_cast<int>(nodes[i].deps.size());
    for (int d : nodes[i].deps) children[d].push_back(static_cast<int>(i));
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (pending[i] == 0) ready.push(static_cast<int>(i));
  std::vector<int> order;
  while (!ready.empty()) {
    int n = ready.top();
    ready.pop();
    order.push_back(n);
    for (int c : children[n])
      if (--pending[c] == 0) ready.push(c);
  }
  return order;  // shorter than nodes.size() when there is a cycle
}

namespace {

bool KindOf(const ManifestNode& node, NodeKind* kind) {
  const std::string& t = node.resource_type;
  if (t == "model") *kind = NodeKind::kModel;
  else if (t == "seed") *kind = NodeKind::kSeed;
  else if (t == "snapshot") *kind = NodeKind::kSnapshot;
  else if (t == "test") *kind = NodeKind::kTest;
  else if (t == "unit_test") *kind = NodeKind::kUnitTest;
  else return false;
  return node.enabled && !(t == "model" && node.materialized == "ephemeral");
}

bool IsEphemeral(const ManifestNode& node) {
  return node.resource_type == "model" && node.materialized == "ephemeral";
}

// Folds ephemeral models: collects the inputs and executable parents of a
// node, looking through every ephemeral model it uses.
class GraphBuilder {
 public:
  GraphBuilder(const Manifest& manifest, const std::string& manifest_file)
      : manifest_(manifest), manifest_file_(manifest_file) {
    for (size_t i = 0; i < manifest.nodes.size(); ++i)
      node_index_[manifest.nodes[i].unique_id] = i;
    for (size_t i = 0; i < manifest.macros.size(); ++i)
      macro_index_[manifest.macros[i].unique_id] = i;
  }

  bool Build(Graph* graph, std::string* err) {
    std::unordered_map<std::string, int> executable;
    for (const ManifestNode& m : manifest_.nodes) {
      NodeKind kind;
      if (!KindOf(m, &kind)) continue;
      executable[m.unique_id] = static_cast<int>(graph->nodes.size());
      Node node;
      node.unique_id = m.unique_id;
      node.name = m.name;
      node.package = m.package_name;
      node.kind = kind;
      node.fqn = m.fqn;
      node.file = m.original_file_path;
      node.materialized = m.materialized;
      node.tags = m.tags;
      node.meta = m.meta;
      node.checksum_is_path = m.checksum_is_path && m.package_name == manifest_.project_name;
      graph->nodes.push_back(std::move(node));
    }
    for (Node& node : graph->nodes) {
      const ManifestNode& m = manifest_.nodes[node_index_.at(node.unique_id)];
      std::set<std::string> inputs;
      std::set<int> deps;
      std::set<std::string> seen;
      if (!Collect(m, executable, &inputs, &deps, &seen, err)) return false;
      node.inputs.assign(inputs.begin(), inputs.end());
      node.deps.assign(deps.begin(), deps.end());
      Hasher fingerprint;
      fingerprint.Add(m.definition);
      for (const std::string& id : seen) {  // sorted: macros and folded ephemerals
        auto macro = macro_index_.find(id);
        fingerprint.Add(id).Add(macro != macro_index_.end()
                                    ? manifest_.macros[macro->second].sql_digest
                                    : manifest_.nodes[node_index_.at(id)].definition);
      }
      node.fingerprint = fingerprint.Hex();
    }
    if (graph->TopologicalOrder().size() != graph->nodes.size()) {
      *err = fmt::format("{}: the dependency graph has a cycle", manifest_file_);
      return false;
    }
    return true;
  }

 private:
  bool Collect(const ManifestNode& m, const std::unordered_map<std::string, int>& executable,
               std::set<std::string>* inputs, std::set<int>* deps, std::set<std::string>* seen,
               std::string* err) {
    if (m.package_name == manifest_.project_name) {
      inputs->insert(m.original_file_path);
      if (!m.patch_path.empty()) inputs->insert(m.patch_path);
    }
    for (const std::string& macro : m.depends_on_macros) AddMacro(macro, inputs, seen);
    for (const std::string& dep : m.depends_on_nodes) {
      if (auto e = executable.find(dep); e != executable.end()) {
        deps->insert(e->second);
        continue;
      }
      auto it = node_index_.find(dep);
      if (it == node_index_.end()) {
        // Sources, metrics and the like are not executed; a missing
        // executable node means the manifest is inconsistent.
        std::string type = dep.substr(0, dep.find('.'));
        if (type == "model" || type == "seed" || type == "snapshot") {
          *err = fmt::format("{}: node '{}' depends on '{}', which the manifest lacks",
                             manifest_file_, m.unique_id, dep);
          return false;
        }
        continue;
      }
      const ManifestNode& parent = manifest_.nodes[it->second];
      if (IsEphemeral(parent) && seen->insert(dep).second) {
        if (!Collect(parent, executable, inputs, deps, seen, err)) return false;
      }
    }
    return true;
  }

  void AddMacro(const std::string& id, std::set<std::string>* inputs,
                std::set<std::string>* seen) {
    auto it = macro_index_.find(id);
    if (it == macro_index_.end() || !seen->insert(id).second) return;
    const ManifestMacro& macro = manifest_.macros[it->second];
    // Every macro counts for the fingerprint; only the project's own files
    // are inputs (installed packages change through `dbt deps`).
    if (macro.package_name == manifest_.project_name) inputs->insert(macro.original_file_path);
    for (const std::string& next : macro.depends_on_macros) AddMacro(next, inputs, seen);
  }

  const Manifest& manifest_;
  const std::string& manifest_file_;
  std::unordered_map<std::string, size_t> node_index_;
  std::unordered_map<std::string, size_t> macro_index_;
};

}  // namespace

bool BuildGraph(const Manifest& manifest, const std::string& manifest_file, Graph* graph,
                std::string* err) {
  GraphBuilder builder(manifest, manifest_file);
  return builder.Build(graph, err);
}

bool FingerprintFileContents(const fs::path& project_dir, Graph* graph, std::string* err) {
  for (Node& node : graph->nodes) {
    if (!node.checksum_is_path) continue;
    std::string content;
    if (!ReadFile(project_dir / node.file, &content, err)) return false;
    node.fingerprint = Hasher().Add(node.fingerprint).Add(content).Hex();
  }
  return true;
}
