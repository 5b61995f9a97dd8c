#pragma once

// Helpers shared by the end-to-end tests: the real pa-gen, dbt (from .venv)
// and ninja, run through /bin/sh.
#include <gtest/gtest.h>

#include <string>

#include "util/fs.h"

inline const fs::path kSource = PA_SOURCE_DIR;
inline const fs::path kPaGen = PA_GEN_BINARY;
inline const fs::path kVenv = kSource / ".venv" / "bin";

struct Result {
  int code = -1;
  std::string out;  // stdout and stderr, in order
};

// Runs a shell command in `dir`, capturing its output.
Result Shell(const fs::path& dir, const std::string& command);

std::string Read(const fs::path& path);
void Write(const fs::path& path, const std::string& text);

// A new folder for one test suite's files. Also points pa-gen at the dbt in
// .venv and turns dbt's telemetry off.
fs::path TestRoot(const std::string& name);

// A fresh copy of examples/planalign at `to`: its source files only,
// nothing a build left.
void CopyExample(const fs::path& to);

// Every relation of planalign.duckdb in `project`: name, row count and a
// digest of its sorted rows, one per line.
std::string WarehouseDigest(const fs::path& project);

// A copy of examples/planalign at `dir`, built by a plain `dbt build`: the
// warehouse pa-gen must match. Returns its WarehouseDigest; "" (and a
// failed test) when dbt fails.
std::string DbtBuildReference(const fs::path& dir);

// Removes the suite's folder unless a test failed: then it is kept to look at.
void RemoveUnlessFailed(const fs::path& root);
