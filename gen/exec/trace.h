#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "util/disk.h"
#include "util/fs.h"

// A timeline of the build: `.pa/trace.json` (plan/layout.h), a Chrome trace
// (the JSON object format that chrome://tracing and ui.perfetto.dev load)
// made from dbt's own node timings, the `timing[]` entries and `thread_id`
// of each batch's run_results.json. One process track per batch, one thread
// track per dbt thread, one slice per node with its status; track 0 of a
// batch is the whole dbt invocation, so dbt's start-up shows as the gap
// before its first node. Times are microseconds from the first invocation's
// start, so the same run results give the same file, byte for byte.

// One node as dbt timed it: from its first timing entry's start to its last
// one's end (compile, then execute).
struct TraceSlice {
  std::string unique_id;
  std::string status;
  std::string thread;  // dbt's thread_id, "Thread-1 (worker)"
  std::int64_t start_us = 0;  // since the epoch
  std::int64_t end_us = 0;
};

// One batch's dbt invocation, from its run_results.json.
struct TraceRun {
  std::string batch;
  std::int64_t started_us = 0;  // metadata.invocation_started_at
  std::int64_t ended_us = 0;    // metadata.generated_at
  std::vector<TraceSlice> slices;  // in the order of run_results.json
  int untimed = 0;  // results without timing (skipped nodes): counted, not drawn
};

// "2026-12-01T13:03:32.505988Z" (dbt's UTC timestamps) in microseconds since
// the epoch; false when it is not that form.
bool ParseDbtTimestamp(const std::string& text, std::int64_t* micros);

// A run from the text of run_results.json; false with *err naming `source`.
bool ParseTraceRun(const std::string& batch, const std::string& run_results_json,
                   const std::string& source, TraceRun* run, std::string* err);

// The same from the parsed document (exec parses a batch's results once).
bool TraceRunFromJson(const std::string& batch, const nlohmann::json& doc, const std::string& source,
                      TraceRun* run, std::string* err);

// The trace file's text: runs ordered by start, then batch name.
std::string TraceJson(std::vector<TraceRun> runs);

// Every batch's last run that started at or after `since_us` (0: every
// batch's last run), from `.pa/run/<batch>/target/run_results.json` under
// `project_dir`, written to `.pa/trace.json` (atomically, under
// `.pa/locks/trace.lock` so batches finishing side by side do not lose one
// another's run). Unreadable run results are left out.
bool WriteTrace(Disk& disk, const fs::path& project_dir, std::int64_t since_us, std::string* err);

// `pa-gen build` sets this in Ninja's environment (microseconds since the
// epoch), so that each batch's `pa-gen exec` writes the trace of this build
// only; without it (plain `ninja`) the trace holds every batch's last run.
inline constexpr const char* kBuildStartedEnv = "PA_BUILD_STARTED_US";

// A trace file's text as a simple SVG: one row per track, a rectangle per
// slice coloured by status, a time axis. False with *err on a text that is
// not a trace.
bool TraceToSvg(const std::string& trace_json, std::string* svg, std::string* err);

// After `pa-gen exec` ran a batch: rewrites the trace of the plan's project
// with the runs since $PA_BUILD_STARTED_US. The trace is an extra: a failure
// is one warning line on stderr and changes no exit code.
void UpdateTraceAfterBatch(Disk& disk, const fs::path& plan_file);

// `pa-gen trace [--svg FILE]`: prints where the trace is, or writes it as SVG.
int TraceCommand(Disk& disk, const fs::path& project_dir, const std::string& svg_file);
