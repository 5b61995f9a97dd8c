#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "exec/state.h"
#include "plan/plan.h"
#include "util/disk.h"

// The split-batch feature, in one place. A batch that fails because of one
// of its own nodes, and that another batch waits for, runs node by node
// from the next regeneration on, so that its good nodes let the rest of
// the build go on; once every node split from it has succeeded it merges
// back into one batch. The marker .pa/split/<batch> carries that decision
// from `pa-gen exec` to the generation: the folder is an input of
// build.ninja's regeneration edge, so adding or removing a marker
// regenerates.

// The markers: the names of the batches that run node by node.
std::set<std::string> SplitMarkers(Disk& disk, const fs::path& project_dir);
void SetSplitMarker(Disk& disk, const fs::path& project_dir, const std::string& batch, bool split);

// At generation: of the `markers`, which batches of the new grouping
// (`batches`: each batch's name and its members' unique ids) run node by
// node, and which markers are done with (every member succeeded, or no
// batch has that name any more) and are removed once the new build.ninja
// is written.
struct SplitChoice {
  std::set<std::string> split;
  std::set<std::string> merged;
};
SplitChoice ChooseSplits(const std::set<std::string>& markers,
                         const std::map<std::string, std::vector<std::string>>& batches,
                         const BatchState& state);

// At run time, after a failed batch: whether it should run node by node
// from the next regeneration on: a node failed on its own account (not a
// timeout, a signal or a held lock), the batch is not split already, has
// more than one member, and another batch waits for it.
struct BatchOutcome;
struct DbtRun;
bool ShouldSplit(const Plan& plan, const PlanBatch& batch, const BatchOutcome& outcome,
                 bool have_results, const DbtRun& run);

// At run time, after a batch succeeded (or had nothing to do): the last
// batch split from a group to succeed removes the group's marker, so the
// next regeneration merges the group back. `own` is the fresh state of
// `batch`; the other batches' states come from `states`.
class StateCache;
void MergeBackWhenDone(Disk& disk, const fs::path& project, const Plan& plan,
                       const PlanBatch& batch, StateCache* states, const BatchState& own);
