#pragma once

#include <string>
#include <utility>
#include <vector>

// A build.ninja as plain data: built first, written out by WriteNinja.
// Paths and values are raw here; only the writer escapes.
struct NinjaEdge {
  std::string comment;
  std::string rule;
  std::vector<std::string> outputs;
  std::vector<std::string> implicit_outputs;
  std::vector<std::string> inputs;
  std::vector<std::string> implicit_inputs;
  std::vector<std::pair<std::string, std::string>> vars;
};

struct NinjaFile {
  std::vector<std::pair<std::string, std::string>> vars;  // top level, before the rules
  std::vector<std::pair<std::string, int>> pools;
  std::vector<NinjaEdge> edges;
  std::vector<std::string> defaults;
};

// Renders the file: header, variables, the rules of rules/pa.ninja, pools,
// edges. Fails on a path or value Ninja cannot express.
bool WriteNinja(const NinjaFile& file, std::string* out, std::string* err);
