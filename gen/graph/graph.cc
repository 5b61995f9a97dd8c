#include "graph/graph.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "util/hash.h"
#include "util/topo.h"

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
  std::vector<int> order;
  ::TopologicalOrder(
      nodes.size(), [&](size_t v) -> const std::vector<int>& { return nodes[v].deps; }, &order);
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
// node, looking through every ephemeral model it uses. Works on indices:
// every unique_id is looked up once, not once per node that uses it.
class GraphBuilder {
 public:
  GraphBuilder(const Manifest& manifest, const std::string& manifest_file)
      : manifest_(manifest), manifest_file_(manifest_file) {}

  bool Build(Graph* graph, std::string* err) {
    const std::vector<ManifestNode>& nodes = manifest_.nodes;
    std::unordered_map<std::string_view, int> node_index;
    std::unordered_map<std::string_view, int> macro_index;
    node_index.reserve(nodes.size());
    macro_index.reserve(manifest_.macros.size());
    for (size_t i = 0; i < nodes.size(); ++i) node_index.emplace(nodes[i].unique_id, i);
    for (size_t i = 0; i < manifest_.macros.size(); ++i)
      macro_index.emplace(manifest_.macros[i].unique_id, i);

    std::vector<int> graph_index(nodes.size(), -1);  // manifest node -> executable node
    for (size_t i = 0; i < nodes.size(); ++i) {
      const ManifestNode& m = nodes[i];
      NodeKind kind;
      if (!KindOf(m, &kind)) continue;
      graph_index[i] = static_cast<int>(graph->nodes.size());
      Node node;
      node.unique_id = m.unique_id;
      node.name = m.name;
      node.package = m.package_name;
      node.kind = kind;
      node.fqn = m.fqn;
      node.file = m.original_file_path;
      node.materialized = m.materialized;
      node.on_error_continue = kind == NodeKind::kModel && m.on_error == "continue";
      node.tags = m.tags;
      node.meta = m.meta;
      node.checksum_is_path = m.checksum_is_path && m.package_name == manifest_.project_name;
      graph->nodes.push_back(std::move(node));
    }

    // What each dependency is, resolved once.
    parents_.resize(nodes.size());
    macros_.resize(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
      for (const std::string& dep : nodes[i].depends_on_nodes) {
        auto it = node_index.find(dep);
        if (it == node_index.end()) {
          // Sources, metrics and the like are not executed; a missing
          // executable node means the manifest is inconsistent.
          std::string_view type = std::string_view(dep).substr(0, dep.find('.'));
          if (type == "model" || type == "seed" || type == "snapshot")
            parents_[i].push_back({Parent::kMissing, 0, &dep});
        } else if (graph_index[it->second] >= 0) {
          parents_[i].push_back({Parent::kExecutable, graph_index[it->second], &dep});
        } else if (IsEphemeral(nodes[it->second])) {
          parents_[i].push_back({Parent::kEphemeral, it->second, &dep});
        }
      }
      for (const std::string& macro : nodes[i].depends_on_macros)
        if (auto it = macro_index.find(macro); it != macro_index.end())
          macros_[i].push_back(it->second);
    }
    macro_deps_.resize(manifest_.macros.size());
    for (size_t i = 0; i < manifest_.macros.size(); ++i) {
      for (const std::string& next : manifest_.macros[i].depends_on_macros)
        if (auto it = macro_index.find(next); it != macro_index.end())
          macro_deps_[i].push_back(it->second);
    }

    node_seen_.assign(nodes.size(), 0);
    macro_seen_.assign(manifest_.macros.size(), 0);
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (graph_index[i] < 0) continue;
      Node& node = graph->nodes[graph_index[i]];
      ++epoch_;
      inputs_.clear();
      deps_.clear();
      seen_.clear();
      if (!Collect(static_cast<int>(i), err)) return false;
      std::sort(inputs_.begin(), inputs_.end());
      inputs_.erase(std::unique(inputs_.begin(), inputs_.end()), inputs_.end());
      node.inputs.assign(inputs_.begin(), inputs_.end());
      std::sort(deps_.begin(), deps_.end());
      deps_.erase(std::unique(deps_.begin(), deps_.end()), deps_.end());
      node.deps = deps_;
      // Macros and folded ephemerals, by unique_id.
      std::sort(seen_.begin(), seen_.end(),
                [](const auto& a, const auto& b) { return *a.first < *b.first; });
      Hasher fingerprint;
      fingerprint.Add(nodes[i].definition);
      for (const auto& [id, digest] : seen_) fingerprint.Add(*id).Add(*digest);
      node.fingerprint = fingerprint.Hex();
    }
    if (graph->TopologicalOrder().size() != graph->nodes.size()) {
      *err = fmt::format("{}: the dependency graph has a cycle", manifest_file_);
      return false;
    }
    return true;
  }

 private:
  struct Parent {
    enum Kind { kExecutable, kEphemeral, kMissing } kind;
    int index;                // graph node (executable) or manifest node (ephemeral)
    const std::string* id;
  };

  bool Collect(int index, std::string* err) {
    const ManifestNode& m = manifest_.nodes[index];
    // Only the project's own files are inputs: installed packages change
    // through `dbt deps`, and their folder is an input of the regeneration.
    // That holds for a yml of a package that patches a root node too (a
    // root seed overriding a package's seed, patched from
    // `<package>://seeds/seeds.yml`): that file is not the project's.
    if (m.package_name == manifest_.project_name) {
      inputs_.push_back(m.original_file_path);
      bool own_patch = m.patch_package.empty() || m.patch_package == manifest_.project_name;
      if (!m.patch_path.empty() && own_patch) inputs_.push_back(m.patch_path);
    }
    for (int macro : macros_[index]) AddMacro(macro);
    for (const Parent& parent : parents_[index]) {
      switch (parent.kind) {
        case Parent::kExecutable: deps_.push_back(parent.index); break;
        case Parent::kMissing:
          *err = fmt::format("{}: node '{}' depends on '{}', which the manifest lacks",
                             manifest_file_, m.unique_id, *parent.id);
          return false;
        case Parent::kEphemeral:
          if (node_seen_[parent.index] == epoch_) break;
          node_seen_[parent.index] = epoch_;
          seen_.emplace_back(parent.id, &manifest_.nodes[parent.index].definition);
          if (!Collect(parent.index, err)) return false;
          break;
      }
    }
    return true;
  }

  void AddMacro(int index) {
    if (macro_seen_[index] == epoch_) return;
    macro_seen_[index] = epoch_;
    const ManifestMacro& macro = manifest_.macros[index];
    seen_.emplace_back(&macro.unique_id, &macro.sql_digest);
    // Every macro counts for the fingerprint; only the project's own files
    // are inputs (installed packages change through `dbt deps`).
    if (macro.package_name == manifest_.project_name) inputs_.push_back(macro.original_file_path);
    for (int next : macro_deps_[index]) AddMacro(next);
  }

  const Manifest& manifest_;
  const std::string& manifest_file_;
  std::vector<std::vector<Parent>> parents_;  // per manifest node
  std::vector<std::vector<int>> macros_;      // per manifest node: macros it uses
  std::vector<std::vector<int>> macro_deps_;  // per macro
  // The node being collected: a node or macro was seen when its mark is epoch_.
  int epoch_ = 0;
  std::vector<int> node_seen_;
  std::vector<int> macro_seen_;
  std::vector<std::string_view> inputs_;
  std::vector<int> deps_;
  std::vector<std::pair<const std::string*, const std::string*>> seen_;  // (unique_id, digest)
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

Graph SelectNodes(const Graph& graph, const std::set<std::string>& ids) {
  Graph selected;
  std::vector<int> index(graph.nodes.size(), -1);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (!ids.count(graph.nodes[i].unique_id)) continue;
    index[i] = static_cast<int>(selected.nodes.size());
    selected.nodes.push_back(graph.nodes[i]);
  }
  for (Node& node : selected.nodes) {
    std::vector<int> deps;
    for (int dep : node.deps)
      if (index[dep] >= 0) deps.push_back(index[dep]);
    node.deps = std::move(deps);  // still ascending: the order of nodes is kept
  }
  return selected;
}
