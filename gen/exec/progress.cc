#include "exec/progress.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "exec/run_results.h"
#include "exec/state.h"
#include "exec/trace.h"
#include "exec/work.h"
#include "plan/layout.h"
#include "plan/plan_json.h"
#include "util/escape.h"

namespace {

fs::path ProgressFile(const std::string& batch) {
  const char* dir = std::getenv(kProgressDirEnv);
  return dir && *dir ? fs::path(dir) / (batch + ".json") : fs::path();
}

void WriteProgress(Disk& disk, const fs::path& file, const BatchProgress& progress) {
  // The folder is `pa-gen build`'s: it makes it before Ninja starts and
  // removes it at the end, and the next build removes one a killed build
  // left. An exec that outlives its build (Ninja killed) writes nothing
  // then, rather than make the folder again for no build to remove.
  if (!disk.Exists(file.parent_path())) return;
  bool changed = false;
  std::string ignored;  // progress is an extra: the batch goes on
  disk.WriteFileIfChanged(file, BatchProgressJson(progress), &changed, &ignored);
}

std::string FailureLine(const std::string& id, const std::string& status, const std::string& message,
                        const std::string& batch) {
  std::string one = OneLine(message);
  return fmt::format("pa-gen: FAILED {} ({}) in batch {}{}{}", id, status, batch,
                     one.empty() ? "" : ": ", one);
}

// "42 s", "3 min 5 s", "1 h 2 min".
std::string Duration(double seconds) {
  long s = std::lround(std::max(0.0, seconds));
  if (s < 60) return fmt::format("{} s", s);
  if (s < 3600) return s % 60 ? fmt::format("{} min {} s", s / 60, s % 60) : fmt::format("{} min", s / 60);
  return fmt::format("{} h {} min", s / 3600, (s % 3600) / 60);
}

// Columns on screen: UTF-8 continuation bytes take none.
size_t Columns(const std::string& text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

std::string CutToColumns(const std::string& text, size_t width) {
  if (width == 0 || Columns(text) <= width) return text;
  std::string out;
  size_t n = 0;
  for (unsigned char c : text) {
    bool starts = (c & 0xC0) != 0x80;
    if (starts && n + 1 >= width) break;
    n += starts;
    out.push_back(static_cast<char>(c));
  }
  return out + "~";
}

}  // namespace

std::string BatchProgressJson(const BatchProgress& p) {
  nlohmann::json doc = {{"batch", p.batch}, {"members", p.members}, {"run", p.run},
                        {"blocked", p.blocked}, {"done", p.done}, {"exit", p.exit_code}};
  return doc.dump() + "\n";
}

bool ParseBatchProgress(const std::string& text, BatchProgress* p, std::string* err) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("batch") || !doc["batch"].is_string()) {
    *err = "not a batch's progress";
    return false;
  }
  *p = BatchProgress{};
  p->batch = doc["batch"].get<std::string>();
  if (auto it = doc.find("run"); it != doc.end() && it->is_array())
    for (const auto& id : *it)
      if (id.is_string()) p->run.push_back(id.get<std::string>());
  auto number = [&](const char* key) {
    auto it = doc.find(key);
    return it != doc.end() && it->is_number_integer() ? it->get<int>() : 0;
  };
  p->blocked = number("blocked");
  p->members = number("members");
  p->exit_code = number("exit");
  p->done = doc.value("done", false);
  return true;
}

void ReportBatchStarted(Disk& disk, const PlanBatch& batch, const std::vector<const PlanMember*>& run,
                        size_t blocked) {
  fs::path file = ProgressFile(batch.name);
  if (file.empty()) return;
  BatchProgress progress{batch.name, {}, static_cast<int>(blocked), static_cast<int>(batch.members.size())};
  for (const PlanMember* m : run) progress.run.push_back(m->unique_id);
  WriteProgress(disk, file, progress);
}

void ReportBatchDone(Disk& disk, const std::string& batch, int exit_code) {
  fs::path file = ProgressFile(batch);
  if (file.empty()) return;
  BatchProgress progress{batch};
  std::string text, ignored;
  if (disk.ReadFile(file, &text, &ignored)) ParseBatchProgress(text, &progress, &ignored);
  progress.done = true;
  progress.exit_code = exit_code;
  WriteProgress(disk, file, progress);
}

bool ParseNodeEvent(const std::string& line, NodeEvent* event) {
  // Cheap test first: a 250-node batch logs thousands of other events.
  if (line.find("\"Node") == std::string::npos) return false;
  nlohmann::json doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  auto text_at = [&](const char* pointer) {
    nlohmann::json::json_pointer p(pointer);
    return doc.is_object() && doc.contains(p) && doc.at(p).is_string() ? doc.at(p).get<std::string>()
                                                                       : std::string();
  };
  std::string name = text_at("/info/name");
  if (name != "NodeStart" && name != "NodeFinished") return false;
  *event = NodeEvent{text_at("/data/node_info/unique_id"), name == "NodeFinished"};
  if (event->finished) {
    event->status = text_at("/data/node_info/node_status");
    event->message = text_at("/data/run_result/message");
  }
  std::int64_t ts = 0;
  if (ParseDbtTimestamp(text_at("/info/ts"), &ts)) event->ts_us = ts;
  return !event->unique_id.empty();
}

BuildProgress::BuildProgress(std::map<std::string, std::vector<std::string>> predicted,
                             std::map<std::string, double> seconds, double startup,
                             std::map<std::string, int> threads, long long start_ms,
                             std::map<std::string, double> overhead)
    : seconds_(std::move(seconds)), startup_(startup), threads_(std::move(threads)),
      start_ms_(start_ms), overhead_(std::move(overhead)) {
  for (auto& [name, run] : predicted) batches_[name].run = std::move(run);
}

BuildProgress::Batch& BuildProgress::Get(const std::string& name) { return batches_[name]; }

std::vector<std::string> BuildProgress::OnBatch(const BatchProgress& p, long long now_ms,
                                                const BatchState* state) {
  Batch& b = Get(p.batch);
  std::vector<std::string> lines;
  if (!b.started) {
    b.started = true;
    b.started_ms = now_ms;
    b.run = p.run;
    b.blocked = p.blocked;
    skipped_ += p.blocked;
  }
  if (p.done && !b.done) {
    b.done = true;
    b.running.clear();
    for (const std::string& id : b.run) {
      if (b.finished.count(id) || !state) continue;
      auto it = state->find(id);
      if (it == state->end() || it->second.Succeeded()) continue;
      if (it->second.status == "skipped") {
        ++skipped_;
      } else if (it->second.status == "not run") {
        ++b.not_run;  // stopped: neither done nor failed; the summary lists it
        ++not_run_;
      } else {
        ++failed_;
        reported_.insert(id);
        lines.push_back(FailureLine(id, it->second.status, it->second.message, p.batch));
      }
    }
    int ran = static_cast<int>(b.run.size());
    if (ran + b.blocked > 0 || p.exit_code != 0) {
      std::string what = fmt::format("{} node{}", ran, ran == 1 ? "" : "s");
      if (b.not_run > 0) what += fmt::format(", {} not run", b.not_run);
      if (b.blocked > 0) what += fmt::format(", {} skipped because upstream failed", b.blocked);
      lines.push_back(fmt::format("pa-gen: batch {} {}: {} in {} [{}/{} nodes]", p.batch,
                                  p.exit_code == 0 ? "done" : fmt::format("failed (exit {})", p.exit_code),
                                  what, Duration((now_ms - b.started_ms) / 1000.0), Done(), Total()));
    }
  }
  return lines;
}

std::vector<std::string> BuildProgress::OnNode(const std::string& batch, const NodeEvent& e) {
  Batch& b = Get(batch);
  if (b.done || b.finished.count(e.unique_id)) return {};
  if (!e.finished) {
    b.running.insert(e.unique_id);
    return {};
  }
  b.running.erase(e.unique_id);
  b.finished.insert(e.unique_id);
  if (IsSuccessStatus(e.status)) return {};
  if (e.status == "skipped") {
    ++skipped_;
    return {};
  }
  ++failed_;
  reported_.insert(e.unique_id);
  return {FailureLine(e.unique_id, e.status, e.message, batch)};
}

void BuildProgress::OnLogRestarted(const std::string& batch) {
  Batch& b = Get(batch);
  b.running.clear();
  b.finished.clear();
}

bool BuildProgress::AlreadyReported(const std::string& line) const {
  const std::string prefix = "pa-gen: FAILED ";
  if (line.rfind(prefix, 0) != 0) return false;
  size_t end = line.find(' ', prefix.size());
  return reported_.count(line.substr(prefix.size(), end == std::string::npos ? end : end - prefix.size())) > 0;
}

int BuildProgress::Done() const {
  int n = 0;
  for (const auto& [name, b] : batches_)
    n += b.done ? static_cast<int>(b.run.size()) + b.blocked - b.not_run
                : static_cast<int>(b.finished.size()) + b.blocked;
  return n;
}

int BuildProgress::Total() const {
  int n = 0;
  for (const auto& [name, b] : batches_) n += static_cast<int>(b.run.size()) + b.blocked;
  return n;
}

int BuildProgress::Failed() const { return failed_; }
int BuildProgress::Skipped() const { return skipped_; }
int BuildProgress::NotRun() const { return not_run_; }

double BuildProgress::NodeSeconds(const std::string& id) const {
  auto it = seconds_.find(id);
  return it == seconds_.end() ? -1 : it->second;
}

double BuildProgress::SecondsLeft() const {
  double left = 0;
  bool known = false;
  for (const auto& [name, b] : batches_) {
    if (b.done) continue;
    double nodes = 0;
    bool any = false;
    for (const std::string& id : b.run) {
      if (b.finished.count(id)) continue;
      double s = NodeSeconds(id);
      known = known || s >= 0;
      nodes += s >= 0 ? s : 0;
      any = true;
    }
    auto threads = threads_.find(name);
    int t = threads != threads_.end() && threads->second > 0 ? threads->second : 1;
    if (!b.started && any) {
      auto overhead = overhead_.find(name);
      left += startup_ + (overhead != overhead_.end() ? overhead->second : 0);
    }
    left += nodes / t;
  }
  return known ? left : -1;
}

std::vector<std::pair<std::string, std::pair<int, int>>> BuildProgress::Running() const {
  std::vector<std::pair<std::string, std::pair<int, int>>> running;
  for (const auto& [name, b] : batches_)
    if (b.started && !b.done && !b.run.empty())
      running.push_back({name, {static_cast<int>(b.finished.size()), static_cast<int>(b.run.size())}});
  return running;
}

bool PredictRuns(Disk& disk, const fs::path& plan_file, RunPrediction* prediction, std::string* err) {
  Plan plan;
  if (!LoadPlan(disk, plan_file, &plan, err)) return false;
  fs::path project = (fs::absolute(plan_file).parent_path() / plan.project_dir).lexically_normal();
  StateCache states(disk, project);
  std::set<std::string> rebuilding;
  for (const PlanBatch* batch : RunOrder(plan)) {
    std::vector<MemberWork> work;
    if (!DecideWork(*batch, &states, rebuilding, &work, err)) return false;
    std::vector<std::string> run;
    for (size_t i = 0; i < work.size(); ++i) {
      if (!work[i].needed) continue;
      run.push_back(batch->members[i].unique_id);
      rebuilding.insert(batch->members[i].unique_id);
    }
    if (!run.empty()) prediction->runs[batch->name] = std::move(run);
    prediction->threads[batch->name] = batch->threads > 0 ? batch->threads : plan.dbt.threads;
  }
  BatchState all;
  if (!LoadAllState(disk, project, &all, err)) return false;
  for (const auto& [id, state] : all)
    if (state.ran_at > 0 && state.seconds > 0) prediction->seconds[id] = state.seconds;
  prediction->startup = LoadStartupSeconds(disk, project);
  for (const auto& [name, run] : prediction->runs) {
    std::vector<NodeResult> results;
    double elapsed = 0;
    std::string ignored;
    if (!LoadRunResults(disk, RunResultsFile(project / RunDir(name)), &results, &ignored, &elapsed))
      continue;
    double nodes = 0;
    for (const NodeResult& r : results) nodes += r.execution_time;
    prediction->last_run[name] = {elapsed, nodes};
  }
  return true;
}

std::map<std::string, double> RunPrediction::Overheads() const {
  std::map<std::string, double> overheads;
  for (const auto& [name, run] : last_run) {
    auto it = threads.find(name);
    int t = it != threads.end() && it->second > 0 ? it->second : 1;
    overheads[name] = std::max(0.0, run.first - run.second / t);
  }
  return overheads;
}

void KeepTargets(const Plan& plan, const std::vector<std::string>& ninja_args, RunPrediction* prediction) {
  std::map<std::string, std::set<std::string>> by_name;  // target -> batches
  for (const PlanBatch& batch : plan.batches) {
    by_name[batch.name].insert(batch.name);
    for (const PlanMember& m : batch.members)
      by_name[m.unique_id.substr(m.unique_id.rfind('.') + 1)].insert(batch.name);
  }
  std::vector<std::string> wanted;
  for (size_t i = 0; i < ninja_args.size(); ++i) {
    const std::string& arg = ninja_args[i];
    static const std::set<std::string> with_value = {"-C", "-f", "-j", "-k", "-l", "-d", "-t", "-w"};
    if (with_value.count(arg)) {
      ++i;
      continue;
    }
    if (arg.empty() || arg[0] == '-') continue;
    auto it = by_name.find(arg);
    if (it == by_name.end()) return;  // a path or `all`: every batch may run
    wanted.insert(wanted.end(), it->second.begin(), it->second.end());
  }
  if (wanted.empty()) return;
  std::set<std::string> keep;
  while (!wanted.empty()) {
    std::string name = wanted.back();
    wanted.pop_back();
    if (!keep.insert(name).second) continue;
    if (const PlanBatch* batch = plan.Find(name))
      wanted.insert(wanted.end(), batch->upstream.begin(), batch->upstream.end());
  }
  for (auto it = prediction->runs.begin(); it != prediction->runs.end();)
    it = keep.count(it->first) ? std::next(it) : prediction->runs.erase(it);
}

std::string StatusText(const BuildProgress& progress, long long now_ms, size_t width) {
  (void)now_ms;
  std::string text = fmt::format("[{}/{} nodes]", progress.Done(), progress.Total());
  auto running = progress.Running();
  for (size_t i = 0; i < running.size(); ++i)
    text += fmt::format("{}{} {}/{}", i == 0 ? " running: " : ", ", running[i].first,
                        running[i].second.first, running[i].second.second);
  if (progress.Failed() > 0) text += fmt::format(" · {} failed", progress.Failed());
  if (progress.Skipped() > 0) text += fmt::format(" · {} skipped", progress.Skipped());
  if (progress.NotRun() > 0) text += fmt::format(" · {} not run", progress.NotRun());
  if (double left = progress.SecondsLeft(); left >= 0 && progress.Done() < progress.Total())
    text += fmt::format(" · ~{} left", Duration(left));
  return CutToColumns(text, width);
}

std::string SummaryText(const BuildProgress& progress, long long now_ms) {
  std::string took = Duration((now_ms - progress.start_ms()) / 1000.0);
  int done = progress.Done();
  if (done == 0 && progress.NotRun() == 0) return fmt::format("pa-gen: no node ran ({})", took);
  int succeeded = done - progress.Failed() - progress.Skipped();
  std::string text =
      fmt::format("pa-gen: {} node{} in {}: {} succeeded", done, done == 1 ? "" : "s", took, succeeded);
  if (progress.Failed() > 0) text += fmt::format(", {} failed", progress.Failed());
  if (progress.Skipped() > 0) text += fmt::format(", {} skipped", progress.Skipped());
  if (progress.NotRun() > 0) text += fmt::format(", {} not run (stopped)", progress.NotRun());
  return text;
}

namespace {
constexpr const char* kEraseLine = "\r\x1b[K";
}  // namespace

std::string ProgressText::Lines(const std::vector<std::string>& lines) {
  if (lines.empty()) return "";
  std::string out = terminal_ && !shown_.empty() ? kEraseLine : "";
  for (const std::string& line : lines) out += line + "\n";
  shown_.clear();  // the next Status draws the line again, below them
  return out;
}

std::string ProgressText::Status(const BuildProgress& progress, long long now_ms) {
  if (terminal_) {
    std::string line = StatusText(progress, now_ms, width_);
    if (line == shown_) return "";
    shown_ = line;
    return kEraseLine + line;
  }
  if (last_ms_ < 0) last_ms_ = progress.start_ms();
  if (now_ms - last_ms_ < period_ms_) return "";
  last_ms_ = now_ms;
  return "pa-gen: " + StatusText(progress, now_ms, 0) + "\n";
}

std::string ProgressText::Finish(const BuildProgress& progress, long long now_ms) {
  std::string out = terminal_ && !shown_.empty() ? kEraseLine : "";
  shown_.clear();
  return out + SummaryText(progress, now_ms) + "\n";
}
