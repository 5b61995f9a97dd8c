#pragma once

// Helpers shared by the end-to-end tests: the real pa-gen, dbt (from .venv)
// and ninja, run through /bin/sh.
//
// CTest runs every test in a process of its own, several at a time. What is
// expensive to make (a `dbt build` of the example, the example built by
// pa-gen and ninja, the tiny failure project built) is made once by a
// fixture setup test into the cache folder; every other test copies it into
// a folder of its own, so that no two tests share a DuckDB file and no test
// depends on what another one did.
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>

#include "util/fs.h"

inline const fs::path kSource = PA_SOURCE_DIR;
inline const fs::path kPaGen = PA_GEN_BINARY;
inline const fs::path kVenv = kSource / ".venv" / "bin";
// Where fixture setup tests leave what the other tests copy (in the build tree).
inline const fs::path kCache = PA_E2E_CACHE;

struct Result {
  int code = -1;
  std::string out;  // stdout and stderr, in order
};

// Runs a shell command in `dir`, capturing its output.
Result Shell(const fs::path& dir, const std::string& command);

std::string Read(const fs::path& path);

void Write(const fs::path& path, const std::string& text);

// A new folder for one test's files, named after the running test (and
// `part`, for a test that needs more than one). Also
// points pa-gen at the dbt in .venv and turns dbt's telemetry off.
fs::path TestRoot(const std::string& part = "");

// Removes the folder unless a test failed: then it is kept to look at.
void RemoveUnlessFailed(const fs::path& root);

// A fresh copy of examples/planalign at `to`: its source files only,
// nothing a build left.
void CopyExample(const fs::path& to);

// Copies a built project from `from` to `to` with everything its build left
// (stamps, state, plan, parse manifest, .ninja_log, the DuckDB file), keeping
// every mtime, and rewrites the absolute folder paths pa-gen and dbt wrote
// (build.ninja, the plan, the parse settings and manifest) to the new
// folder, keeping those files' mtimes too. Ninja in the copy then has no
// work to do and pa-gen needs no new `dbt parse`.
void CopyBuiltProject(const fs::path& from, const fs::path& to);

// Every relation of the DuckDB file `database` in `project`: name, row count
// and a digest of its sorted rows, one per line.
std::string WarehouseDigest(const fs::path& project, const std::string& database = "planalign.duckdb");

// A cached build in kCache/<name>: made by `build` (given the empty folder;
// returns false after a failed assertion) and marked complete with
// kCache/<name>.done. Fixture setup tests call Rebuild; the others call
// Cached, which rebuilds only when the cache is missing or older than
// pa-gen, the test binary or the example's sources (a test run on its own).
struct CachedBuild {
  std::string name;
  std::function<bool(const fs::path& dir)> build;

  fs::path Dir() const { return kCache / name; }
  bool Rebuild() const;
  bool Cached() const;
};

// examples/planalign built by a plain `dbt build`: the warehouse pa-gen must
// match. ReferenceDigest() is its WarehouseDigest ("" and a failed test when
// dbt fails).
const CachedBuild& DbtBuildReference();
std::string ReferenceDigest();

// The batches of a ninja run's `dbt build <batch> (...)` lines.
std::set<std::string> BatchesRun(const std::string& ninja_output);

// How many processes have a command line that mentions `project` and dbt:
// dbt processes left behind in it.
int DbtProcessesIn(const fs::path& project);

// A shell loop that waits (at most `seconds`) until dbt's JSON log `log`
// records NodeFinished for the node `unique_id`; the command after it then
// runs while the rest of the batch is still at work.
std::string WaitUntilNodeFinished(const std::string& log, const std::string& unique_id, int seconds = 30);

// Now, in ns since the epoch (what .pa/state's ran_at counts).
long long Now();

// Nodes whose last run (by pa-gen: dbt ran them, or pa-gen skipped them)
// began at `since` (ns since the epoch) or later, from .pa/state.
std::set<std::string> RanSince(const fs::path& project, long long since);
