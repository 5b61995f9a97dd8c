#pragma once

#include <map>
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

#include "graph/graph.h"
#include "group/batch_settings.h"
#include "group/partition.h"
#include "manifest/project.h"
#include "util/fs.h"
#include "write/plan.h"

// Everything that shapes build.ninja.
struct BuildDescription {
  const DbtProject* project;
  const Graph* graph;
  const Partition* partition;
  const Plan* plan;                     // batches in the partition's order
  std::vector<std::string> node_names;  // UniqueNodeNames(graph)
  std::string adapter_type;
  fs::path output;                      // absolute path of build.ninja
  fs::path pa_gen;                      // absolute path of the pa-gen binary
  std::vector<std::string> regen_args;  // arguments that regenerate this file
  std::vector<fs::path> regen_files;    // absolute; a change regenerates
  std::vector<fs::path> regen_dirs;     // absolute; an added or removed entry regenerates
  const std::vector<BatchSettings>* batch_settings;  // per batch of the partition
  std::map<std::string, int> pools;     // the policy's Ninja pools: name -> depth
};

NinjaFile MakeNinjaFile(const BuildDescription& description);
