#include "exec/work.h"

#include <fmt/format.h>

const BatchState* StateCache::Get(const std::string& batch, std::string* err) {
  auto it = loaded_.find(batch);
  if (it != loaded_.end()) return &it->second;
  BatchState state;
  if (!LoadBatchState(disk_, StateFile(project_dir_, batch), &state, err)) return nullptr;
  return &loaded_.emplace(batch, std::move(state)).first->second;
}

namespace {

// Why one member must run judging by its own state and its parents' states.
std::string OwnReason(const std::string& batch, const PlanMember& m, const BatchState& own,
                      StateCache* states, const std::set<std::string>& rebuilding,
                      std::string* err) {
  auto self = own.find(m.unique_id);
  if (self == own.end()) return "never built";
  if (self->second.status.empty()) return "forgotten (pa-gen forget)";
  const NodeState& s = self->second;
  if (!s.Succeeded()) return fmt::format("failed last time ({})", s.status);
  if (s.fingerprint != m.fingerprint) return "changed";
  for (const auto& [dep_batch, dep_id] : m.deps) {
    if (rebuilding.count(dep_id)) return fmt::format("upstream {} rebuilds", dep_id);
    if (dep_batch == batch) continue;  // decided together, below
    const BatchState* theirs = states->Get(dep_batch, err);
    if (!theirs) return "";
    auto dep = theirs->find(dep_id);
    if (dep == theirs->end() || !dep->second.Succeeded())
      return fmt::format("upstream {} not built", dep_id);
    if (dep->second.built_at > s.built_at) return fmt::format("upstream {} rebuilt", dep_id);
  }
  return {};
}

}  // namespace

bool DecideWork(const PlanBatch& batch, StateCache* states,
                const std::set<std::string>& rebuilding, std::vector<MemberWork>* work,
                std::string* err) {
  const BatchState* own = states->Get(batch.name, err);
  if (!own) return false;
  work->assign(batch.members.size(), MemberWork{});
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < batch.members.size(); ++i) {
    index[batch.members[i].unique_id] = i;
    err->clear();
    std::string why = OwnReason(batch.name, batch.members[i], *own, states, rebuilding, err);
    if (!err->empty()) return false;
    if (!why.empty()) (*work)[i] = {true, why};
  }
  // A member whose parent in this batch runs now runs too: until the fixpoint.
  for (bool grew = true; grew;) {
    grew = false;
    for (size_t i = 0; i < batch.members.size(); ++i) {
      if ((*work)[i].needed) continue;
      for (const auto& [dep_batch, dep_id] : batch.members[i].deps) {
        auto dep = index.find(dep_id);
        if (dep_batch != batch.name || dep == index.end() || !(*work)[dep->second].needed) continue;
        (*work)[i] = {true, fmt::format("upstream {} rebuilds", dep_id)};
        grew = true;
        break;
      }
    }
  }
  for (MemberWork& w : *work)
    if (!w.needed) w.why = "up to date";
  return true;
}
