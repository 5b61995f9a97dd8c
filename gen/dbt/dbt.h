#pragma once

#include <string>
#include <utility>
#include <vector>

#include "util/fs.h"

// How every dbt process of a build is started. Parse and batches must pass
// identical values, or dbt discards its partial parse and re-parses everything.
// Each field that comes from the command line has its row in DbtOptions().
struct DbtSettings {
  fs::path dbt;           // absolute path of the dbt executable
  fs::path profiles_dir;  // absolute
  std::string target;     // empty: the profile's default
  std::string vars;       // YAML/JSON text as for `dbt --vars`; empty: none
  int threads = 0;        // 0: the profile's setting
  int batch_timeout = 0;  // seconds a batch's dbt may run; 0: no limit
  int retries = 2;        // extra attempts after a transient failure (a held lock)
  // What the generated graph holds, in dbt's selection syntax (resolved by
  // `dbt ls`, manifest/dbt_ls.h); empty: every node. Not passed to batches,
  // which select their own members.
  std::string select;
  std::string exclude;
};

// The flags shared by `dbt parse` and every batch: the `shared` rows of
// DbtOptions() (dbt/options.h).
std::vector<std::string> SharedDbtArgs(const DbtSettings& settings);

// The environment added to every dbt process.
std::vector<std::pair<std::string, std::string>> DbtEnvironment();

// DbtEnvironment() plus what only a batch's `dbt build` needs: two of dbt's
// own settings that cost O(project) in every invocation and change nothing a
// batch does (dbt/dbt.cc says why). Set only where the user's environment
// does not choose them.
std::vector<std::pair<std::string, std::string>> DbtBuildEnvironment();

// --dbt, else $PA_DBT, else .venv/bin/dbt in the project folder or above it,
// else dbt on PATH. Returns an absolute path.
bool FindDbt(const std::string& flag, const fs::path& project_dir, fs::path* dbt,
             std::string* err);

// Whether dbt's console output shows a failure that may pass by itself:
// another process holds the DuckDB file, the server refused a connection, or
// another batch created the same schema (or hook table) at the same moment.
// SQL errors and failing tests are never transient.
bool IsTransientFailure(const std::string& output);

// Pulls the reason out of dbt's console output for a one-line message.
std::string DbtErrorSummary(const std::string& output);
