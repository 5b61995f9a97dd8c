#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "exec/state.h"
#include "plan/plan.h"
#include "util/disk.h"

// The split-batch feature, in one place. pa-gen up to issue 12 split a
// batch that failed because of one of its own nodes into one edge per node
// from the next regeneration on, so that its good nodes let the rest of
// the build go on. Since skipping is per node (exec/gate.h) that buys
// nothing, and no batch is split any more; a marker left by an earlier
// version still splits its batch until every node split from it has
// succeeded, and then it merges back into one batch. The marker .pa/split/<batch> carries that decision
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

// At run time, after a batch succeeded (or had nothing to do): the last
// batch split from a group to succeed removes the group's marker, so the
// next regeneration merges the group back. `own` is the fresh state of
// `batch`; the other batches' states come from `states`.
class StateCache;
void MergeBackWhenDone(Disk& disk, const fs::path& project, const Plan& plan,
                       const PlanBatch& batch, StateCache* states, const BatchState& own);
