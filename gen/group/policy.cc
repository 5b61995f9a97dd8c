#include "group/policy.h"

#include <map>

#include <fmt/format.h>

bool ParsePolicy(const std::string& text, Policy* policy, std::string* err) {
  if (text == "folder") policy->kind = PolicyKind::kFolder;
  else if (text == "per-model") policy->kind = PolicyKind::kPerModel;
  else {
    *err = fmt::format("unknown policy '{}' (known: folder, per-model)", text);
    return false;
  }
  return true;
}

std::vector<std::string> UniqueNodeNames(const Graph& graph) {
  std::map<std::string, int> count;
  for (const Node& node : graph.nodes) ++count[node.name];
  std::vector<std::string> names;
  for (const Node& node : graph.nodes) {
    if (count[node.name] == 1) {
      names.push_back(node.name);
    } else {
      names.push_back(node.unique_id.substr(node.unique_id.find('.') + 1));
    }
  }
  return names;
}

namespace {

// The first folder of a model under the model path, or the model path
// itself for models at its top.
std::string ModelFolder(const DbtProject& project, const Node& node) {
  if (node.package != project.name) return node.package;
  fs::path file = fs::path(node.file).lexically_normal();
  for (const std::string& root : project.model_paths) {
    // "models/" normalises to "models/" with an empty filename: drop the slash.
    fs::path base = fs::path(root).lexically_normal();
    if (!base.has_filename()) base = base.parent_path();
    fs::path rel = file.lexically_relative(base);
    if (rel.empty() || *rel.begin() == "..") continue;
    auto first = rel.begin();
    if (std::next(first) != rel.end()) return first->string();
    if (base.has_filename() && base.filename() != ".") return base.filename().string();
  }
  return "models";
}

}  // namespace

std::vector<std::string> GroupKeys(const Policy& policy, const DbtProject& project,
                                   const Graph& graph, const std::vector<std::string>& names) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    if (node.IsTest()) {
      keys.emplace_back();
    } else if (policy.kind == PolicyKind::kPerModel) {
      keys.push_back(names[i]);
    } else if (node.kind == NodeKind::kSeed) {
      keys.emplace_back("seeds");
    } else if (node.kind == NodeKind::kSnapshot) {
      keys.emplace_back("snapshots");
    } else {
      keys.push_back(ModelFolder(project, node));
    }
  }
  return keys;
}
