#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/fs.h"

// The fields of a dbt manifest (schema v12) that pa-gen needs, nothing more.
struct ManifestNode {
  std::string unique_id;
  std::string resource_type;  // model, seed, snapshot, test, unit_test, ...
  std::string name;
  std::string package_name;
  std::string original_file_path;  // relative to the package root
  std::string patch_path;          // yml file relative to the package root; empty if none
  std::string patch_package;       // the package that holds patch_path; empty: the node's own
  std::string materialized;
  std::string on_error;  // config.on_error: "continue", "skip_children" or empty (dbt 1.12)
  bool enabled = true;
  std::vector<std::string> tags;  // config.tags, in dbt's order
  // config.meta's top-level entries: strings as they are, other values as
  // JSON text, sorted by key. Grouping policies match on them.
  std::vector<std::pair<std::string, std::string>> meta;
  std::vector<std::string> fqn;
  std::vector<std::string> depends_on_nodes;
  std::vector<std::string> depends_on_macros;
  // A digest of what defines the node's result apart from its parents and
  // macros: file checksum, code, config, relation, test arguments and
  // fixtures, and descriptions when dbt persists them.
  std::string definition;
  // dbt checksums seeds over 1 MiB by path, not content: pa-gen must read them.
  bool checksum_is_path = false;
};

struct ManifestMacro {
  std::string unique_id;
  std::string package_name;
  std::string original_file_path;
  std::vector<std::string> depends_on_macros;
  std::string sql_digest;  // of macro_sql: macros have no checksum
};

struct Manifest {
  std::string dbt_version;
  std::string adapter_type;
  std::string project_name;
  std::vector<ManifestNode> nodes;    // `nodes` and `unit_tests`, sorted by unique_id
  std::vector<ManifestMacro> macros;  // sorted by unique_id
};

// The on-run-start and on-run-end hooks (`operation` nodes) of the root
// project and every package: each dbt invocation runs them all.
inline int HookCount(const Manifest& manifest) {
  int hooks = 0;
  for (const ManifestNode& node : manifest.nodes) hooks += node.resource_type == "operation";
  return hooks;
}

inline constexpr std::string_view kManifestSchemaV12 =
    "https://schemas.getdbt.com/dbt/manifest/v12.json";

// On failure *err is one line that names the file and the problem.
bool LoadManifest(const fs::path& path, Manifest* manifest, std::string* err);
bool ParseManifest(std::string_view json, const std::string& filename, Manifest* manifest,
                   std::string* err);

// LoadManifest's two steps, for a caller that times them. The text is
// followed by the padding the JSON parser reads past its end, so it is
// parsed in place: a large manifest is never copied.
struct ManifestTextUnmap {
  size_t length = 0;
  void operator()(char* p) const;
};
class PreparedParser;  // manifest/parser_memory.h
struct ManifestText {
  static constexpr size_t kPadding = 64;
  std::unique_ptr<char[], ManifestTextUnmap> bytes;  // size + kPadding
  size_t size = 0;
  // The file's pages mapped in place (ReadManifestText): `path` is read
  // again when the file was cut short while mapped.
  bool mapped = false;
  fs::path path;
  // The parser for the text, made while the file was read (a large one).
  std::shared_ptr<PreparedParser> parser;
  std::string_view view() const { return {bytes.get(), size}; }
};
bool ReadManifestText(const fs::path& path, ManifestText* text, std::string* err);
bool ParseManifestText(const ManifestText& text, const std::string& filename, Manifest* manifest,
                       std::string* err);
