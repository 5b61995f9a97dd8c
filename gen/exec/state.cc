#include "exec/state.h"

#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "exec/run_results.h"
#include "util/escape.h"
#include "write/plan.h"

bool NodeState::Succeeded() const { return built_at > 0 && IsSuccessStatus(status); }

fs::path StateDir(const fs::path& project_dir) { return project_dir / ".pa" / "state"; }

fs::path StateFile(const fs::path& project_dir, const std::string& batch) {
  return StateDir(project_dir) / (batch + ".json");
}

bool LoadBatchState(const fs::path& file, BatchState* state, std::string* err) {
  state->clear();
  if (!fs::exists(file)) return true;
  std::string text;
  if (!ReadFile(file, &text, err)) return false;
  try {
    nlohmann::json doc = nlohmann::json::parse(text);
    for (const auto& [id, n] : doc.at("nodes").items()) {
      NodeState& s = (*state)[id];
      s.fingerprint = n.at("fingerprint").get<std::string>();
      s.built_at = n.at("built_at").get<long long>();
      s.status = n.at("status").get<std::string>();
      s.message = n.value("message", "");
      s.full_refresh = n.value("full_refresh", false);
    }
  } catch (const nlohmann::json::exception& e) {
    *err = fmt::format("{}: unreadable state ({}); delete it to rebuild its batch", file.string(),
                       e.what());
    return false;
  }
  return true;
}

std::string BatchStateToJson(const BatchState& state) {
  // As nlohmann's ordered_json dump(1) writes it, written directly: each
  // key of an ordered_json is looked up linearly, quadratic in the batch.
  std::string out = "{\n \"nodes\": {";
  for (auto it = state.begin(); it != state.end(); ++it) {
    const auto& [id, s] = *it;
    out += it == state.begin() ? "\n  " : ",\n  ";
    out += fmt::format("{}: {{\n   \"fingerprint\": {},\n   \"built_at\": {},\n   \"status\": {}",
                       JsonQuote(id), JsonQuote(s.fingerprint), s.built_at, JsonQuote(s.status));
    if (!s.message.empty()) out += fmt::format(",\n   \"message\": {}", JsonQuote(s.message));
    if (s.full_refresh) out += ",\n   \"full_refresh\": true";
    out += "\n  }";
  }
  out += state.empty() ? "}" : "\n }";
  return out + "\n}\n";
}

bool SaveBatchState(const fs::path& file, const BatchState& state, std::string* err) {
  bool changed = false;
  return WriteFileIfChanged(file, BatchStateToJson(state), &changed, err);
}

namespace {

// The batches that have a state file.
std::set<std::string> StateFiles(const fs::path& project_dir) {
  std::set<std::string> files;
  std::error_code ec;
  for (auto it = fs::directory_iterator(StateDir(project_dir), ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".json") files.insert(it->path().stem().string());
  }
  return files;
}

}  // namespace

bool LoadAllState(const fs::path& project_dir, BatchState* all, std::string* err) {
  all->clear();
  for (const std::string& batch : StateFiles(project_dir)) {
    BatchState state;
    if (!LoadBatchState(StateFile(project_dir, batch), &state, err)) return false;
    all->merge(state);
  }
  return true;
}

fs::path SplitDir(const fs::path& project_dir) { return project_dir / ".pa" / "split"; }

std::set<std::string> SplitMarkers(const fs::path& project_dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (auto it = fs::directory_iterator(SplitDir(project_dir), ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    names.insert(it->path().filename().string());
  }
  return names;
}

void SetSplitMarker(const fs::path& project_dir, const std::string& batch, bool split) {
  std::error_code ec;
  std::string ignored;
  if (split) Touch(SplitDir(project_dir) / batch, &ignored);
  else fs::remove(SplitDir(project_dir) / batch, ec);
}

bool RegroupState(const fs::path& project_dir, const Plan& plan, const BatchState& all,
                  std::string* err) {
  std::set<std::string> files = StateFiles(project_dir);
  std::error_code ec;
  std::set<std::string> batches;
  for (const PlanBatch& batch : plan.batches) {
    batches.insert(batch.name);
    BatchState state;
    for (const PlanMember& m : batch.members)
      if (auto it = all.find(m.unique_id); it != all.end()) state.insert(*it);
    if (state.empty() && !files.count(batch.name)) continue;
    if (!SaveBatchState(StateFile(project_dir, batch.name), state, err)) return false;
  }
  for (const std::string& gone : files)
    if (!batches.count(gone)) fs::remove(StateFile(project_dir, gone), ec);
  for (auto it = fs::directory_iterator(project_dir / ".pa" / "stamps", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".stamp" && !batches.count(it->path().stem().string()))
      fs::remove(it->path(), ec);
  }
  return true;
}
