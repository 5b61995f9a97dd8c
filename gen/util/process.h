#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

struct Subprocess {
  std::vector<std::string> argv;  // argv[0] is a path, not looked up in PATH
  std::filesystem::path cwd;      // empty: inherit
  std::filesystem::path output;   // stdout and stderr go here; empty: inherit
  std::vector<std::pair<std::string, std::string>> env;  // added to ours
};

// Runs the command to completion. Returns its exit code (128 + signal when
// killed by one), or -1 with *err set when it could not be started.
int RunSubprocess(const Subprocess& command, std::string* err);
