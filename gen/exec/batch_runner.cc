#include "exec/batch_runner.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dbt/dbt.h"
#include "exec/gate.h"
#include "exec/merged_results.h"
#include "exec/progress.h"
#include "exec/split.h"
#include "exec/trace.h"
#include "plan/layout.h"
#include "plan/plan_json.h"
#include "util/escape.h"
#include "util/file_lock.h"

namespace {

std::string MessageLine(const std::string& message) {
  std::string line = OneLine(message);
  return line.empty() ? "(no message)" : line;
}

constexpr const char* kEmptySelectionIsError = R"({"error":["NoNodesForSelectionCriteria"]})";

// Holds back SIGINT, SIGTERM and SIGHUP while state is recorded: a second
// Ctrl-C arrives after the save, not in the middle of it.
class SignalsHeld {
 public:
  SignalsHeld() {
    sigset_t held;
    sigemptyset(&held);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&held, sig);
    sigprocmask(SIG_BLOCK, &held, &old_);
  }
  ~SignalsHeld() { sigprocmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_;
};

// The one way a batch fails: lines printed after everything is on disk.
int Fail(const std::vector<std::string>& lines) {
  for (const std::string& line : lines) Say(line);
  return 1;
}

}  // namespace

void Say(const std::string& line) {
  std::string text = "pa-gen: " + line + "\n";
  (void)!write(STDERR_FILENO, text.data(), text.size());
}

BatchWork SelectWork(const PlanBatch& batch, const std::vector<MemberWork>& work,
                     const BatchState& state) {
  BatchWork out;
  for (size_t i = 0; i < work.size(); ++i) {
    if (!work[i].needed) continue;
    out.selected.push_back(&batch.members[i]);
    if (auto it = state.find(batch.members[i].unique_id); it != state.end())
      out.full_refresh = out.full_refresh || it->second.full_refresh;
  }
  return out;
}

bool SelectMembers(const Plan& plan, BatchWork* work, std::string* err) {
  if (plan.selectable.empty()) return true;
  std::vector<std::string> ids;
  for (const PlanMember* m : work->selected) ids.push_back(m->unique_id);
  return SelectorIndex(plan.selectable).Select(ids, &work->selectors, err);
}

CommandRequest DbtBuildCommand(const Plan& plan, const PlanBatch& batch, const fs::path& project,
                               const BatchWork& work) {
  fs::path run_dir = project / RunDir(batch.name);
  CommandRequest dbt;
  dbt.argv = {plan.dbt.dbt.string(), "build", "--project-dir", project.string()};
  std::vector<std::string> shared = SharedDbtArgs(plan.dbt);
  dbt.argv.insert(dbt.argv.end(), shared.begin(), shared.end());
  if (int threads = batch.threads > 0 ? batch.threads : plan.dbt.threads; threads > 0)
    dbt.argv.insert(dbt.argv.end(), {"--threads", std::to_string(threads)});
  if (work.full_refresh) dbt.argv.push_back("--full-refresh");
  dbt.argv.push_back("--select");
  if (!work.selectors.empty()) {
    dbt.argv.insert(dbt.argv.end(), work.selectors.begin(), work.selectors.end());
  } else {
    for (const PlanMember* m : work.selected) dbt.argv.push_back(m->selector);
  }
  dbt.argv.insert(dbt.argv.end(),
                  {"--indirect-selection", "cautious",
                   "--target-path", RunTargetDir(run_dir).string(),
                   "--log-path", RunLogDir(run_dir).string(),
                   "--log-format-file", "json",
                   "--partial-parse-file-path", PartialParseFile(project).string(),
                   "--warn-error-options", kEmptySelectionIsError});
  dbt.cwd = project;
  dbt.output = RunOutputFile(run_dir);
  dbt.env = DbtBuildEnvironment();
  dbt.timeout_seconds = plan.dbt.batch_timeout;
  return dbt;
}

bool RunWithRetries(CommandRunner& runner, Disk& disk, const CommandRequest& command, int retries,
                    const std::vector<fs::path>& stale, const std::string& batch_name,
                    const std::function<void(int)>& wait,
                    const std::function<void(const std::string&)>& say, DbtRun* run,
                    std::string* err) {
  for (int attempt = 0;; ++attempt) {
    for (const fs::path& file : stale) disk.RemoveFile(file);
    auto started = std::chrono::steady_clock::now();
    if (!runner.Run(command, &run->result, err)) return false;
    run->wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    run->output.clear();
    std::string ignored;
    disk.ReadFile(command.output, &run->output, &ignored);
    const CommandResult& r = run->result;
    if (r.exit_code == 0 || r.timed_out || r.interrupted_by || attempt >= retries ||
        !IsTransientFailure(run->output))
      return true;
    int seconds = 1 << attempt;  // 1 s, 2 s, 4 s, ...
    say(fmt::format("batch {}: {}; retrying in {} s ({} of {})", batch_name,
                    DbtErrorSummary(run->output), seconds, attempt + 1, retries));
    wait(seconds);
  }
}

double NodeSpanSeconds(const nlohmann::json& run_results) {
  TraceRun run;
  std::string err;
  if (!TraceRunFromJson("", run_results, "run_results.json", &run, &err) || run.slices.empty()) return 0;
  std::int64_t start = run.slices[0].start_us, end = run.slices[0].end_us;
  for (const TraceSlice& s : run.slices) {
    start = std::min(start, s.start_us);
    end = std::max(end, s.end_us);
  }
  return end > start ? static_cast<double>(end - start) / 1e6 : 0;
}

double CpuShare(double cpu_seconds, double wall_seconds, double nodes_wall_seconds, double node_seconds) {
  if (cpu_seconds < 0 || node_seconds <= 0 || wall_seconds <= 0 || nodes_wall_seconds <= 0) return -1;
  double share = cpu_seconds * std::min(1.0, nodes_wall_seconds / wall_seconds) / node_seconds;
  return std::clamp(share, 0.0, 1.0);
}

void RecordCpu(const std::vector<NodeResult>& results, double share, BatchState* state) {
  for (const NodeResult& r : results) {
    auto it = state->find(r.unique_id);
    if (it == state->end()) continue;
    it->second.cpu_seconds = share < 0 ? 0 : share * it->second.seconds;
  }
}

BatchOutcome RecordOutcomes(const std::vector<const PlanMember*>& selected,
                            const std::vector<NodeResult>& results, bool have_results,
                            long long finished, const fs::path& log_file, BatchState* state) {
  std::map<std::string, const NodeResult*> by_id;
  for (const NodeResult& r : results) by_id[r.unique_id] = &r;
  BatchOutcome outcome;
  for (const PlanMember* m : selected) {
    auto it = by_id.find(m->unique_id);
    NodeState& s = (*state)[m->unique_id];
    s.fingerprint = m->fingerprint;
    s.full_refresh = false;
    s.ran_at = finished;
    s.seconds = it == by_id.end() ? 0 : it->second->execution_time;
    s.cpu_seconds = 0;  // RecordCpu's, when the run's CPU is known
    if (it != by_id.end() && IsSuccessStatus(it->second->status)) {
      s.status = it->second->status;
      s.message.clear();
      s.built_at = finished;
      continue;
    }
    ++outcome.failed;
    s.status = it == by_id.end() ? "not run" : it->second->status;
    s.message = it == by_id.end() ? "" : MessageLine(it->second->message);
    if (!have_results) continue;
    if (it == by_id.end()) {
      ++outcome.not_reported;
      outcome.lines.push_back(fmt::format("FAILED {} (not run): dbt did not report it [log: {}]",
                                          m->unique_id, log_file.string()));
    } else if (s.status == "skipped") {
      ++outcome.skipped;  // a consequence of another failure: counted, not listed
    } else {
      outcome.lines.push_back(fmt::format("FAILED {} ({}): {} [log: {}]", m->unique_id, s.status,
                                          s.message, log_file.string()));
    }
  }
  return outcome;
}

BatchState KeepMembers(const PlanBatch& batch, const BatchState& state) {
  BatchState kept;
  for (const PlanMember& m : batch.members)
    if (auto it = state.find(m.unique_id); it != state.end()) kept.insert(*it);
  return kept;
}

std::vector<NodeResult> RecordBlocked(const std::vector<BlockedMember>& blocked,
                                      long long finished, BatchState* state) {
  std::vector<NodeResult> results;
  for (const BlockedMember& b : blocked) {
    NodeState& s = (*state)[b.member->unique_id];
    s.status = "skipped";
    s.message = SkippedBecause(b.cause);
    s.ran_at = finished;
    s.seconds = 0;
    results.push_back({b.member->unique_id, s.status, s.message, 0});
  }
  return results;
}

std::vector<std::string> BlockedLines(const std::string& batch,
                                      const std::vector<BlockedMember>& blocked) {
  if (blocked.empty()) return {};
  std::set<std::string> causes;
  for (const BlockedMember& b : blocked) causes.insert(b.cause);
  std::string named;
  for (const std::string& cause : causes) named += (named.empty() ? "" : ", ") + cause;
  return {fmt::format("batch {}: {} node{} skipped because upstream {} failed", batch,
                      blocked.size(), blocked.size() == 1 ? "" : "s", named)};
}

bool IsNodeFailure(const DbtRun& run, const BatchOutcome& outcome, bool have_results,
                   bool blocked) {
  const CommandResult& r = run.result;
  if (!have_results || r.timed_out || r.interrupted_by || outcome.not_reported > 0 ||
      IsTransientFailure(run.output))
    return false;
  return (r.exit_code == 0 && (outcome.failed > 0 || blocked)) ||
         (r.exit_code == 1 && outcome.failed > 0);
}

int RunBatch(CommandRunner& runner, Disk& disk, const fs::path& plan_file, const std::string& digest,
             const std::string& batch_name) {
  // Ninja closes our stderr when interrupted: a failed print must not kill
  // us before (or while) the state is saved. dbt gets the default back.
  signal(SIGPIPE, SIG_IGN);
  std::string err;
  Plan plan;
  if (!LoadPlan(disk, plan_file, &plan, &err)) {
    Say(err);
    return 2;
  }
  const PlanBatch* batch = plan.Find(batch_name);
  if (!batch || batch->digest != digest) {
    Say(fmt::format("{}: {} batch '{}' of build.ninja; run pa-gen again", plan_file.string(),
                    batch ? "out of date for" : "has no", batch_name));
    return 2;
  }
  fs::path project = (fs::absolute(plan_file).parent_path() / plan.project_dir).lexically_normal();
  fs::path stamp = project / StampPath(batch->name);

  // One run of a batch at a time (two ninjas in one folder): each would
  // delete the other's run_results.json and log. The second decides its
  // work after the first has saved its state, so usually finds none.
  FileLock lock;
  fs::path lock_file = BatchLockFile(project, batch->name);
  if (!disk.Lock(lock_file, &lock, [&](const std::string& holder) {
        Say(fmt::format("batch {}: waiting for {} that runs it ({})", batch->name,
                        holder.empty() ? "another pa-gen exec" : "pa-gen exec pid " + holder,
                        lock_file.string()));
      }, &err))
    return Fail({fmt::format("batch {}: {}", batch->name, err)});

  StateCache states(disk, project);
  std::vector<MemberWork> decided;
  if (!DecideWork(*batch, &states, {}, &decided, &err))
    return Fail({fmt::format("batch {}: {}", batch->name, err)});
  BatchState state = *states.Get(batch->name, &err);
  BatchWork work = SelectWork(*batch, decided, state);
  // Members held back by a failure upstream are recorded as skipped; the
  // others run.
  std::vector<BlockedMember> blocked;
  if (!TakeBlocked(plan, *batch, &states, &work.selected, &blocked, &err))
    return Fail({fmt::format("batch {}: {}", batch->name, err)});
  ReportBatchStarted(disk, *batch, work.selected, blocked.size());  // pa-gen build's live progress
  if (work.selected.empty() && !blocked.empty()) {
    {
      SignalsHeld held;
      std::vector<NodeResult> own = RecordBlocked(blocked, NowNs(), &state);
      if (!SaveBatchState(disk, StateFile(project, batch->name), KeepMembers(*batch, state), &err))
        return Fail({fmt::format("batch {}: {}", batch->name, err)});
      RemoveStamp(disk, project, batch->name);
      std::string merge_err;
      if (!MergeIntoBuildResults(disk, project, plan, {nlohmann::json(), own}, &merge_err))
        Say(fmt::format("batch {}: {}", batch->name, merge_err));
    }
    for (const std::string& line : BlockedLines(batch->name, blocked)) Say(line);
    return 0;  // the build goes on; the check edge fails it at the end
  }
  if (work.selected.empty()) {
    // Nothing to run: keep the stamp's time so Ninja prunes what follows.
    if (!disk.Exists(stamp) && !disk.Touch(stamp, &err))
      return Fail({fmt::format("batch {}: {}", batch->name, err)});
    MergeBackWhenDone(disk, project, plan, *batch, &states, state);
    return 0;
  }

  if (!SelectMembers(plan, &work, &err))
    return Fail({fmt::format("batch {}: cannot select exactly: {}", batch->name, err)});
  CommandRequest dbt = DbtBuildCommand(plan, *batch, project, work);
  fs::path run_dir = project / RunDir(batch->name);
  fs::path results_file = RunResultsFile(run_dir);
  fs::path log_file = RunLogFile(run_dir);
  std::string ignored;  // dbt says so when it cannot write there
  disk.MakeDirs(run_dir, &ignored);  // not more open than the project (util/fs.h)
  DbtRun run;
  if (!RunWithRetries(runner, disk, dbt, plan.dbt.retries, {results_file, log_file}, batch->name,
                      [](int seconds) { sleep(static_cast<unsigned>(seconds)); }, Say, &run, &err))
    return Fail({fmt::format("batch {}: {}", batch->name, err)});

  std::vector<std::string> lines;  // printed once everything is on disk
  BatchOutcome outcome;
  bool have_results = false;
  bool saved = false;
  {
    SignalsHeld held;
    long long finished = NowNs();
    std::vector<NodeResult> results;
    std::string results_err;
    double elapsed = 0;
    // Read and parsed once, for the outcomes, the cost model and the merge.
    nlohmann::json run_results;
    have_results = LoadRunResults(disk, results_file, &results, &results_err, &elapsed, &run_results);
    if (have_results && elapsed > 0 && run.wall_seconds > elapsed)
      SaveStartupSeconds(disk, project, run.wall_seconds - elapsed);
    // Killed before the end (timeout, signal, crash): dbt's log still tells
    // which nodes finished, and those are not run again.
    if (!have_results) LoadFinishedFromLog(disk, log_file, &results, &results_err);
    // Record every selected node's outcome, also when the batch fails: what
    // succeeded is not run again.
    outcome = RecordOutcomes(work.selected, results, have_results, finished, log_file, &state);
    // What the batch paid beyond its nodes, and how much of its nodes' time
    // was its own CPU: the cost model's (group/predict.h).
    double node_seconds = 0;
    for (const NodeResult& r : results) node_seconds += r.execution_time;
    double span = have_results ? NodeSpanSeconds(run_results) : 0;
    if (span > 0 && run.wall_seconds > span) SaveFixedCostSeconds(disk, project, run.wall_seconds - span);
    RecordCpu(results,
              have_results ? CpuShare(run.result.cpu_seconds, run.wall_seconds, span > 0 ? span : elapsed,
                                      node_seconds)
                           : -1,
              &state);
    std::vector<NodeResult> own = RecordBlocked(blocked, finished, &state);
    BatchState kept = KeepMembers(*batch, state);
    saved = SaveBatchState(disk, StateFile(project, batch->name), kept, &err);
    // The build's run_results.json: dbt's entries, and ours for what dbt
    // did not report (killed, or never selected because of a failure upstream).
    BatchResults merged{have_results ? std::move(run_results) : nlohmann::json(), std::move(own)};
    if (!have_results) merged.own.insert(merged.own.end(), results.begin(), results.end());
    std::set<std::string> reported;
    for (const NodeResult& r : results) reported.insert(r.unique_id);
    for (const PlanMember* m : work.selected)
      if (!reported.count(m->unique_id))
        merged.own.push_back({m->unique_id, "skipped", "not run: dbt stopped or did not report it", 0});
    std::string merge_err;
    if (!MergeIntoBuildResults(disk, project, plan, std::move(merged), &merge_err))
      lines.push_back(fmt::format("batch {}: {}", batch->name, merge_err));
    if (saved && run.result.exit_code == 0 && outcome.failed == 0 && blocked.empty()) {
      if (!disk.Touch(stamp, &err)) return Fail({fmt::format("batch {}: {}", batch->name, err)});
      MergeBackWhenDone(disk, project, plan, *batch, &states, kept);
      for (const std::string& line : lines) Say(line);
      return 0;
    }
    // No stamp for work that did not succeed: the next ninja runs the batch again.
    RemoveStamp(disk, project, batch->name);
  }
  lines.insert(lines.end(), outcome.lines.begin(), outcome.lines.end());
  if (!saved) {
    lines.push_back(fmt::format("batch {}: {}", batch->name, err));
    return Fail(lines);
  }
  if (outcome.skipped > 0)
    lines.push_back(fmt::format("batch {}: {} more node{} skipped by dbt because of the above",
                                batch->name, outcome.skipped, outcome.skipped == 1 ? "" : "s"));
  for (const std::string& line : BlockedLines(batch->name, blocked)) lines.push_back(line);
  // dbt ran to its end and reported every node: the failures are the
  // nodes', recorded, and the build goes on with what does not depend on
  // them (as `dbt build` does); the check edge fails the build at the end.
  if (IsNodeFailure(run, outcome, have_results, !blocked.empty())) {
    for (const std::string& line : lines) Say(line);
    return 0;
  }
  const CommandResult& r = run.result;
  if (r.timed_out) {
    lines.push_back(fmt::format("batch {} timed out after {} s (--batch-timeout); its dbt processes "
                                "were killed [output: {}]",
                                batch->name, plan.dbt.batch_timeout, dbt.output.string()));
  } else if (r.interrupted_by) {
    lines.push_back(fmt::format("batch {} interrupted (signal {}); dbt was stopped", batch->name,
                                r.interrupted_by));
  } else if (!have_results || outcome.failed == 0 || IsTransientFailure(run.output) ||
             r.exit_code > 1) {
    // dbt stopped before or after its nodes (bad profile, parse error, hook): say why.
    lines.push_back(fmt::format("batch {} failed: dbt exited {}: {} [output: {}]", batch->name,
                                r.exit_code, DbtErrorSummary(run.output), dbt.output.string()));
  }
  return Fail(lines);
}
