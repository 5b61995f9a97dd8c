#include "manifest/manifest.h"

#include <algorithm>

#include <fmt/format.h>

#include "util/hash.h"
#include <nlohmann/json.hpp>

using nlohmann::json;

namespace {

// Reads fields of one JSON object and remembers the first problem, so the
// loader reads as a list of fields instead of a ladder of checks.
class FieldReader {
 public:
  FieldReader(const json& object, std::string where, std::string* problem)
      : object_(object), where_(std::move(where)), problem_(problem) {}

  const json* Find(const char* key, json::value_t type, bool required) {
    auto it = object_.find(key);
    if (it == object_.end() || (it->is_null() && !required)) {
      if (required) Fail(fmt::format("{} lacks required field '{}'", where_, key));
      return nullptr;
    }
    bool ok = it->type() == type ||
              (type == json::value_t::number_integer && it->is_number_integer());
    if (!ok) {
      Fail(fmt::format("{} field '{}' should be {} but is {}", where_, key,
                       json(type).type_name(), it->type_name()));
      return nullptr;
    }
    return &*it;
  }

  std::string String(const char* key, bool required = true) {
    const json* v = Find(key, json::value_t::string, required);
    return v ? v->get<std::string>() : std::string();
  }

  std::vector<std::string> Strings(const json* array, const char* key) {
    std::vector<std::string> out;
    if (!array) return out;
    for (const json& item : *array) {
      if (!item.is_string()) {
        Fail(fmt::format("{} field '{}' should hold strings", where_, key));
        return out;
      }
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  std::vector<std::string> StringList(const char* key, bool required = true) {
    return Strings(Find(key, json::value_t::array, required), key);
  }

  // depends_on.{nodes,macros}
  std::vector<std::string> DependsOn(const char* kind, bool required) {
    const json* deps = Find("depends_on", json::value_t::object, required);
    if (!deps) return {};
    FieldReader inner(*deps, where_ + " depends_on", problem_);
    return inner.StringList(kind, required);
  }

  void Fail(std::string message) {
    if (problem_->empty()) *problem_ = std::move(message);
  }

 private:
  const json& object_;
  std::string where_;
  std::string* problem_;
};

// See ManifestNode::definition. Object keys are sorted in nlohmann's dump,
// so the digest does not depend on the manifest's key order.
std::string DefinitionDigest(const json& node) {
  Hasher h;
  for (const char* key : {"checksum", "raw_code", "config", "relation_name", "test_metadata",
                          "given", "expect", "overrides", "version", "contract"}) {
    auto it = node.find(key);
    h.Add(key).Add(it == node.end() ? "" : it->dump());
  }
  auto config = node.find("config");
  if (config != node.end() && config->is_object()) {
    auto persist = config->find("persist_docs");
    if (persist != config->end() && persist->is_object() && !persist->empty()) {
      for (const char* key : {"description", "columns"}) {
        auto it = node.find(key);
        h.Add(key).Add(it == node.end() ? "" : it->dump());
      }
    }
  }
  return h.Hex();
}

ManifestNode ReadNode(const json& value, const std::string& where, std::string* problem) {
  FieldReader r(value, where, problem);
  ManifestNode node;
  node.unique_id = r.String("unique_id");
  node.resource_type = r.String("resource_type");
  node.name = r.String("name");
  node.package_name = r.String("package_name");
  node.original_file_path = r.String("original_file_path");
  node.fqn = r.StringList("fqn");
  node.depends_on_nodes = r.DependsOn("nodes", false);  // seeds have macros only
  node.depends_on_macros = r.DependsOn("macros", false);
  std::string patch = r.String("patch_path", false);
  // "<package>://<path>": keep the path.
  if (auto sep = patch.find("://"); sep != std::string::npos) patch = patch.substr(sep + 3);
  node.patch_path = patch;
  if (const json* config = r.Find("config", json::value_t::object, false)) {
    FieldReader c(*config, where + " config", problem);
    node.materialized = c.String("materialized", false);
    if (const json* enabled = c.Find("enabled", json::value_t::boolean, false))
      node.enabled = enabled->get<bool>();
    node.tags = c.StringList("tags", false);
    if (const json* meta = c.Find("meta", json::value_t::object, false)) {
      for (const auto& [key, v] : meta->items())  // nlohmann objects iterate sorted by key
        node.meta.emplace_back(key, v.is_string() ? v.get<std::string>() : v.dump());
    }
  }
  node.definition = DefinitionDigest(value);
  if (auto checksum = value.find("checksum"); checksum != value.end() && checksum->is_object())
    node.checksum_is_path = checksum->value("name", "") == "path";
  return node;
}

ManifestMacro ReadMacro(const json& value, const std::string& where, std::string* problem) {
  FieldReader r(value, where, problem);
  ManifestMacro macro;
  macro.unique_id = r.String("unique_id");
  macro.package_name = r.String("package_name");
  macro.original_file_path = r.String("original_file_path");
  macro.depends_on_macros = r.DependsOn("macros", false);
  macro.sql_digest = Hasher().Add(r.String("macro_sql", false)).Hex();
  return macro;
}

// Reads every entry of one top-level map (nodes, unit_tests, macros).
template <typename T, typename Read>
void ReadEntries(const json* map, const char* what, Read read, FieldReader* top,
                 std::string* problem, std::vector<T>* out) {
  if (!map) return;
  for (const auto& [key, value] : map->items()) {
    std::string where = fmt::format("{} '{}'", what, key);
    if (!value.is_object()) {
      top->Fail(where + " is not an object");
      return;
    }
    out->push_back(read(value, where, problem));
  }
}

}  // namespace

bool ParseManifest(std::string_view text, const std::string& filename, Manifest* manifest,
                   std::string* err) {
  *manifest = Manifest();
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    *err = fmt::format("{}: malformed JSON: {}", filename, what);
    return false;
  }
  if (!doc.is_object()) {
    *err = fmt::format("{}: not a dbt manifest (the top level is not an object)", filename);
    return false;
  }
  std::string problem;
  FieldReader top(doc, "manifest", &problem);
  const json* metadata = top.Find("metadata", json::value_t::object, true);
  if (metadata) {
    FieldReader meta(*metadata, "metadata", &problem);
    std::string schema = meta.String("dbt_schema_version");
    if (problem.empty() && schema != kManifestSchemaV12) {
      *err = fmt::format("{}: unsupported manifest schema '{}' (pa-gen reads {}, dbt 1.8 to 1.12)",
                         filename, schema, kManifestSchemaV12);
      return false;
    }
    manifest->dbt_version = meta.String("dbt_version", false);
    manifest->adapter_type = meta.String("adapter_type", false);
    manifest->project_name = meta.String("project_name", false);
  }
  const json* nodes = top.Find("nodes", json::value_t::object, true);
  const json* macros = top.Find("macros", json::value_t::object, true);
  const json* unit_tests = top.Find("unit_tests", json::value_t::object, false);
  ReadEntries(nodes, "node", ReadNode, &top, &problem, &manifest->nodes);
  ReadEntries(unit_tests, "node", ReadNode, &top, &problem, &manifest->nodes);
  ReadEntries(macros, "macro", ReadMacro, &top, &problem, &manifest->macros);
  if (!problem.empty()) {
    *err = fmt::format("{}: {}", filename, problem);
    return false;
  }
  auto by_id = [](const auto& a, const auto& b) { return a.unique_id < b.unique_id; };
  std::sort(manifest->nodes.begin(), manifest->nodes.end(), by_id);
  std::sort(manifest->macros.begin(), manifest->macros.end(), by_id);
  return true;
}

bool LoadManifest(const fs::path& path, Manifest* manifest, std::string* err) {
  std::string text;
  if (!ReadFile(path, &text, err)) return false;
  return ParseManifest(text, path.string(), manifest, err);
}
