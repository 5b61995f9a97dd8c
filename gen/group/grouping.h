#pragma once

#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "group/batch_settings.h"
#include "group/partition.h"
#include "group/policy.h"
#include "group/predict.h"
#include "manifest/project.h"

// One way to group the graph: the policy's keys made safe by the partition.
struct Grouping {
  std::string policy;                                  // as --policy names it
  std::vector<std::string> keys;                       // per node, from GroupKeys
  std::map<std::string, GroupSettings> group_settings;  // from the policy file's rules
  Partition partition;
  int max_batch_size = 0;  // the limit its batches were cut to; 0: none
};

// Groups with `policy`: keys, then the partition, then batches cut to the
// policy's max_batch_size.
Grouping GroupGraph(const Policy& policy, const std::string& name, const DbtProject& project,
                    const Graph& graph, const std::vector<std::string>& names);

// The grouping of the adapter's default policy (DefaultPolicyFor), for a
// build whose options named no policy: `policy` holds what they gave (its
// rules, pools, settings and limit) and becomes the default policy with
// them; `why` receives the reason explain prints. Its batches are cut to
// the options' limit, else to the default's, and the grouping is then
// named as the options that give it ("folder --max-batch-size 64"), as
// `auto` names a cut; `policy` keeps the options' limit, so that explain's
// alternatives are the other policies as those options give them.
Grouping GroupByDefault(const std::string& adapter_type, const DbtProject& project,
                        const Graph& graph, const std::vector<std::string>& names, Policy* policy,
                        std::string* why);

// The predicted build time of a grouping under `cost`.
double PredictGrouping(const Policy& policy, const Grouping& grouping, const Graph& graph,
                       const CostModel& cost, int max_threads);

// The policies `auto` chooses from, in order of preference on a tie.
inline const std::vector<std::string> kAutoCandidates = {
    "folder", "folder:2", "component", "level", "resource-type", "single", "per-model"};

// Where batches run side by side (`cost.jobs` > 1: a server), `auto` also
// weighs the folder batches cut into k parts along the DAG, for k in
// kAutoSplits, as --max-batch-size cuts them (the limit: the largest
// folder batch's models, seeds and snapshots over k, rounded up), named
// "folder --max-batch-size N" and tried after kAutoCandidates: one dbt
// process runs its Python on one core, so a folder's nodes in two
// processes can go faster than in one on two threads.
inline const std::vector<int> kAutoSplits = {2, 3, 4};

// `auto`: the candidate with the shortest predicted build, the first on a
// tie; the rules of a policy file still apply on top of each.
// `predictions` receives every candidate's predicted seconds.
Grouping ChooseGrouping(const Policy& policy, const DbtProject& project, const Graph& graph,
                        const std::vector<std::string>& names, const CostModel& cost,
                        int max_threads, std::map<std::string, double>* predictions);
