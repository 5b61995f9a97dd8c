#pragma once

#include <string>
#include <vector>

#include "exec/work.h"
#include "plan/plan.h"

// Skipping by node, as `dbt build` skips: a member that needs work but
// whose parent in another batch failed or was skipped (or a test in
// another batch that gates it failed) does not run; it is recorded as
// skipped, naming the failed node, and the batch runs its other members.
// Within one dbt invocation dbt itself skips; this covers what crosses
// batches, and members of this batch downstream of a member skipped here.
// A failed model with on_error: continue holds nothing back (dbt 1.12).
struct BlockedMember {
  const PlanMember* member;
  std::string cause;  // unique_id of the node that failed
};

// Of `selected` (members of `batch`), those that cannot run now, in
// member order; the others stay in *selected. False with *err when a
// state file is unreadable.
bool TakeBlocked(const Plan& plan, const PlanBatch& batch, StateCache* states,
                 std::vector<const PlanMember*>* selected, std::vector<BlockedMember>* blocked,
                 std::string* err);

// The message recorded for a member skipped because of `cause`.
std::string SkippedBecause(const std::string& cause);
