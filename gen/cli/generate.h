#pragma once

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "dbt/dbt.h"
#include "graph/graph.h"
#include "group/batch_settings.h"
#include "group/grouping.h"
#include "group/policy.h"
#include "group/predict.h"
#include "plan/plan.h"
#include "util/command_runner.h"
#include "util/disk.h"
#include "util/fs.h"

// The options of `pa-gen` itself; names follow dbt's flags.
struct GenerateOptions {
  std::string project_dir = ".";
  std::string output;  // default: build.ninja in the project folder
  // The dbt settings as given (dbt/options.h): profiles_dir and dbt are
  // resolved by the generation.
  DbtSettings dbt;
  std::string manifest;  // use this manifest instead of running `dbt parse`
  std::string policy;  // "": the adapter's default (DefaultPolicyFor)
  std::string policy_file;  // YAML rules on top of `policy`
  // Ninja's -j, for `auto` and `explain`: Ninja's own default.
  int jobs = static_cast<int>(std::thread::hardware_concurrency()) + 2;
  int max_batch_size = 0;  // 0: the policy file's, else no limit
  bool timings = false;  // print each phase's wall time to stderr
  // status, explain, graph: show the build these options describe without
  // changing the next `ninja`'s (generate on an OverlayDisk, util/disk.h;
  // parse into .pa/parse-readonly/ when the settings differ from the build's).
  bool read_only = false;
};

// dbt threads pa-gen assumes a profile sets when --threads does not say.
inline constexpr int kAssumedProfileThreads = 4;

// What one generation produced, for the subcommands that explain it.
struct Generation {
  fs::path plan_file;  // beside build.ninja
  DbtProject project;
  Graph graph;
  std::vector<std::string> names;  // UniqueNodeNames(graph)
  Grouping grouping;               // after failed batches were split
  std::vector<BatchSettings> settings;
  CostModel cost;
  int max_threads = 0;  // --threads
  std::map<std::string, double> predictions;  // `auto`: every candidate's predicted seconds
  Policy policy;
  // Why this policy, when no option named it: the adapter's default, or
  // auto's choice. "" when --policy or the policy file named it.
  std::string policy_reason;
  // What the graph was built from, kept to the end: main() leaves the
  // Generation to the process's exit, where freeing it costs nothing.
  Manifest manifest;
  // The plan written, kept for the same reason: freeing its batches and
  // selectable nodes took some 15 ms at 30,000 nodes.
  Plan plan;
};

// The pipeline: load manifest -> build graph -> group -> write ninja.
// Returns the exit code and fills *generation. On failure prints one line
// and leaves every file it would have written as it was. dbt parse runs
// through `runner`; every file pa-gen writes itself goes through `disk`.
int Generate(CommandRunner& runner, Disk& disk, const GenerateOptions& options,
             Generation* generation);
