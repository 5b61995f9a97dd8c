#pragma once

#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "group/batch_settings.h"
#include "group/partition.h"
#include "manifest/project.h"
#include "util/fs.h"
#include "write/ninja_writer.h"
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
  // The environment variables the profile and the project read: when any,
  // an edge run by every ninja checks their digest (rule check_env).
  std::vector<std::string> env_vars = {};
  fs::path identity_key = {};           // absolute: .pa/identity.key
};

NinjaFile MakeNinjaFile(const BuildDescription& description);
