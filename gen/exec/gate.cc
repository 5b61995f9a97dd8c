#include "exec/gate.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace {

// The state of `id` in `batch`, or null when it has none (never run) or its
// file is unreadable (*err set).
const NodeState* StateOf(StateCache* states, const std::string& batch, const std::string& id,
                         std::string* err) {
  const BatchState* state = states->Get(batch, err);
  if (!state) return nullptr;
  auto it = state->find(id);
  return it == state->end() ? nullptr : &it->second;
}

// The member `id` of batch `batch`, or null. Members are sorted by unique_id.
const PlanMember* MemberOf(const Plan& plan, const std::string& batch, const std::string& id) {
  const PlanBatch* b = plan.Find(batch);
  if (!b) return nullptr;
  auto it = std::lower_bound(b->members.begin(), b->members.end(), id,
                             [](const PlanMember& m, const std::string& key) { return m.unique_id < key; });
  if (it != b->members.end() && it->unique_id == id) return &*it;
  for (const PlanMember& m : b->members)  // a plan not sorted after all
    if (m.unique_id == id) return &m;
  return nullptr;
}

// Whether a node's last run leaves its dependents unable to run: it failed
// or was skipped. A node never run, or forgotten, does not hold anything
// back here: its batch runs before, and decides. As in `dbt build`, a model
// with on_error: continue whose run ended in error (or partial success)
// holds nothing back by itself; its tests still gate its descendants.
// Skipped, it does: whatever skipped it is upstream of them too.
bool Holds(const Plan& plan, const std::string& batch, const std::string& id, const NodeState* s) {
  if (!s || s->status.empty() || s->Succeeded()) return false;
  if (s->status != "error" && s->status != "partial success") return true;
  const PlanMember* m = MemberOf(plan, batch, id);
  return !(m && m->on_error_continue);
}

// The node that failed first on the way up from `id` (skipped nodes lead
// to their own failed parent); `id` itself when none is found.
class CauseFinder {
 public:
  CauseFinder(const Plan& plan, StateCache* states) : plan_(plan), states_(states) {}

  std::string Find(const std::string& batch, const std::string& id) {
    std::set<std::string> seen;
    std::vector<std::pair<std::string, std::string>> todo = {{batch, id}};
    while (!todo.empty()) {
      auto [b, node] = todo.back();
      todo.pop_back();
      if (!seen.insert(node).second) continue;
      std::string err;
      const NodeState* s = StateOf(states_, b, node, &err);
      if (!Holds(plan_, b, node, s)) {
        // An ancestor that succeeded: dbt may have skipped its descendants
        // because one of its tests failed.
        if (node != id)
          for (const std::string& test : TestsOf(b, node)) todo.emplace_back(b, test);
        continue;
      }
      if (s->status != "skipped") return node;
      const PlanMember* m = MemberOf(plan_, b, node);
      if (!m) continue;
      for (const auto* list : {&m->deps, &m->gated_by})
        for (const auto& dep : *list) todo.push_back(dep);
    }
    return id;
  }

 private:
  // The data tests of `id` in its own batch.
  std::vector<std::string> TestsOf(const std::string& batch, const std::string& id) {
    std::vector<std::string> tests;
    const PlanBatch* b = plan_.Find(batch);
    if (!b) return tests;
    for (const PlanMember& m : b->members) {
      if (m.unique_id.rfind("test.", 0) != 0) continue;
      for (const auto& [dep_batch, dep_id] : m.deps)
        if (dep_id == id) tests.push_back(m.unique_id);
    }
    return tests;
  }
  const Plan& plan_;
  StateCache* states_;
};

}  // namespace

std::string SkippedBecause(const std::string& cause) {
  return fmt::format("skipped because upstream {} failed", cause);
}

bool TakeBlocked(const Plan& plan, const PlanBatch& batch, StateCache* states,
                 std::vector<const PlanMember*>* selected, std::vector<BlockedMember>* blocked,
                 std::string* err) {
  blocked->clear();
  std::map<std::string, std::string> cause;  // blocked member -> failed node
  CauseFinder finder(plan, states);
  for (const PlanMember* m : *selected) {
    for (const auto* list : {&m->deps, &m->gated_by}) {
      for (const auto& [dep_batch, dep_id] : *list) {
        if (dep_batch == batch.name) continue;  // dbt decides within its invocation
        err->clear();
        const NodeState* s = StateOf(states, dep_batch, dep_id, err);
        if (!err->empty()) return false;
        if (!Holds(plan, dep_batch, dep_id, s) || cause.count(m->unique_id)) continue;
        cause[m->unique_id] = s->status == "skipped" ? finder.Find(dep_batch, dep_id) : dep_id;
      }
    }
  }
  // A member whose parent in this batch is held back is held back too: until the fixpoint.
  std::set<std::string> in_batch;
  for (const PlanMember* m : *selected) in_batch.insert(m->unique_id);
  for (bool grew = !cause.empty(); grew;) {
    grew = false;
    for (const PlanMember* m : *selected) {
      if (cause.count(m->unique_id)) continue;
      for (const auto& [dep_batch, dep_id] : m->deps) {
        auto it = cause.find(dep_id);
        if (dep_batch != batch.name || it == cause.end()) continue;
        cause[m->unique_id] = it->second;
        grew = true;
        break;
      }
    }
  }
  if (cause.empty()) return true;
  std::vector<const PlanMember*> runnable;
  for (const PlanMember* m : *selected) {
    auto it = cause.find(m->unique_id);
    if (it == cause.end()) runnable.push_back(m);
    else blocked->push_back({m, it->second});
  }
  *selected = std::move(runnable);
  return true;
}
