#pragma once

#include <string>

#include "util/fs.h"

// The options of `pa-gen` itself; names follow dbt's flags.
struct GenerateOptions {
  std::string project_dir = ".";
  std::string output;  // default: build.ninja in the project folder
  std::string target;
  std::string profiles_dir;
  std::string vars;
  int threads = 0;
  int batch_timeout = 0;
  int retries = 2;
  std::string dbt;
  std::string manifest;  // use this manifest instead of running `dbt parse`
  std::string policy = "folder";
  bool timings = false;  // print each phase's wall time to stderr
};

// The pipeline: load manifest -> build graph -> group -> write ninja.
// Returns the exit code and sets *plan_file to the plan written beside
// build.ninja. On failure prints one line and leaves every file it would
// have written as it was.
int Generate(const GenerateOptions& options, fs::path* plan_file);
