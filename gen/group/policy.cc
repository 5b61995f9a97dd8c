#include "group/policy.h"

#include <algorithm>
#include <numeric>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "util/glob.h"

namespace {

constexpr const char* kKnownPolicies =
    "folder, folder:N, per-model, tag, tag:A,B, meta:KEY, resource-type, level, component, single, "
    "auto";

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1)
    parts.push_back(text.substr(start, comma - start));
  parts.push_back(text.substr(start));
  return parts;
}

}  // namespace

bool ParsePolicy(const std::string& text, Policy* policy, std::string* err) {
  std::string kind = text.substr(0, text.find(':'));
  bool has_arg = text.find(':') != std::string::npos;
  std::string arg = has_arg ? text.substr(text.find(':') + 1) : "";
  static const std::map<std::string, PolicyKind> kinds = {
      {"folder", PolicyKind::kFolder},   {"per-model", PolicyKind::kPerModel},
      {"tag", PolicyKind::kTag},         {"meta", PolicyKind::kMeta},
      {"resource-type", PolicyKind::kResourceType}, {"level", PolicyKind::kLevel},
      {"component", PolicyKind::kComponent},        {"single", PolicyKind::kSingle},
      {"auto", PolicyKind::kAuto}};
  auto it = kinds.find(kind);
  if (it == kinds.end()) {
    *err = fmt::format("unknown policy '{}' (known: {})", text, kKnownPolicies);
    return false;
  }
  policy->kind = it->second;
  policy->name = text;
  bool takes_arg = kind == "folder" || kind == "tag" || kind == "meta";
  if ((has_arg && !takes_arg) || (kind == "meta" && arg.empty()) || (has_arg && arg.empty())) {
    *err = fmt::format("bad policy '{}' (known: {})", text, kKnownPolicies);
    return false;
  }
  if (kind == "folder" && has_arg) {
    size_t used = 0;
    int depth = 0;
    try {
      depth = std::stoi(arg, &used);
    } catch (const std::exception&) {
    }
    if (used != arg.size() || depth < 1) {
      *err = fmt::format("bad policy '{}': folder:N needs a whole number N >= 1", text);
      return false;
    }
    policy->folder_depth = depth;
  }
  if (kind == "tag" && has_arg) policy->tags = SplitCommas(arg);
  if (kind == "meta") policy->meta_key = arg;
  return true;
}

DefaultPolicy DefaultPolicyFor(const std::string& adapter_type, int given_max_batch_size) {
  if (adapter_type == "duckdb")
    return {"single", given_max_batch_size,
            fmt::format("the default on {}: one process at a time writes the database, so "
                        "batches take turns and one batch pays dbt's start-up once; "
                        "--policy folder for a batch per folder", adapter_type)};
  if (given_max_batch_size > 0)
    return {"folder", given_max_batch_size,
            fmt::format("the default on {}: batches run side by side, one per folder, cut to "
                        "--max-batch-size {} as given; --policy auto to pick by predicted time",
                        adapter_type, given_max_batch_size)};
  return {"folder", kServerMaxBatchSize,
          fmt::format("the default on {}: batches run side by side, one per folder, and a folder "
                      "of more than {} models is cut into pieces along the DAG, because one dbt "
                      "process runs its Python on one core; --policy folder for whole folders, "
                      "--policy auto to pick by predicted time",
                      adapter_type, kServerMaxBatchSize)};
}

std::vector<std::string> UniqueNodeNames(const Graph& graph) {
  std::unordered_map<std::string_view, int> count;
  count.reserve(graph.nodes.size());
  // Each name is hashed once: its count's place is kept (an unordered_map
  // never moves its values) instead of being looked up again (at 30,000
  // nodes this function was 7% of the main thread, mostly those lookups).
  std::vector<const int*> counts;
  counts.reserve(graph.nodes.size());
  for (const Node& node : graph.nodes) {
    int& seen = count[node.name];
    ++seen;
    counts.push_back(&seen);
  }
  std::vector<std::string> names;
  names.reserve(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    if (*counts[i] == 1) {
      names.push_back(node.name);
    } else {
      names.push_back(node.unique_id.substr(node.unique_id.find('.') + 1));
    }
  }
  return names;
}

namespace {

// The first `depth` folders of a model under the model path, joined by
// "_", or the model path itself for models at its top.
std::string ModelFolder(const DbtProject& project, const Node& node, int depth) {
  if (node.package != project.name) return node.package;
  fs::path file = fs::path(node.file).lexically_normal();
  for (const std::string& root : project.model_paths) {
    // "models/" normalises to "models/" with an empty filename: drop the slash.
    fs::path base = fs::path(root).lexically_normal();
    if (!base.has_filename()) base = base.parent_path();
    fs::path rel = file.lexically_relative(base);
    if (rel.empty() || *rel.begin() == "..") continue;
    std::string folders;
    int taken = 0;
    for (auto part = rel.begin(); taken < depth && std::next(part) != rel.end(); ++part, ++taken)
      folders += (folders.empty() ? "" : "_") + part->string();
    if (!folders.empty()) return folders;
    if (base.has_filename() && base.filename() != ".") return base.filename().string();
  }
  return "models";
}

// The folder policy's key: also the fallback of the tag and meta policies.
std::string FolderKey(const DbtProject& project, const Node& node, int depth) {
  if (node.kind == NodeKind::kSeed) return "seeds";
  if (node.kind == NodeKind::kSnapshot) return "snapshots";
  return ModelFolder(project, node, depth);
}

const std::string* MetaValue(const Node& node, const std::string& key) {
  for (const auto& [k, v] : node.meta)
    if (k == key) return &v;
  return nullptr;
}

std::string FirstTag(const Node& node, const std::vector<std::string>& wanted) {
  for (const std::string& tag : node.tags)
    if (wanted.empty() || std::find(wanted.begin(), wanted.end(), tag) != wanted.end()) return tag;
  return "";
}

bool RuleMatches(const PolicyRule& rule, const Node& node) {
  if (!rule.path.empty() && !GlobMatch(rule.path, node.file)) return false;
  if (!rule.tag.empty() && std::find(node.tags.begin(), node.tags.end(), rule.tag) == node.tags.end())
    return false;
  if (!rule.resource_type.empty() && rule.resource_type != NodeKindName(node.kind)) return false;
  if (!rule.package.empty() && rule.package != node.package) return false;
  if (!rule.materialized.empty() && rule.materialized != node.materialized) return false;
  for (const auto& [key, value] : rule.meta) {
    const std::string* have = MetaValue(node, key);
    if (!have || *have != value) return false;
  }
  return true;
}

// Fills the rule's group name in for one node.
std::string ExpandGroup(const PolicyRule& rule, const Node& node, const std::string& folder,
                        const std::string& name) {
  std::string out;
  const std::string& g = rule.group;
  for (size_t i = 0; i < g.size(); ++i) {
    size_t close = g[i] == '{' ? g.find('}', i) : std::string::npos;
    if (close == std::string::npos) {
      out.push_back(g[i]);
      continue;
    }
    std::string field = g.substr(i + 1, close - i - 1);
    if (field == "folder") out += folder;
    else if (field == "name") out += name;
    else if (field == "tag") out += rule.tag.empty() ? FirstTag(node, {}) : rule.tag;
    else if (field == "resource_type") out += NodeKindName(node.kind);
    else if (field == "package") out += node.package;
    else if (field == "materialized") out += node.materialized;
    else if (field.starts_with("meta.")) {
      const std::string* value = MetaValue(node, field.substr(5));
      if (value) out += *value;
    }
    i = close;
  }
  return out;
}

// Topological generation of every node: 0 without executable parents.
std::vector<int> Levels(const Graph& graph) {
  std::vector<int> level(graph.nodes.size(), 0);
  for (int n : graph.TopologicalOrder())
    for (int d : graph.nodes[n].deps) level[n] = std::max(level[n], level[d] + 1);
  return level;
}

// Each node's weakly connected component, named after its first
// non-test member in node order (unique_id order): stable while that node lives.
std::vector<std::string> Components(const Graph& graph, const std::vector<std::string>& names) {
  std::vector<int> parent(graph.nodes.size());
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (size_t n = 0; n < graph.nodes.size(); ++n)
    for (int d : graph.nodes[n].deps) parent[find(static_cast<int>(n))] = find(d);
  std::map<int, std::string> name_of_root;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (graph.nodes[n].IsTest()) continue;
    name_of_root.emplace(find(static_cast<int>(n)), "component_" + names[n]);
  }
  std::vector<std::string> out;
  for (size_t n = 0; n < graph.nodes.size(); ++n) out.push_back(name_of_root[find(static_cast<int>(n))]);
  return out;
}

}  // namespace

std::vector<std::string> GroupKeys(const Policy& policy, const DbtProject& project,
                                   const Graph& graph, const std::vector<std::string>& names,
                                   std::map<std::string, GroupSettings>* settings) {
  std::vector<int> levels = policy.kind == PolicyKind::kLevel ? Levels(graph) : std::vector<int>{};
  std::vector<std::string> components =
      policy.kind == PolicyKind::kComponent ? Components(graph, names) : std::vector<std::string>{};
  std::vector<std::string> keys;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    if (node.IsTest()) {
      keys.emplace_back();
      continue;
    }
    // Made only where it is used (lexically normal paths cost: a quarter
    // of the grouping at 30,000 nodes under --policy single).
    auto folder_key = [&] { return FolderKey(project, node, policy.folder_depth); };
    auto rule = std::find_if(policy.rules.begin(), policy.rules.end(),
                             [&](const PolicyRule& r) { return RuleMatches(r, node); });
    std::string key;
    if (rule != policy.rules.end()) {
      std::string folder = folder_key();
      key = ExpandGroup(*rule, node, folder, names[i]);
      if (key.empty()) key = folder;  // "" marks a test
      if (settings) settings->emplace(key, GroupSettings{rule->threads, rule->pool});
      keys.push_back(key);
      continue;
    }
    switch (policy.kind) {
      case PolicyKind::kFolder:
      case PolicyKind::kAuto:  // chosen before grouping; folder when asked directly
        key = folder_key();
        break;
      case PolicyKind::kPerModel: key = names[i]; break;
      case PolicyKind::kTag: key = FirstTag(node, policy.tags); break;
      case PolicyKind::kMeta:
        if (const std::string* value = MetaValue(node, policy.meta_key)) key = *value;
        break;
      case PolicyKind::kResourceType: key = std::string(NodeKindName(node.kind)) + "s"; break;
      case PolicyKind::kLevel: key = fmt::format("level{}", levels[i]); break;
      case PolicyKind::kComponent: key = components[i]; break;
      case PolicyKind::kSingle: key = "all_nodes"; break;
    }
    keys.push_back(key.empty() ? folder_key() : key);
  }
  return keys;
}
