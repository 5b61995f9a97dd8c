#include "graph/graph.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "util/escape.h"
#include "util/hash.h"
#include "util/parallel.h"
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
// every unique_id is looked up once, not once per node that uses it. The
// nodes are made and collected on two threads (util/parallel.h): each
// node's result is its own, read from what the manifest says.
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
    std::vector<NodeKind> kinds(nodes.size());
    int executable = 0;
    for (size_t i = 0; i < nodes.size(); ++i)
      if (KindOf(nodes[i], &kinds[i])) graph_index[i] = executable++;
    graph->nodes.resize(executable);

    // Each node made, and what each dependency is, resolved once.
    parents_.resize(nodes.size());
    macros_.resize(nodes.size());
    ForEachBlock(nodes.size(), kBlock, kParallelNodes, [&](size_t, size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        if (graph_index[i] >= 0) MakeNode(nodes[i], kinds[i], &graph->nodes[graph_index[i]]);
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
    });
    macro_deps_.resize(manifest_.macros.size());
    for (size_t i = 0; i < manifest_.macros.size(); ++i) {
      for (const std::string& next : manifest_.macros[i].depends_on_macros)
        if (auto it = macro_index.find(next); it != macro_index.end())
          macro_deps_[i].push_back(it->second);
    }

    // A bad manifest is reported by its first bad node, whichever thread
    // found it: each worker stops at its first, the lowest of its blocks.
    struct Worker {
      std::optional<Collector> collector;
      size_t failed_at = SIZE_MAX;
      std::string err;
    };
    std::array<Worker, kBlockWorkers> workers;
    ForEachBlock(nodes.size(), kBlock, kParallelNodes, [&](size_t w, size_t begin, size_t end) {
      Worker& worker = workers[w];
      if (worker.failed_at != SIZE_MAX) return;
      if (!worker.collector) worker.collector.emplace(*this);
      for (size_t i = begin; i < end; ++i) {
        if (graph_index[i] < 0) continue;
        if (!worker.collector->Fill(static_cast<int>(i), &graph->nodes[graph_index[i]], &worker.err)) {
          worker.failed_at = i;
          return;
        }
      }
    });
    const Worker& first = *std::min_element(
        workers.begin(), workers.end(),
        [](const Worker& a, const Worker& b) { return a.failed_at < b.failed_at; });
    if (first.failed_at != SIZE_MAX) {
      *err = first.err;
      return false;
    }
    if (graph->TopologicalOrder().size() != graph->nodes.size()) {
      *err = fmt::format("{}: the dependency graph has a cycle", manifest_file_);
      return false;
    }
    return true;
  }

 private:
  static constexpr size_t kBlock = 256;
  static constexpr size_t kParallelNodes = 4096;  // below, a thread costs more than it saves

  struct Parent {
    enum Kind { kExecutable, kEphemeral, kMissing } kind;
    int index;                // graph node (executable) or manifest node (ephemeral)
    const std::string* id;
  };

  void MakeNode(const ManifestNode& m, NodeKind kind, Node* node) const {
    node->unique_id = m.unique_id;
    node->name = m.name;
    node->package = m.package_name;
    node->kind = kind;
    node->fqn = m.fqn;
    node->file = m.original_file_path;
    node->materialized = m.materialized;
    node->on_error_continue = kind == NodeKind::kModel && m.on_error == "continue";
    node->tags = m.tags;
    node->meta = m.meta;
    node->checksum_is_path = m.checksum_is_path && m.package_name == manifest_.project_name;
  }

  // One thread's walk over nodes: what it has seen of the node being
  // collected (a node or macro was seen when its mark is epoch_).
  class Collector {
   public:
    explicit Collector(const GraphBuilder& builder)
        : b_(builder),
          node_seen_(builder.manifest_.nodes.size(), 0),
          macro_seen_(builder.manifest_.macros.size(), 0) {}

    // The executable node `index`'s inputs, deps and fingerprint.
    bool Fill(int index, Node* node, std::string* err) {
      ++epoch_;
      inputs_.clear();
      deps_.clear();
      seen_.clear();
      if (!Collect(index, err)) return false;
      std::sort(inputs_.begin(), inputs_.end());
      inputs_.erase(std::unique(inputs_.begin(), inputs_.end()), inputs_.end());
      node->inputs.assign(inputs_.begin(), inputs_.end());
      std::sort(deps_.begin(), deps_.end());
      deps_.erase(std::unique(deps_.begin(), deps_.end()), deps_.end());
      node->deps = deps_;
      // Macros and folded ephemerals, by unique_id.
      std::sort(seen_.begin(), seen_.end(),
                [](const auto& a, const auto& b) { return *a.first < *b.first; });
      Hasher fingerprint;
      fingerprint.Add(b_.manifest_.nodes[index].definition);
      for (const auto& [id, digest] : seen_) fingerprint.Add(*id).Add(*digest);
      node->fingerprint = fingerprint.Hex();
      return true;
    }

   private:
    bool Collect(int index, std::string* err) {
      const Manifest& manifest = b_.manifest_;
      const ManifestNode& m = manifest.nodes[index];
      // Only the project's own files are inputs: installed packages change
      // through `dbt deps`, and their folder is an input of the regeneration.
      // That holds for a yml of a package that patches a root node too (a
      // root seed overriding a package's seed, patched from
      // `<package>://seeds/seeds.yml`): that file is not the project's.
      if (m.package_name == manifest.project_name) {
        inputs_.push_back(m.original_file_path);
        bool own_patch = m.patch_package.empty() || m.patch_package == manifest.project_name;
        if (!m.patch_path.empty() && own_patch) inputs_.push_back(m.patch_path);
      }
      for (int macro : b_.macros_[index]) AddMacro(macro);
      for (const Parent& parent : b_.parents_[index]) {
        switch (parent.kind) {
          case Parent::kExecutable: deps_.push_back(parent.index); break;
          case Parent::kMissing:
            *err = fmt::format("{}: node '{}' depends on '{}', which the manifest lacks",
                               b_.manifest_file_, m.unique_id, *parent.id);
            return false;
          case Parent::kEphemeral:
            if (node_seen_[parent.index] == epoch_) break;
            node_seen_[parent.index] = epoch_;
            seen_.emplace_back(parent.id, &manifest.nodes[parent.index].definition);
            if (!Collect(parent.index, err)) return false;
            break;
        }
      }
      return true;
    }

    void AddMacro(int index) {
      if (macro_seen_[index] == epoch_) return;
      macro_seen_[index] = epoch_;
      const ManifestMacro& macro = b_.manifest_.macros[index];
      seen_.emplace_back(&macro.unique_id, &macro.sql_digest);
      // Every macro counts for the fingerprint; only the project's own files
      // are inputs (installed packages change through `dbt deps`).
      if (macro.package_name == b_.manifest_.project_name)
        inputs_.push_back(macro.original_file_path);
      for (int next : b_.macro_deps_[index]) AddMacro(next);
    }

    const GraphBuilder& b_;
    int epoch_ = 0;
    std::vector<int> node_seen_;
    std::vector<int> macro_seen_;
    std::vector<std::string_view> inputs_;
    std::vector<int> deps_;
    std::vector<std::pair<const std::string*, const std::string*>> seen_;  // (unique_id, digest)
  };

  const Manifest& manifest_;
  const std::string& manifest_file_;
  std::vector<std::vector<Parent>> parents_;  // per manifest node
  std::vector<std::vector<int>> macros_;      // per manifest node: macros it uses
  std::vector<std::vector<int>> macro_deps_;  // per macro
};

}  // namespace

bool BuildGraph(const Manifest& manifest, const std::string& manifest_file, Graph* graph,
                std::string* err) {
  GraphBuilder builder(manifest, manifest_file);
  if (builder.Build(graph, err)) return true;
  // The message quotes unique_ids, which may hold newlines (as the
  // manifest's own messages do, manifest.cc): it stays one line.
  NewlinesToSpaces(err);
  return false;
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
