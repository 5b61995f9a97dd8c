#pragma once

#include <map>
#include <set>
#include <string>

#include "plan/layout.h"
#include "util/disk.h"
#include "util/fs.h"

// What pa-gen remembers of each node's last run, in .pa/state/<batch>.json:
// one file per batch, so batches running side by side never write the same
// file. Written atomically.
struct NodeState {
  std::string fingerprint;  // of the last run
  long long built_at = 0;   // when it last succeeded, ns since the epoch; 0: never
  std::string status;       // dbt's status of the last run; "" when forgotten
  std::string message;      // dbt's message when it failed
  bool full_refresh = false;  // `pa-gen forget --full-refresh`: next run adds --full-refresh
  long long ran_at = 0;       // when dbt last ran it, successfully or not; 0: never
  double seconds = 0;         // dbt's execution_time of that run
  // Of `seconds`, the dbt process's own CPU, estimated (CpuShare); the rest
  // waited on the database or on the process's other threads. 0: unknown.
  double cpu_seconds = 0;

  bool Succeeded() const;
};

using BatchState = std::map<std::string, NodeState>;  // by unique_id

// A missing file is an empty state.
bool LoadBatchState(Disk& disk, const fs::path& file, BatchState* state, std::string* err);
bool SaveBatchState(Disk& disk, const fs::path& file, const BatchState& state, std::string* err);

// Every node's state, from all batches' files.
bool LoadAllState(Disk& disk, const fs::path& project_dir, BatchState* all, std::string* err);

// The last measured start-up of one dbt process (its wall time less dbt's
// elapsed_time), in .pa/dbt-startup; 0 when never measured. The `auto`
// policy weighs batches with it.
double LoadStartupSeconds(Disk& disk, const fs::path& project_dir);
void SaveStartupSeconds(Disk& disk, const fs::path& project_dir, double seconds);

// The last measured fixed cost of a batch: its dbt's wall time less the
// span of its nodes (the first node's start to the last one's end, as dbt
// timed them): the start-up, and inside dbt's elapsed_time the DAG, the
// cache and the artifacts, which a batch pays whatever its size. In
// .pa/dbt-fixed-cost; 0 when never measured. The cost model's per-batch
// fixed cost (group/predict.h).
double LoadFixedCostSeconds(Disk& disk, const fs::path& project_dir);
void SaveFixedCostSeconds(Disk& disk, const fs::path& project_dir, double seconds);

// Removes batch's stamp, and .pa/build.ok with it: no stamp for work that
// did not succeed, and no build.ok while any batch lacks its stamp. The dbt
// rule is restat, so when a batch whose stamp was already missing (new to
// build.ninja, forgotten) fails, Ninja finds the stamp unchanged and would
// skip the check edge, whose build.ok from an earlier build looks newer
// than its inputs: a failed build would end 0. Without build.ok the check
// edge runs. RegroupState removes build.ok for a batch without a stamp.
void RemoveStamp(Disk& disk, const fs::path& project_dir, const std::string& batch);

// After a regeneration: moves every node's state (`all`, from LoadAllState)
// to the file of the batch that now holds it (a policy change keeps what
// was built), drops nodes that left the project, and removes the stamps and
// state of batches that no longer exist. The state of `unselected` nodes
// (in the project, left out by --select/--exclude) is kept in a file of its
// own, so selecting them again does not rebuild what was built.
struct Plan;
bool RegroupState(Disk& disk, const fs::path& project_dir, const Plan& plan, const BatchState& all,
                  std::string* err, const std::set<std::string>& unselected = {});
