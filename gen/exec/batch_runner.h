#pragma once

#include <functional>
#include <string>
#include <vector>

#include "exec/run_results.h"
#include "exec/state.h"
#include "exec/work.h"
#include "plan/plan.h"
#include "util/command_runner.h"
#include "util/fs.h"

// `pa-gen exec`: runs the members of one batch that need work as one dbt
// invocation, decides per node from that invocation's run_results.json,
// records each node's outcome in the batch's state, merges the run into the
// build's run_results.json, and writes the stamp only when every member
// succeeded. Members whose upstream nodes failed are not run but recorded
// as skipped (exec/gate.h). When no member needs work it starts no dbt and
// leaves the stamp alone (the edge has restat). Returns the exit code: 0
// success, or nodes failed or were skipped but dbt ran to its end (no
// stamp; the build goes on, see IsNodeFailure); 1 the batch failed (dbt
// crashed, was killed or timed out); 2 the plan is unusable. Failures are
// reported on stderr, one line per failed node, only after the state is
// saved; a print that fails (ninja closed the pipe on Ctrl-C) loses nothing.
// dbt runs through `runner`; files are read and written through `disk`.
int RunBatch(CommandRunner& runner, Disk& disk, const fs::path& plan_file, const std::string& digest,
             const std::string& batch_name);

// The parts of RunBatch, each on its own for tests.

// The members that run now, and whether one asked for --full-refresh.
struct BatchWork {
  std::vector<const PlanMember*> selected;
  bool full_refresh = false;
  // dbt --select values for `selected` (SelectMembers); empty: each
  // member's own selector.
  std::vector<std::string> selectors = {};
};
BatchWork SelectWork(const PlanBatch& batch, const std::vector<MemberWork>& work,
                     const BatchState& state);

// Few selectors (whole folders) that select exactly work->selected, so that
// dbt's selection does not cost members x nodes; computed at run time, for
// the members that need work now. A plan without a selection index (written
// by an older pa-gen) selects each member by its own selector. False with
// *err set when no exact selection exists (plan/selectors.h says when).
bool SelectMembers(const Plan& plan, BatchWork* work, std::string* err);

// The `dbt build` of `work` for `batch`, run in `project` (absolute).
CommandRequest DbtBuildCommand(const Plan& plan, const PlanBatch& batch, const fs::path& project,
                               const BatchWork& work);

// One dbt invocation, retried after a transient failure.
struct DbtRun {
  CommandResult result;
  std::string output;        // dbt's console output of the last attempt
  double wall_seconds = 0;   // of the last attempt
};
// Runs `command` until it succeeds, fails for good, times out, is
// interrupted, or `retries` extra attempts were spent on transient
// failures; before each retry `wait(seconds)` (1 s, 2 s, 4 s, ...) and
// `say(line)`. Each attempt first removes `stale` (earlier results must
// never be read as this run's). False with *err when dbt cannot start.
bool RunWithRetries(CommandRunner& runner, Disk& disk, const CommandRequest& command, int retries,
                    const std::vector<fs::path>& stale, const std::string& batch_name,
                    const std::function<void(int)>& wait,
                    const std::function<void(const std::string&)>& say, DbtRun* run,
                    std::string* err);

// What the run did to the selected nodes: recorded in *state (at time
// `finished`), with a line for each node that failed on its own account.
struct BatchOutcome {
  int failed = 0;   // did not succeed, skipped ones included
  int skipped = 0;  // skipped by dbt because of another failure
  int not_reported = 0;  // selected, but not in dbt's run_results.json
  std::vector<std::string> lines;  // "FAILED <id> (<status>): ...", in member order
};
BatchOutcome RecordOutcomes(const std::vector<const PlanMember*>& selected,
                            const std::vector<NodeResult>& results, bool have_results,
                            long long finished, const fs::path& log_file, BatchState* state);

// From the first node's start to the last one's end, as dbt timed them in
// its run_results.json (parsed), in seconds; 0 when no node is timed.
double NodeSpanSeconds(const nlohmann::json& run_results);

// Of the nodes' execution times (`node_seconds`, their sum), the share that
// was the dbt process's own CPU: its CPU time (`cpu_seconds`, < 0: not
// measured) spread evenly over its wall time (`wall_seconds`), the part of
// it while nodes ran (`nodes_wall_seconds`: their span), in [0, 1]; -1 when
// unknown. Not its CPU less its fixed cost's wall time: on a busy machine
// the start-up waits for a core as long as it computes. Under the
// interpreter's lock a node's time also holds the waits for it, so the
// share is of what the nodes took side by side, not of their work alone.
double CpuShare(double cpu_seconds, double wall_seconds, double nodes_wall_seconds, double node_seconds);

// Sets each node's cpu_seconds in *state: `share` (CpuShare) of its
// seconds; unknown (0) with a share < 0.
void RecordCpu(const std::vector<NodeResult>& results, double share, BatchState* state);

// Members held back by a failure upstream (exec/gate.h), recorded in
// *state as skipped at `finished`; returns their results for the build's
// run_results.json.
struct BlockedMember;
std::vector<NodeResult> RecordBlocked(const std::vector<BlockedMember>& blocked,
                                      long long finished, BatchState* state);

// Whether a failed run is the nodes' failure, which the build goes past
// (the batch exits 0 without its stamp): dbt ran to its end (exit 0 or 1,
// run_results.json written, every selected member in it, no timeout,
// signal or held lock) and a node failed or was held back. Anything else
// fails the batch's edge, and Ninja stops what waits for it.
bool IsNodeFailure(const DbtRun& run, const BatchOutcome& outcome, bool have_results,
                   bool blocked);

// Only the batch's members stay: nodes that left it are dropped.
BatchState KeepMembers(const PlanBatch& batch, const BatchState& state);


// Prints one line to stderr and never fails: an error (EPIPE) is ignored.
void Say(const std::string& line);
