#include "manifest/manifest.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace {

// A minimal v12 manifest: a model with a patch, a seed without
// depends_on.nodes, a test, a macro, and a unit test. Nodes are listed out of
// unique_id order on purpose.
constexpr std::string_view kValidManifest = R"json({
  "metadata": {
    "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
    "dbt_version": "1.9.4",
    "adapter_type": "duckdb",
    "project_name": "proj"
  },
  "nodes": {
    "test.proj.not_null_stg_a_id.1a2b3c": {
      "unique_id": "test.proj.not_null_stg_a_id.1a2b3c",
      "resource_type": "test",
      "name": "not_null_stg_a_id",
      "package_name": "proj",
      "original_file_path": "models/staging/_staging.yml",
      "fqn": ["proj", "staging", "not_null_stg_a_id"],
      "depends_on": {"macros": ["macro.dbt.test_not_null"], "nodes": ["model.proj.stg_a"]},
      "config": {"enabled": true, "materialized": "test"}
    },
    "seed.proj.raw_a": {
      "unique_id": "seed.proj.raw_a",
      "resource_type": "seed",
      "name": "raw_a",
      "package_name": "proj",
      "original_file_path": "seeds/raw_a.csv",
      "patch_path": null,
      "fqn": ["proj", "raw_a"],
      "depends_on": {"macros": []},
      "config": {"enabled": true, "materialized": "seed"}
    },
    "model.proj.stg_a": {
      "unique_id": "model.proj.stg_a",
      "resource_type": "model",
      "name": "stg_a",
      "package_name": "proj",
      "original_file_path": "models/staging/stg_a.sql",
      "patch_path": "proj://models/staging/_staging.yml",
      "fqn": ["proj", "staging", "stg_a"],
      "depends_on": {"macros": ["macro.proj.money"], "nodes": ["seed.proj.raw_a"]},
      "config": {"enabled": false, "materialized": "view", "on_error": "continue", "tags": ["nightly", "finance"],
                 "meta": {"pa_group": "fin", "owner": {"team": "x"}, "size": 3}}
    }
  },
  "macros": {
    "macro.proj.money": {
      "unique_id": "macro.proj.money",
      "package_name": "proj",
      "original_file_path": "macros/money.sql",
      "depends_on": {"macros": ["macro.dbt.round"]}
    },
    "macro.dbt.round": {
      "unique_id": "macro.dbt.round",
      "package_name": "dbt",
      "original_file_path": "macros/round.sql",
      "depends_on": {"macros": []}
    }
  },
  "unit_tests": {
    "unit_test.proj.stg_a.test_stg_a": {
      "unique_id": "unit_test.proj.stg_a.test_stg_a",
      "resource_type": "unit_test",
      "name": "test_stg_a",
      "package_name": "proj",
      "original_file_path": "models/staging/_staging.yml",
      "fqn": ["proj", "staging", "stg_a", "test_stg_a"],
      "depends_on": {"macros": [], "nodes": ["model.proj.stg_a"]}
    }
  }
})json";

// Parses `json` expecting failure and returns the error.
std::string ParseError(std::string_view json) {
  Manifest manifest;
  std::string err;
  EXPECT_FALSE(ParseManifest(json, "target/manifest.json", &manifest, &err));
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  EXPECT_EQ(err.rfind("target/manifest.json: ", 0), 0u) << err;
  return err;
}

// A well-formed manifest with `node` (JSON text of one object) as its only node.
std::string ManifestWithNode(const std::string& node) {
  return R"({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},)"
         R"( "macros": {}, "nodes": {"model.p.x": )" +
         node + "}}";
}

TEST(ParseManifest, ValidV12LoadsExpectedFields) {
  Manifest m;
  std::string err;
  ASSERT_TRUE(ParseManifest(kValidManifest, "manifest.json", &m, &err)) << err;
  EXPECT_EQ(m.dbt_version, "1.9.4");
  EXPECT_EQ(m.adapter_type, "duckdb");
  EXPECT_EQ(m.project_name, "proj");

  ASSERT_EQ(m.nodes.size(), 4u);
  EXPECT_EQ(m.nodes[0].unique_id, "model.proj.stg_a");
  EXPECT_EQ(m.nodes[1].unique_id, "seed.proj.raw_a");
  EXPECT_EQ(m.nodes[2].unique_id, "test.proj.not_null_stg_a_id.1a2b3c");
  EXPECT_EQ(m.nodes[3].unique_id, "unit_test.proj.stg_a.test_stg_a");

  const ManifestNode& model = m.nodes[0];
  EXPECT_EQ(model.resource_type, "model");
  EXPECT_EQ(model.name, "stg_a");
  EXPECT_EQ(model.package_name, "proj");
  EXPECT_EQ(model.original_file_path, "models/staging/stg_a.sql");
  EXPECT_EQ(model.patch_path, "models/staging/_staging.yml");
  EXPECT_EQ(model.patch_package, "proj");
  EXPECT_EQ(model.materialized, "view");
  EXPECT_EQ(model.on_error, "continue");
  EXPECT_FALSE(model.enabled);
  EXPECT_EQ(model.tags, (std::vector<std::string>{"nightly", "finance"}));
  using Meta = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(model.meta, (Meta{{"owner", R"({"team":"x"})"}, {"pa_group", "fin"}, {"size", "3"}}));
  EXPECT_EQ(model.fqn, (std::vector<std::string>{"proj", "staging", "stg_a"}));
  EXPECT_EQ(model.depends_on_nodes, (std::vector<std::string>{"seed.proj.raw_a"}));
  EXPECT_EQ(model.depends_on_macros, (std::vector<std::string>{"macro.proj.money"}));

  const ManifestNode& seed = m.nodes[1];
  EXPECT_EQ(seed.resource_type, "seed");
  EXPECT_TRUE(seed.depends_on_nodes.empty());
  EXPECT_TRUE(seed.depends_on_macros.empty());
  EXPECT_EQ(seed.patch_path, "");
  EXPECT_EQ(seed.materialized, "seed");
  EXPECT_TRUE(seed.enabled);
  EXPECT_TRUE(seed.tags.empty());
  EXPECT_TRUE(seed.meta.empty());

  const ManifestNode& test = m.nodes[2];
  EXPECT_EQ(test.resource_type, "test");
  EXPECT_EQ(test.depends_on_nodes, (std::vector<std::string>{"model.proj.stg_a"}));
  EXPECT_EQ(test.depends_on_macros, (std::vector<std::string>{"macro.dbt.test_not_null"}));

  const ManifestNode& unit = m.nodes[3];
  EXPECT_EQ(unit.resource_type, "unit_test");
  EXPECT_EQ(unit.name, "test_stg_a");
  EXPECT_EQ(unit.materialized, "");  // no config at all
  EXPECT_TRUE(unit.enabled);
  EXPECT_EQ(unit.depends_on_nodes, (std::vector<std::string>{"model.proj.stg_a"}));

  ASSERT_EQ(m.macros.size(), 2u);
  EXPECT_EQ(m.macros[0].unique_id, "macro.dbt.round");
  EXPECT_EQ(m.macros[0].package_name, "dbt");
  EXPECT_EQ(m.macros[1].unique_id, "macro.proj.money");
  EXPECT_EQ(m.macros[1].original_file_path, "macros/money.sql");
  EXPECT_EQ(m.macros[1].depends_on_macros, (std::vector<std::string>{"macro.dbt.round"}));
}

TEST(ParseManifest, NodeWithoutDependsOnIsFine) {
  Manifest m;
  std::string err;
  ASSERT_TRUE(ParseManifest(ManifestWithNode(R"({"unique_id": "model.p.x", "resource_type": "model",
      "name": "x", "package_name": "p", "original_file_path": "models/x.sql", "fqn": ["p", "x"]})"),
                            "m.json", &m, &err))
      << err;
  ASSERT_EQ(m.nodes.size(), 1u);
  EXPECT_TRUE(m.nodes[0].depends_on_nodes.empty());
  EXPECT_TRUE(m.nodes[0].depends_on_macros.empty());
  EXPECT_EQ(m.adapter_type, "");
}

TEST(ParseManifest, MalformedJsonNamesFileAndPosition) {
  EXPECT_EQ(ParseError(R"({"metadata": {"dbt_schema_version": )"),
            "target/manifest.json: malformed JSON: parse error at line 1, column 37: syntax error "
            "while parsing value - unexpected end of input; expected '[', '{', or a literal");
}

TEST(ParseManifest, MalformedJsonOnALaterLineStaysOneLine) {
  EXPECT_EQ(ParseError("{\n  \"metadata\": \"a\nb\"}"),
            "target/manifest.json: malformed JSON: parse error at line 3, column 0: syntax error "
            "while parsing value - invalid string: control character U+000A (LF) must be escaped "
            "to \\u000A or \\n; last read: '\"a<U+000A>'");
}

TEST(ParseManifest, TopLevelNotAnObject) {
  EXPECT_EQ(ParseError("[1, 2]"),
            "target/manifest.json: not a dbt manifest (the top level is not an object)");
}

TEST(ParseManifest, WrongSchemaVersion) {
  EXPECT_EQ(
      ParseError(R"({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v11.json"},
                    "nodes": {}, "macros": {}})"),
      "target/manifest.json: unsupported manifest schema "
      "'https://schemas.getdbt.com/dbt/manifest/v11.json' (pa-gen reads "
      "https://schemas.getdbt.com/dbt/manifest/v12.json, dbt 1.8 to 1.12)");
}

TEST(ParseManifest, MissingMetadata) {
  EXPECT_EQ(ParseError(R"({"nodes": {}, "macros": {}})"),
            "target/manifest.json: manifest lacks required field 'metadata'");
}

TEST(ParseManifest, MissingSchemaVersion) {
  EXPECT_EQ(ParseError(R"({"metadata": {}, "nodes": {}, "macros": {}})"),
            "target/manifest.json: metadata lacks required field 'dbt_schema_version'");
}

TEST(ParseManifest, NodeMissingFqn) {
  EXPECT_EQ(ParseError(ManifestWithNode(R"({"unique_id": "model.p.x", "resource_type": "model",
      "name": "x", "package_name": "p", "original_file_path": "models/x.sql"})")),
            "target/manifest.json: node 'model.p.x' lacks required field 'fqn'");
}

TEST(ParseManifest, FieldOfWrongType) {
  EXPECT_EQ(ParseError(ManifestWithNode(R"({"unique_id": "model.p.x", "resource_type": "model",
      "name": 7, "package_name": "p", "original_file_path": "models/x.sql", "fqn": ["p", "x"]})")),
            "target/manifest.json: node 'model.p.x' field 'name' should be string but is number");
}

TEST(ParseManifest, DependsOnOfWrongType) {
  EXPECT_EQ(ParseError(ManifestWithNode(R"({"unique_id": "model.p.x", "resource_type": "model",
      "name": "x", "package_name": "p", "original_file_path": "models/x.sql", "fqn": ["p", "x"],
      "depends_on": {"nodes": "seed.p.s"}})")),
            "target/manifest.json: node 'model.p.x' depends_on field 'nodes' should be array but "
            "is string");
}

TEST(ParseManifest, FqnHoldingANumber) {
  EXPECT_EQ(ParseError(ManifestWithNode(R"({"unique_id": "model.p.x", "resource_type": "model",
      "name": "x", "package_name": "p", "original_file_path": "models/x.sql", "fqn": ["p", 1]})")),
            "target/manifest.json: node 'model.p.x' field 'fqn' should hold strings");
}

TEST(ParseManifest, ReportsTheFirstProblemOnly) {
  // Both 'name' and 'fqn' are wrong; the first field read wins.
  EXPECT_EQ(ParseError(ManifestWithNode(R"({"unique_id": "model.p.x", "resource_type": "model",
      "name": null, "package_name": "p", "original_file_path": "models/x.sql"})")),
            "target/manifest.json: node 'model.p.x' field 'name' should be string but is null");
}

TEST(ParseManifest, TruncatedFileIsMalformed) {
  std::string text(kValidManifest);
  text.resize(text.find("\"macros\""));
  std::string err = ParseError(text);
  EXPECT_EQ(err.rfind("target/manifest.json: malformed JSON: parse error at line ", 0), 0u) << err;
}

TEST(ParseManifest, TrailingContentIsMalformed) {
  EXPECT_EQ(ParseError(std::string(kValidManifest) + " {}"),
            "target/manifest.json: malformed JSON: parse error at line 68, column 3: syntax error "
            "while parsing value - unexpected '{'; expected end of input");
}

TEST(ParseManifest, MalformedBeatsAMissingField) {
  EXPECT_EQ(ParseError(R"({"nodes": {}, "macros": {}} x)").find("malformed JSON"), 22u);
}

// The first problem is chosen in the order pa-gen reads fields (metadata,
// then the maps, then entries by key), whatever the document's order.
TEST(ParseManifest, FirstProblemDoesNotDependOnKeyOrder) {
  const std::string v12 = R"("dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json")";
  EXPECT_EQ(ParseError(R"({"nodes": {"b": {"name": 3}, "a": {"fqn": 3}}, "macros": {},
                           "metadata": {)" + v12 + "}}"),
            "target/manifest.json: node 'a' lacks required field 'unique_id'");
  EXPECT_EQ(ParseError(R"({"nodes": {"b": 3, "a": {}}, "metadata": {)" + v12 + "}}"),
            "target/manifest.json: manifest lacks required field 'macros'");
  EXPECT_EQ(ParseError(R"({"nodes": {"c": {}, "b": 3}, "macros": {}, "metadata": {)" + v12 + "}}"),
            "target/manifest.json: node 'b' is not an object");
  EXPECT_EQ(ParseError(R"({"nodes": {"a": {}}, "macros": {},
                           "metadata": {"dbt_schema_version": "v11"}})"),
            "target/manifest.json: unsupported manifest schema 'v11' (pa-gen reads "
            "https://schemas.getdbt.com/dbt/manifest/v12.json, dbt 1.8 to 1.12)");
}

// ParseManifest with `extra` (JSON members) added to the node model.p.x.
std::string Definition(const std::string& extra) {
  Manifest m;
  std::string err;
  std::string node = R"({"unique_id": "model.p.x", "resource_type": "model", "name": "x",
      "package_name": "p", "original_file_path": "models/x.sql", "fqn": ["p", "x"])" +
                     extra + "}";
  EXPECT_TRUE(ParseManifest(ManifestWithNode(node), "m.json", &m, &err)) << err;
  return m.nodes.empty() ? "" : m.nodes[0].definition;
}

TEST(ParseManifest, DefinitionCoversWhatDefinesTheResult) {
  const std::string config = R"(, "config": {"materialized": "view", "persist_docs": {}})";
  const std::string base = Definition(config + R"(, "raw_code": "select 1", "description": "d")");
  EXPECT_EQ(base, Definition(config + R"(, "raw_code": "select 1", "description": "d")"));
  // Fields of the definition.
  EXPECT_NE(base, Definition(config + R"(, "raw_code": "select 2", "description": "d")"));
  EXPECT_NE(base, Definition(R"(, "config": {"materialized": "table", "persist_docs": {}})"
                             R"(, "raw_code": "select 1", "description": "d")"));
  EXPECT_NE(base, Definition(config + R"(, "raw_code": "select 1", "description": "d",)"
                                      R"( "checksum": {"name": "sha256", "checksum": "ab"})"));
  // Not part of it: descriptions without persist_docs, other fields, the node's key order.
  EXPECT_EQ(base, Definition(config + R"(, "raw_code": "select 1", "description": "e")"));
  EXPECT_EQ(base, Definition(config + R"(, "raw_code": "select 1", "created_at": 1.5)"));
  EXPECT_EQ(base, Definition(R"(, "raw_code": "select 1")" + config));
  // Descriptions count when dbt persists them.
  const std::string persist = R"(, "config": {"persist_docs": {"relation": true}})";
  EXPECT_NE(Definition(persist + R"(, "description": "d")"),
            Definition(persist + R"(, "description": "e")"));
  EXPECT_NE(Definition(persist + R"(, "columns": {"a": {"description": "d"}})"),
            Definition(persist + R"(, "columns": {"a": {"description": "e"}})"));
}

// dbt writes `indexes` entries with their keys in varying order from one
// full parse to the next (seen on a real project): same meaning, same definition.
TEST(ParseManifest, DefinitionIgnoresTheKeyOrderOfConfigMaps) {
  const std::string one = Definition(
      R"(, "config": {"materialized": "table", "indexes": [{"columns": ["a"], "unique": true,)"
      R"( "type": ""}], "meta": {"x": 1.0}})");
  EXPECT_EQ(one, Definition(R"(, "config": {"meta": {"x": 1}, "indexes": [{"type": "",)"
                            R"( "unique": true, "columns": ["a"]}], "materialized": "table"})"));
  // A change of meaning still counts: a value, or the order of a list.
  EXPECT_NE(one, Definition(R"(, "config": {"materialized": "table", "indexes": [{"columns":)"
                            R"( ["a"], "unique": false, "type": ""}], "meta": {"x": 1.0}})"));
  EXPECT_NE(Definition(R"(, "config": {"indexes": [{"columns": ["a", "b"]}]})"),
            Definition(R"(, "config": {"indexes": [{"columns": ["b", "a"]}]})"));
}

TEST(ParseManifest, MacroDigestFollowsItsSql) {
  auto digest = [](const std::string& sql) {
    Manifest m;
    std::string err;
    std::string text =
        R"({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},)"
        R"( "nodes": {}, "macros": {"macro.p.m": {"unique_id": "macro.p.m", "package_name": "p",)"
        R"( "original_file_path": "macros/m.sql", "macro_sql": )" + sql + "}}}";
    EXPECT_TRUE(ParseManifest(text, "m.json", &m, &err)) << err;
    return m.macros.empty() ? "" : m.macros[0].sql_digest;
  };
  EXPECT_EQ(digest(R"("a")"), digest(R"("a")"));
  EXPECT_NE(digest(R"("a")"), digest(R"("b")"));
}

// Macros are sorted in place as nodes are (one permutation, followed cycle
// by cycle): listed in an order of long cycles, each comes out at its
// place with its own fields.
TEST(ParseManifest, MacrosComeOutSortedWithTheirOwnFields) {
  auto macro = [](int i) {
    std::string id = fmt::format("macro.p.m{:02}", i);
    return fmt::format(R"("{}": {{"unique_id": "{}", "package_name": "p", )"
                       R"("original_file_path": "macros/m{:02}.sql", "macro_sql": "select {}"}})",
                       id, id, i, i);
  };
  auto parse = [](const std::string& macros, Manifest* m) {
    std::string err;
    EXPECT_TRUE(ParseManifest(
        R"({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},)"
        R"( "nodes": {}, "macros": {)" + macros + "}}",
        "m.json", m, &err))
        << err;
  };
  const int kMacros = 60;
  std::string entries;
  for (int k = 0; k < kMacros; ++k)
    entries += (k ? ", " : "") + macro((k * 7) % kMacros);  // 7 and 60 are coprime: each once
  Manifest m;
  parse(entries, &m);
  ASSERT_EQ(m.macros.size(), static_cast<size_t>(kMacros));
  for (int i = 0; i < kMacros; ++i) {
    EXPECT_EQ(m.macros[i].unique_id, fmt::format("macro.p.m{:02}", i));
    EXPECT_EQ(m.macros[i].original_file_path, fmt::format("macros/m{:02}.sql", i));
    Manifest alone;
    parse(macro(i), &alone);
    ASSERT_EQ(alone.macros.size(), 1u);
    EXPECT_EQ(m.macros[i].sql_digest, alone.macros[0].sql_digest) << i;
  }
}

TEST(LoadManifest, ReadsTheFileInPlace) {
  const std::string path = ::testing::TempDir() + "/pa_gen_manifest_test.json";
  {
    std::ofstream out(path);
    out << kValidManifest;
  }
  ManifestText text;
  std::string err;
  ASSERT_TRUE(ReadManifestText(path, &text, &err)) << err;
  EXPECT_EQ(text.view(), kValidManifest);
  Manifest direct;
  ASSERT_TRUE(ParseManifestText(text, path, &direct, &err)) << err;
  Manifest loaded;
  ASSERT_TRUE(LoadManifest(path, &loaded, &err)) << err;
  ASSERT_EQ(loaded.nodes.size(), 4u);
  EXPECT_EQ(loaded.nodes[0].definition, direct.nodes[0].definition);
  EXPECT_EQ(loaded.macros.size(), 2u);
  std::remove(path.c_str());
}

// The sanitizer build (PA_MANIFEST_ON_HEAP) reads the file into memory, never maps it.
#ifndef PA_MANIFEST_ON_HEAP
// A manifest of several pages, for the tests of a file cut short while
// ReadManifestText has it mapped: the spaces before its last brace are JSON.
std::string ManyPagesManifest() {
  std::string text(kValidManifest);
  text.insert(text.rfind('}'), std::string(5 * 4096, ' '));
  return text;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Truncated while mapped, the pages past the new end would raise SIGBUS:
// the reader reads the file again instead and reports what it holds now,
// as reading the cut file would.
TEST(LoadManifest, AFileCutShortWhileMappedIsReadAsItIsNow) {
  const std::string path = ::testing::TempDir() + "/pa_gen_manifest_cut.json";
  WriteText(path, ManyPagesManifest());
  ManifestText text;
  std::string err;
  ASSERT_TRUE(ReadManifestText(path, &text, &err)) << err;
  ASSERT_EQ(truncate(path.c_str(), 5000), 0);
  Manifest m;
  EXPECT_FALSE(ParseManifestText(text, path, &m, &err));
  std::string direct;
  Manifest again;
  EXPECT_FALSE(LoadManifest(path, &again, &direct));
  EXPECT_EQ(err, direct);
  EXPECT_NE(err.find("malformed JSON"), std::string::npos) << err;
  std::remove(path.c_str());
}

TEST(LoadManifest, AFileRewrittenWhileMappedIsReadAsItIsNow) {
  const std::string path = ::testing::TempDir() + "/pa_gen_manifest_rewritten.json";
  WriteText(path, ManyPagesManifest());
  ManifestText text;
  std::string err;
  ASSERT_TRUE(ReadManifestText(path, &text, &err)) << err;
  ASSERT_EQ(truncate(path.c_str(), 0), 0);
  WriteText(path, std::string(kValidManifest));
  Manifest m;
  ASSERT_TRUE(ParseManifestText(text, path, &m, &err)) << err;
  EXPECT_EQ(m.nodes.size(), 4u);
  std::remove(path.c_str());
}

#endif

TEST(LoadManifest, MissingFileNamesTheFile) {
  Manifest m;
  std::string err;
  const std::string path = ::testing::TempDir() + "/pa_gen_no_such_dir/manifest.json";
  EXPECT_FALSE(LoadManifest(path, &m, &err));
  EXPECT_EQ(err, path + ": cannot read: No such file or directory");
}

// Issue 13, class 6: manifest checks across entries.
std::string NodeJson(const std::string& id, const std::string& file) {
  return R"({"unique_id": ")" + id + R"(", "resource_type": "model", "name": "x", )"
         R"("package_name": "p", "original_file_path": ")" + file + R"(", "fqn": ["p", "x"]})";
}
std::string ManifestWithNodes(const std::string& entries) {
  return R"({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},)"
         R"( "macros": {}, "nodes": {)" + entries + "}}";
}

// A large manifest's definitions are digested on two threads: each node's
// is the one it has alone.
TEST(ParseManifest, DefinitionsOfManyNodesAreThoseOfEachAlone) {
  auto node = [](int i) {
    std::string n = std::to_string(i);
    return R"({"unique_id": "model.p.m)" + n + R"(", "resource_type": "model", "name": "m)" + n +
           R"(", "package_name": "p", "original_file_path": "models/m.sql", "fqn": ["p", "m"],)"
           R"( "raw_code": "select )" + n + R"(", "config": {"materialized": "view", "tags": ["t)" +
           std::to_string(i % 5) + R"("]}})";
  };
  const size_t kNodes = 3000;  // above the size that takes a second thread
  std::string entries;
  for (size_t i = 0; i < kNodes; ++i)
    entries += (i ? ", \"model.p.m" : "\"model.p.m") + std::to_string(i) + "\": " + node(i);
  Manifest all;
  std::string err;
  ASSERT_TRUE(ParseManifest(ManifestWithNodes(entries), "m.json", &all, &err)) << err;
  ASSERT_EQ(all.nodes.size(), kNodes);
  std::set<std::string> distinct;
  for (const ManifestNode& n : all.nodes) {
    int i = std::stoi(n.unique_id.substr(std::string_view("model.p.m").size()));
    Manifest alone;
    ASSERT_TRUE(ParseManifest(ManifestWithNodes("\"x\": " + node(i)), "m.json", &alone, &err)) << err;
    EXPECT_EQ(n.definition, alone.nodes.at(0).definition) << n.unique_id;
    distinct.insert(n.definition);
  }
  EXPECT_EQ(distinct.size(), kNodes);
}

TEST(ParseManifest, DuplicateUniqueIdsAreAnError) {
  // One key twice.
  EXPECT_EQ(ParseError(ManifestWithNodes(R"("model.p.x": )" + NodeJson("model.p.x", "models/x.sql") +
                                         R"(, "model.p.x": )" + NodeJson("model.p.x", "models/x.sql"))),
            "target/manifest.json: node 'model.p.x' is there twice (duplicate unique_id)");
  // Two keys, one unique_id.
  EXPECT_EQ(ParseError(ManifestWithNodes(R"("model.p.x": )" + NodeJson("model.p.x", "models/x.sql") +
                                         R"(, "model.p.y": )" + NodeJson("model.p.x", "models/y.sql"))),
            "target/manifest.json: node 'model.p.x' is there twice (duplicate unique_id)");
}

TEST(ParseManifest, PathsOutsideThePackageAreAnError) {
  EXPECT_EQ(ParseError(ManifestWithNode(NodeJson("model.p.x", "../../etc/passwd"))),
            "target/manifest.json: node 'model.p.x': original_file_path '../../etc/passwd' leaves "
            "its package folder");
  EXPECT_EQ(ParseError(ManifestWithNode(NodeJson("model.p.x", "models/../../x.sql"))),
            "target/manifest.json: node 'model.p.x': original_file_path 'models/../../x.sql' leaves "
            "its package folder");
  EXPECT_EQ(ParseError(ManifestWithNode(NodeJson("model.p.x", "/etc/passwd"))),
            "target/manifest.json: node 'model.p.x': original_file_path '/etc/passwd' is absolute; "
            "it should be relative to its package");
  std::string with_patch = NodeJson("model.p.x", "models/x.sql");
  with_patch.insert(with_patch.size() - 1, R"(, "patch_path": "p://../secrets.yml")");
  EXPECT_EQ(ParseError(ManifestWithNode(with_patch)),
            "target/manifest.json: node 'model.p.x': patch_path '../secrets.yml' leaves its "
            "package folder");
  EXPECT_EQ(ParseError(R"({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},)"
                       R"( "nodes": {}, "macros": {"macro.p.m": {"unique_id": "macro.p.m", )"
                       R"("package_name": "p", "original_file_path": "/etc/shadow"}}})"),
            "target/manifest.json: macro 'macro.p.m': original_file_path '/etc/shadow' is absolute; "
            "it should be relative to its package");
}

TEST(ParseManifest, ANewlineInAQuotedPathStaysOneLine) {  // found by fuzz_manifest
  EXPECT_EQ(ParseError(ManifestWithNode(NodeJson("model.p.x", "../a\\nb"))),
            "target/manifest.json: node 'model.p.x': original_file_path '../a b' leaves its "
            "package folder");
}

TEST(ParseManifest, APathNinjaCannotStatIsAnError) {
  std::string long_name(10000, 'n');
  std::string err = ParseError(ManifestWithNode(NodeJson("model.p.x", "models/" + long_name + ".sql")));
  EXPECT_EQ(err.rfind("target/manifest.json: node 'model.p.x': original_file_path 'models/nnn", 0), 0u)
      << err;
  EXPECT_LT(err.size(), 400u);  // one readable line, not 10,000 characters
  Manifest manifest;  // 200-byte names are fine
  EXPECT_TRUE(ParseManifest(ManifestWithNode(NodeJson("model.p.x", "models/" + std::string(200, 'd') +
                                                                       "/" + std::string(200, 'e') + ".sql")),
                            "m.json", &manifest, &err))
      << err;
}

}  // namespace
