#pragma once

// The differential test of incremental builds on examples/planalign, shared
// by the DuckDB (planalign_test.cc) and PostgreSQL (postgres_test.cc) suites:
// a scripted sequence of edits, and after each one `ninja` must (1) leave
// the warehouse equal to a full `dbt build` of the same project state and
// (2) make dbt execute exactly the nodes the edit can affect, computed here
// from the manifest, independently of pa-gen.
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "e2e_util.h"

using Ids = std::set<std::string>;

// The graph as the test reads it from dbt's manifest, independently of pa-gen.
struct ManifestView {
  nlohmann::json doc;
  explicit ManifestView(const fs::path& file) : doc(nlohmann::json::parse(Read(file))) {}

  bool Executable(const std::string& id) const {
    if (doc["unit_tests"].contains(id)) return true;
    if (!doc["nodes"].contains(id)) return false;
    const nlohmann::json& n = doc["nodes"][id];
    std::string type = n["resource_type"];
    if (type == "model") return n["config"]["materialized"] != "ephemeral";
    return type == "seed" || type == "snapshot" || type == "test";
  }
  Ids AllExecutable() const {
    Ids ids;
    for (const auto* map : {&doc["nodes"], &doc["unit_tests"]})
      for (const auto& [id, n] : map->items())
        if (Executable(id)) ids.insert(id);
    return ids;
  }
  // Everything that runs when `changed` is rebuilt: the nodes, their
  // descendants (through ephemeral models), and the unit tests of every
  // model among them (dbt runs a model's unit tests with it).
  Ids Affected(const Ids& changed) const {
    Ids seen = changed;
    std::vector<std::string> todo(changed.begin(), changed.end());
    while (!todo.empty()) {
      std::string id = todo.back();
      todo.pop_back();
      if (!doc["child_map"].contains(id)) continue;
      for (const auto& child : doc["child_map"][id])
        if (seen.insert(child.get<std::string>()).second) todo.push_back(child);
    }
    for (const auto& [id, t] : doc["unit_tests"].items())
      if (seen.count(t["depends_on"]["nodes"][0].get<std::string>())) seen.insert(id);
    Ids out;
    for (const std::string& id : seen)
      if (Executable(id)) out.insert(id);
    return out;
  }
  // Nodes that call `macro`, directly or through other macros.
  Ids UsersOfMacro(const std::string& macro) const {
    std::function<bool(const std::string&, int)> uses = [&](const std::string& m, int depth) {
      if (m == macro) return true;
      if (depth > 20 || !doc["macros"].contains(m)) return false;
      for (const auto& next : doc["macros"][m]["depends_on"]["macros"])
        if (uses(next, depth + 1)) return true;
      return false;
    };
    Ids ids;
    for (const auto& [id, n] : doc["nodes"].items())
      for (const auto& m : n["depends_on"]["macros"])
        if (uses(m, 0)) ids.insert(id);
    return ids;
  }
};

// Nodes dbt executed since `marker` was written, from every batch's run results.
Ids ExecutedSince(const fs::path& project, const fs::path& marker);

// Replaces the first `from` in `file` with `to` (a failed assertion if absent).
void Replace(const fs::path& file, const std::string& from, const std::string& to);

// One step of the sequence.
struct Edit {
  std::string name;
  std::function<void(const fs::path& project)> apply;    // on both copies
  std::function<Ids(const ManifestView& m)> changed;      // nodes whose definition changed
  std::string vars = "";                                  // --vars from this step on
};

// The sequence: body, comment-only, touch, revert, yml description, yml
// test, dbt_project.yml config, macro body, seed CSV, var, add, rename and
// delete a model.
std::vector<Edit> PlanalignEdits();

// Where the sequence runs: `project` built by pa-gen (its regeneration
// arguments, e.g. --target, in `pa_gen_args`), `reference` built by
// `dbt_build` from the same sources; `ours`/`theirs` digest each warehouse.
struct EditTarget {
  fs::path project, reference, marker;
  std::string pa_gen_args;   // given to pa-gen when a step sets --vars
  std::string dbt_build;     // the reference's full build command
  std::function<std::string()> ours, theirs;
};

// Copies the project's sources to the reference, builds both, then applies
// every edit to both and checks each step.
void RunEditSequence(const EditTarget& t);
