#include "exec/state.h"

#include <cmath>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "exec/run_results.h"
#include "plan/layout.h"
#include "plan/plan.h"
#include "util/json_number.h"

bool NodeState::Succeeded() const { return built_at > 0 && IsSuccessStatus(status); }

bool LoadBatchState(Disk& disk, const fs::path& file, BatchState* state, std::string* err) {
  state->clear();
  if (!disk.Exists(file)) return true;
  std::string text;
  if (!disk.ReadFile(file, &text, err)) return false;
  try {
    nlohmann::json doc = nlohmann::json::parse(text);
    for (const auto& [id, n] : doc.at("nodes").items()) {
      NodeState& s = (*state)[id];
      s.fingerprint = n.at("fingerprint").get<std::string>();
      s.built_at = WholeNumber<long long>(n.at("built_at"), "built_at", 0);
      s.status = n.at("status").get<std::string>();
      s.ran_at = WholeNumberOr<long long>(n, "ran_at", 0, 0);
      s.seconds = SecondsOr(n, "seconds", 0);
      s.cpu_seconds = SecondsOr(n, "cpu_seconds", 0);
      s.message = n.value("message", "");
      s.full_refresh = n.value("full_refresh", false);
    }
  } catch (const std::exception& e) {  // nlohmann's, or WholeNumber's out of range
    *err = fmt::format("{}: unreadable state ({}); delete it to rebuild its batch", file.string(),
                       e.what());
    return false;
  }
  return true;
}

bool SaveBatchState(Disk& disk, const fs::path& file, const BatchState& state, std::string* err) {
  // nlohmann::json keeps keys sorted in a map; ordered_json would look each
  // key up linearly, quadratic in the batch's size.
  nlohmann::json nodes = nlohmann::json::object();
  for (const auto& [id, s] : state) {
    nlohmann::json n = {{"fingerprint", s.fingerprint}, {"built_at", s.built_at},
                        {"status", s.status}};
    if (s.ran_at) n["ran_at"] = s.ran_at;
    if (s.seconds > 0) n["seconds"] = s.seconds;
    if (s.cpu_seconds > 0) n["cpu_seconds"] = s.cpu_seconds;
    if (!s.message.empty()) n["message"] = s.message;
    if (s.full_refresh) n["full_refresh"] = true;
    nodes[id] = std::move(n);
  }
  bool changed = false;
  return disk.WriteFileIfChanged(file, nlohmann::json{{"nodes", nodes}}.dump(1) + "\n",
                            &changed, err);
}

namespace {

// The batches that have a state file.
std::set<std::string> StateFiles(Disk& disk, const fs::path& project_dir) {
  std::set<std::string> files;
  for (const fs::path name : disk.ListDir(StateDir(project_dir)))
    if (name.extension() == ".json") files.insert(name.stem().string());
  return files;
}

}  // namespace

bool LoadAllState(Disk& disk, const fs::path& project_dir, BatchState* all, std::string* err) {
  all->clear();
  for (const std::string& batch : StateFiles(disk, project_dir)) {
    BatchState state;
    if (!LoadBatchState(disk, StateFile(project_dir, batch), &state, err)) return false;
    all->merge(state);
  }
  return true;
}

namespace {

double LoadSecondsFile(Disk& disk, const fs::path& file) {
  std::string text, err;
  if (!disk.ReadFile(file, &text, &err)) return 0;
  try {
    // A measurement, not a promise: anything odd (nan, inf, negative) counts as none.
    double seconds = std::stod(text);
    return std::isfinite(seconds) && seconds > 0 && seconds < 3600 ? seconds : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

void SaveSecondsFile(Disk& disk, const fs::path& file, double seconds) {
  bool changed = false;
  std::string ignored;  // a lost measurement costs nothing but precision
  disk.WriteFileIfChanged(file, fmt::format("{:.3f}\n", seconds), &changed, &ignored);
}

}  // namespace

double LoadStartupSeconds(Disk& disk, const fs::path& project_dir) {
  return LoadSecondsFile(disk, StartupFile(project_dir));
}

void SaveStartupSeconds(Disk& disk, const fs::path& project_dir, double seconds) {
  SaveSecondsFile(disk, StartupFile(project_dir), seconds);
}

double LoadFixedCostSeconds(Disk& disk, const fs::path& project_dir) {
  return LoadSecondsFile(disk, FixedCostFile(project_dir));
}

void SaveFixedCostSeconds(Disk& disk, const fs::path& project_dir, double seconds) {
  SaveSecondsFile(disk, FixedCostFile(project_dir), seconds);
}

void RemoveStamp(Disk& disk, const fs::path& project_dir, const std::string& batch) {
  disk.RemoveFile(project_dir / StampPath(batch));
  disk.RemoveFile(project_dir / BuildOkPath());
}

bool RegroupState(Disk& disk, const fs::path& project_dir, const Plan& plan, const BatchState& all,
                  std::string* err, const std::set<std::string>& unselected) {
  std::set<std::string> files = StateFiles(disk, project_dir);
  std::set<std::string> batches;
  BatchState outside;
  for (const std::string& id : unselected)
    if (auto it = all.find(id); it != all.end()) outside.insert(*it);
  if (!outside.empty()) {
    batches.insert(kUnselectedStateName);
    if (!SaveBatchState(disk, StateFile(project_dir, kUnselectedStateName), outside, err))
      return false;
  }
  for (const PlanBatch& batch : plan.batches) {
    batches.insert(batch.name);
    BatchState state;
    for (const PlanMember& m : batch.members)
      if (auto it = all.find(m.unique_id); it != all.end()) state.insert(*it);
    if (state.empty() && !files.count(batch.name)) continue;
    if (!SaveBatchState(disk, StateFile(project_dir, batch.name), state, err)) return false;
  }
  for (const std::string& gone : files)
    if (!batches.count(gone)) disk.RemoveFile(StateFile(project_dir, gone));
  for (const fs::path name : disk.ListDir(StampDir(project_dir)))
    if (name.extension() == ".stamp" && !batches.count(name.stem().string()))
      disk.RemoveFile(StampDir(project_dir) / name);
  // A batch without a stamp (new to the plan, or not built) has work to do:
  // an earlier build's build.ok no longer holds (see RemoveStamp).
  for (const PlanBatch& batch : plan.batches)
    if (!disk.Exists(project_dir / StampPath(batch.name))) {
      disk.RemoveFile(project_dir / BuildOkPath());
      break;
    }
  return true;
}
