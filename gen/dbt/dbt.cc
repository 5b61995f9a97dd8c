#include "dbt/dbt.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "dbt/options.h"
#include "util/process.h"

std::vector<std::string> SharedDbtArgs(const DbtSettings& settings) {
  std::vector<std::string> args;
  AppendOptionArgs(settings, /*shared_only=*/true, &args);
  return args;
}

std::vector<std::pair<std::string, std::string>> DbtEnvironment() {
  std::vector<std::pair<std::string, std::string>> env = {{"DBT_USE_COLORS", "false"}};
  // dbt's telemetry waits on the network at start-up; respect an explicit choice.
  if (!std::getenv("DO_NOT_TRACK")) env.emplace_back("DO_NOT_TRACK", "1");
  return env;
}

std::vector<std::pair<std::string, std::string>> DbtBuildEnvironment() {
  std::vector<std::pair<std::string, std::string>> env = DbtEnvironment();
  // Environment variables rather than flags: a dbt that lacks a setting
  // ignores its variable, where an unknown flag would fail the batch.
  const std::pair<const char*, const char*> settings[] = {
      // The relation cache of the selected nodes' schemas only. By default
      // dbt first builds a relation for every node of the project to find
      // the schemas (0.7 of 4.6 profiled CPU-s of a two-node batch at 4,001
      // nodes); a relation in another schema is then looked up in the
      // database when a node asks for it, so every answer is the same.
      {"DBT_CACHE_SELECTED_ONLY", "true"},
      // dbt build's test edges (a test before the nodes downstream of what
      // it tests) by dbt's second algorithm: O(edges) where the default
      // walks every node's ancestors (0.9 profiled CPU-s at 4,001 nodes).
      // dbt-core keeps both and checks that their graphs have the same
      // transitive reduction, so every node waits for, and is skipped
      // after, exactly the same nodes (compilation.py, add_test_edges_2).
      {"DBT_USE_FAST_TEST_EDGES", "true"},
  };
  for (const auto& [name, value] : settings)
    if (!std::getenv(name)) env.emplace_back(name, value);
  return env;
}

bool FindDbt(const std::string& flag, const fs::path& project_dir, fs::path* dbt,
             std::string* err) {
  auto usable = [](const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) && access(p.c_str(), X_OK) == 0;
  };
  std::string chosen = flag;
  const char* from = "--dbt";
  if (chosen.empty()) {
    if (const char* env = std::getenv("PA_DBT"); env && *env) {
      chosen = env;
      from = "$PA_DBT";
    }
  }
  if (!chosen.empty()) {
    if (!usable(chosen)) {
      *err = fmt::format("{} names '{}', which is not an executable file", from, chosen);
      return false;
    }
    *dbt = fs::absolute(chosen).lexically_normal();
    return true;
  }
  for (fs::path dir = fs::absolute(project_dir).lexically_normal();; dir = dir.parent_path()) {
    fs::path candidate = dir / ".venv" / "bin" / "dbt";
    if (usable(candidate)) {
      *dbt = candidate;
      return true;
    }
    if (dir == dir.parent_path()) break;
  }
  *dbt = FindInPath("dbt");
  if (!dbt->empty()) return true;
  *err = "cannot find dbt: pass --dbt PATH, set $PA_DBT, or install it into .venv";
  return false;
}

bool IsTransientFailure(const std::string& output) {
  for (const char* sign : {"Could not set lock on file", "Conflicting lock is held",
                           "could not connect to server", "Connection refused",
                           "the database system is starting up",
                           // PostgreSQL: two batches ran `create schema if not exists` (or
                           // an on-run-start hook's `create table if not exists`) at the same
                           // time and the second lost the race; the next attempt finds the
                           // object there. (tests/e2e/postgres_test.cc makes the race happen.)
                           "pg_namespace_nspname_index", "pg_type_typname_nsp_index"}) {
    if (output.find(sign) != std::string::npos) return true;
  }
  return false;
}

std::string DbtErrorSummary(const std::string& output) {
  std::vector<std::string> lines;
  std::stringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    // dbt prefixes console lines with "HH:MM:SS  ".
    if (line.size() > 10 && line[2] == ':' && line[5] == ':' && line.compare(8, 2, "  ") == 0)
      line = line.substr(10);
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    lines.push_back(line.substr(first));
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find("Encountered an error") == std::string::npos) continue;
    std::string summary;
    for (size_t j = i + 1; j < lines.size() && j < i + 4; ++j)
      summary += (summary.empty() ? "" : ": ") + lines[j];
    if (!summary.empty()) return summary;
  }
  return lines.empty() ? "no output" : lines.back();
}
