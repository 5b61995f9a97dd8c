#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "exec/state.h"
#include "plan/plan.h"
#include "util/disk.h"
#include "util/fs.h"

// Live progress of `pa-gen build`: what each batch's `pa-gen exec` will run,
// and each node as it starts and finishes.
//
// Where the events come from, with or without the resident worker and with
// any number of batches at once:
// - `pa-gen build` sets $PA_PROGRESS_DIR (`.pa/progress/<build id>/`,
//   plan/layout.h) in Ninja's environment. Each `pa-gen exec` writes
//   `<batch>.json` there (BatchProgress) once it has decided what runs, and
//   again when it ends. Plain `ninja` sets no folder: exec writes nothing.
// - While dbt runs, each node's start and finish are dbt's own `NodeStart`
//   and `NodeFinished` events in the batch's JSON log (`--log-format-file
//   json`, `.pa/run/<batch>/logs/dbt.log`), which dbt flushes line by line,
//   in a fresh process and in the worker alike.
// BuildProgress turns those into counts, failures and an estimate of the
// time left from each node's recorded execution time (`.pa/state/`);
// ProgressText draws them, for a terminal or for a log.

inline constexpr const char* kProgressDirEnv = "PA_PROGRESS_DIR";

// One batch's file in the progress folder.
struct BatchProgress {
  std::string batch;
  std::vector<std::string> run = {};  // unique_ids of the members dbt runs now
  int blocked = 0;   // members held back by a failure upstream, recorded as skipped
  int members = 0;   // the batch's members
  bool done = false;
  int exit_code = 0;  // of `pa-gen exec`, when done
};

std::string BatchProgressJson(const BatchProgress& progress);
bool ParseBatchProgress(const std::string& text, BatchProgress* progress, std::string* err);

// exec's side. Both do nothing when $PA_PROGRESS_DIR is unset, and a
// failure to write never changes what the batch does.
void ReportBatchStarted(Disk& disk, const PlanBatch& batch, const std::vector<const PlanMember*>& run,
                        size_t blocked);
void ReportBatchDone(Disk& disk, const std::string& batch, int exit_code);

// A node event from one line of dbt's JSON log; false for any other line.
struct NodeEvent {
  std::string unique_id;
  bool finished = false;  // NodeFinished; else NodeStart
  std::string status = "";   // dbt's node_status when finished
  std::string message = "";  // the run result's message when finished
  long long ts_us = 0;       // dbt's timestamp (info.ts), microseconds since the epoch; 0: none
};
bool ParseNodeEvent(const std::string& line, NodeEvent* event);

// What the build is doing, fed by the events above; no I/O, no clock of
// its own (times are milliseconds on any monotonic clock).
class BuildProgress {
 public:
  // `predicted`: per batch, the members the build is expected to run
  // (PredictRuns); `seconds`: each node's recorded execution time (missing:
  // never timed); `startup`: one dbt process's start-up; `threads`: per
  // batch, dbt threads (the estimate divides a batch's node time by them).
  // `overhead`: per batch, what its last dbt run cost beyond its nodes
  // (hooks, schemas, the relation cache), added once when it starts.
  BuildProgress(std::map<std::string, std::vector<std::string>> predicted,
                std::map<std::string, double> seconds, double startup,
                std::map<std::string, int> threads, long long start_ms,
                std::map<std::string, double> overhead = {});

  // Each returns the lines to print now (failures, batches that finished).
  // When the batch is done, `state` (its .pa/state file, or null) says how
  // the nodes its log did not report ended (dbt killed, not logged).
  std::vector<std::string> OnBatch(const BatchProgress& progress, long long now_ms,
                                   const BatchState* state = nullptr);
  std::vector<std::string> OnNode(const std::string& batch, const NodeEvent& event);
  // A batch's log started again (a retry): its nodes count from nothing.
  void OnLogRestarted(const std::string& batch);
  // Whether a line of exec's own (relayed by Ninja) repeats a failure
  // already printed: "pa-gen: FAILED <id> (...".
  bool AlreadyReported(const std::string& ninja_line) const;

  int Done() const;      // nodes finished in this build, failed ones included
  int Total() const;     // nodes this build runs, as far as known now
  int Failed() const;    // nodes that failed on their own account
  int Skipped() const;   // nodes skipped because of a failure
  int NotRun() const;    // nodes of batches that were stopped before running them
  // Seconds left, from recorded node times; negative when nothing that is
  // left was ever timed.
  double SecondsLeft() const;
  // Batches running now, by name: (nodes finished, nodes it runs).
  std::vector<std::pair<std::string, std::pair<int, int>>> Running() const;
  long long start_ms() const { return start_ms_; }

 private:
  struct Batch {
    std::vector<std::string> run;  // predicted, then what exec said
    bool started = false, done = false;
    int blocked = 0;
    int not_run = 0;  // stopped before dbt ran them (state: "not run")
    std::set<std::string> finished, running;
    long long started_ms = 0;
  };
  Batch& Get(const std::string& name);
  double NodeSeconds(const std::string& id) const;

  std::map<std::string, Batch> batches_;
  std::map<std::string, double> seconds_;
  double startup_;
  std::map<std::string, int> threads_;
  long long start_ms_;
  std::map<std::string, double> overhead_;
  int failed_ = 0, skipped_ = 0, not_run_ = 0;
  std::set<std::string> reported_;  // failures printed
};

// What the build will run, per batch, as `pa-gen status` predicts it (only
// batches with work), with the recorded times the estimate needs.
struct RunPrediction {
  std::map<std::string, std::vector<std::string>> runs;
  std::map<std::string, double> seconds;
  std::map<std::string, int> threads;  // 0: the profile's
  double startup = 0;
  // Per batch, its last run's dbt elapsed_time less its nodes' time on its
  // threads (run_results.json in .pa/run/<batch>/), when it has one; use
  // Overheads once the threads are known.
  std::map<std::string, std::pair<double, double>> last_run;  // (elapsed, node seconds)
  std::map<std::string, double> Overheads() const;
};
bool PredictRuns(Disk& disk, const fs::path& plan_file, RunPrediction* prediction, std::string* err);
// Only the batches Ninja builds for `ninja_args` (`pa-gen build marts -j8`):
// a target that names a batch or a member's node keeps that batch and every
// batch upstream of it. With no targets, or one pa-gen does not know (a
// path, `all`), every batch stays.
void KeepTargets(const Plan& plan, const std::vector<std::string>& ninja_args, RunPrediction* prediction);

// The text of the progress display.
// "[37/201 nodes] running: marts 12/150, staging 3/10 · 1 failed · ~42 s left",
// cut to `width` columns (0: no limit).
std::string StatusText(const BuildProgress& progress, long long now_ms, size_t width);
// The last line: "pa-gen: 201 nodes in 84 s: 199 succeeded, 1 failed, 1 skipped".
std::string SummaryText(const BuildProgress& progress, long long now_ms);

// Where the display goes: a terminal (one status line redrawn in place, the
// lines above it) or a log (plain lines, and the totals at most every
// `period_ms`).
class ProgressText {
 public:
  ProgressText(bool terminal, size_t width, long long period_ms = 30000)
      : terminal_(terminal), width_(width), period_ms_(period_ms) {}
  // Lines to print above the status (erased first; Status draws it again
  // below them); returns the text to write.
  std::string Lines(const std::vector<std::string>& lines);
  // The status, redrawn when it changed (terminal) or every period (log).
  std::string Status(const BuildProgress& progress, long long now_ms);
  // Clears the status line and prints the summary.
  std::string Finish(const BuildProgress& progress, long long now_ms);

 private:
  bool terminal_;
  size_t width_;
  long long period_ms_;
  std::string shown_;  // the status line on screen (terminal)
  long long last_ms_ = -1;  // when totals were last printed (log)
};
