#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "exec/state.h"
#include "plan/plan.h"

// Reads each batch's state once.
class StateCache {
 public:
  StateCache(Disk& disk, fs::path project_dir) : disk_(disk), project_dir_(std::move(project_dir)) {}
  // Null with *err set when the file is unreadable.
  const BatchState* Get(const std::string& batch, std::string* err);

 private:
  Disk& disk_;
  fs::path project_dir_;
  std::map<std::string, BatchState> loaded_;
};

struct MemberWork {
  bool needed = false;
  std::string why;  // "up to date", "changed", "never built", "upstream X rebuilt", ...
};

// Which members of `batch` must run, and why: fingerprint changed, never
// built, failed or forgotten, or a parent rebuilt after the member's last
// success (or, within the batch, a parent that runs now). `rebuilding` holds
// nodes of batches that will run before this one: `pa-gen exec` passes none
// (they ran already), `pa-gen status` passes its prediction.
bool DecideWork(const PlanBatch& batch, StateCache* states,
                const std::set<std::string>& rebuilding, std::vector<MemberWork>* work,
                std::string* err);
