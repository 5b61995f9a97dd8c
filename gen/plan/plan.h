#pragma once

#include <string>
#include <utility>
#include <vector>

#include "dbt/dbt.h"
#include "plan/layout.h"
#include "plan/selectors.h"

// What `pa-gen exec` runs, written beside build.ninja so that no selection
// list ever goes on a command line. Built by MakePlan (write/plan.h), read
// and written by plan/plan_json.h; the runtime (exec/) knows nothing else
// of the generation.
struct PlanMember {
  std::string unique_id;
  std::string selector;     // dotted fqn, as dbt selects it exactly
  std::string fingerprint;  // the node's fingerprint mixed with the dbt settings
  std::vector<std::pair<std::string, std::string>> deps;  // (batch, unique_id) of parents
  // (batch, unique_id) of tests in other batches whose failure holds this
  // member back, as `dbt build` gates a test's parents' descendants.
  std::vector<std::pair<std::string, std::string>> gated_by = {};
  // A model with config.on_error: continue: its failure holds nothing back
  // (`dbt build` runs its descendants; its tests still gate them).
  bool on_error_continue = false;
};

struct PlanBatch {
  std::string name;
  std::string digest;  // of the members and their fingerprints; also in build.ninja
  std::vector<PlanMember> members;  // sorted by unique_id
  std::string split_from = "";  // a batch split node by node: the batch it was part of
  int threads = 0;              // dbt --threads for this batch; 0: the plan's
  std::vector<std::string> upstream = {};  // batches it waits for, sorted by name
};

struct Plan {
  std::string project_dir;  // relative to the folder that holds the plan
  DbtSettings dbt;
  std::vector<PlanBatch> batches;  // sorted by name
  // Every node a fqn selector can match, so that exec can select the members
  // that need work with few selectors (plan/selectors.h). Empty in a plan
  // written before it: then each member is selected by its own selector.
  std::vector<SelectableNode> selectable = {};

  const PlanBatch* Find(const std::string& batch) const;
};

// Batches with every upstream batch before them; ties as a pass over the
// batches by name would take them (a batch that becomes ready goes in the
// same pass when it comes later by name, else in the next).
std::vector<const PlanBatch*> RunOrder(const Plan& plan);

// Whether another batch waits for `name`.
bool HasDownstream(const Plan& plan, const std::string& name);
