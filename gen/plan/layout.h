#pragma once

#include <string>

#include "util/fs.h"

// Every path pa-gen keeps beside a dbt project, in one place. Functions
// that take `project_dir` return absolute paths under it; the others are
// relative to the project folder (build.ninja names them that way).
//
//   .pa-plan.json              beside build.ninja: the plan (plan/plan_json.h); beside
//                              another output, .<name>.pa-plan.json (PlanFile)
//   .pa/stamps/<batch>.stamp   the batch's Ninja output, written when it succeeded
//   .pa/state/<batch>.json     what each node of the batch did last (exec/state.h)
//   .pa/run/<batch>/           the batch's dbt run: target/, logs/, dbt.out
//   .pa/parse/                 pa-gen's own `dbt parse` and the shared partial parse
//   .pa/parse-readonly/        the parse of a status/explain/graph under other settings
//   .pa/identity.key           the key of the target's keyed digests (dbt/identity.h), 0600
//   .pa/env.digest             keyed digest of the environment variables the profile reads
//   .pa/select/                `dbt ls` of --select/--exclude and its list (manifest/dbt_ls.h)
//   .pa/state/.unselected.json the state of nodes --select/--exclude leave out, kept for later
//   .pa/split/<batch>          marker: run this batch node by node (exec/split.h)
//   .pa/dbt-startup            the last measured start-up of one dbt process
//   .pa/outputs                the build files generated for the project, one a line (exec/outputs.h)
//   .pa/locks/generate.lock    flock(2) held by the one pa-gen generating (util/file_lock.h)
//   .pa/locks/<batch>.lock     flock(2) held by the one `pa-gen exec` running the batch
//   .pa/run_results.json       every node's last result, merged from the batches' runs in
//                              dbt's schema, for `dbt retry --state .pa` (exec/merged_results.h)
//   .pa/locks/.run_results.lock  flock(2) held while a batch merges into it (batch names
//                              never start with '.')
//   .pa/build.ok               written by the check edge when every node succeeded
//   .pa/trace.json             the build's timeline, a Chrome trace (exec/trace.h)
//   .pa/locks/.trace.lock      flock(2) held while the trace is rewritten
//   .pa/progress/<build>/      one `pa-gen build`'s live progress: <batch>.json from each
//                              exec, ninja.out (Ninja's output); removed at the end (exec/progress.h)
//   .pa/progress/<build>/build.lock  flock(2) held by that `pa-gen build` while it runs: a
//                              folder whose lock is free belongs to a build that was killed

// The plan's file name, beside build.ninja.
inline constexpr const char* kPlanFileName = ".pa-plan.json";
// The plan of the build file `build_ninja`, beside it: .pa-plan.json for
// build.ninja, .<name>.pa-plan.json for any other name, so that two
// outputs in one folder (-o a.ninja, -o b.ninja) never share a plan.
fs::path PlanFile(const fs::path& build_ninja);

fs::path StampPath(const std::string& batch);  // .pa/stamps/<batch>.stamp
fs::path RunDir(const std::string& batch);     // .pa/run/<batch>
fs::path BuildOkPath();                        // .pa/build.ok

// .pa itself: every path above (and the worker's .pa/worker) is under it.
fs::path StateRootDir(const fs::path& project_dir);
fs::path StampDir(const fs::path& project_dir);
fs::path StateDir(const fs::path& project_dir);
fs::path StateFile(const fs::path& project_dir, const std::string& batch);
fs::path SplitDir(const fs::path& project_dir);
fs::path ParseDir(const fs::path& project_dir);
fs::path ReadOnlyParseDir(const fs::path& project_dir);
fs::path IdentityKeyFile(const fs::path& project_dir);
fs::path EnvDigestPath();  // .pa/env.digest, relative to the project
fs::path SelectDir(const fs::path& project_dir);
// The state file of nodes outside the selection: batch names never start with '.'.
inline constexpr const char* kUnselectedStateName = ".unselected";
fs::path PartialParseFile(const fs::path& project_dir);
fs::path StartupFile(const fs::path& project_dir);
// A batch's last measured fixed cost: `.pa/dbt-fixed-cost` (exec/state.h).
fs::path FixedCostFile(const fs::path& project_dir);
fs::path GenerateLockFile(const fs::path& project_dir);
fs::path OutputsFile(const fs::path& project_dir);  // .pa/outputs
fs::path BatchLockFile(const fs::path& project_dir, const std::string& batch);
fs::path MergedRunResultsFile(const fs::path& project_dir);
fs::path MergedRunResultsLockFile(const fs::path& project_dir);
fs::path RunRootDir(const fs::path& project_dir);  // .pa/run: every batch's RunDir
fs::path TraceFile(const fs::path& project_dir);
fs::path TraceLockFile(const fs::path& project_dir);
fs::path ProgressRootDir(const fs::path& project_dir);  // .pa/progress: every build's ProgressDir
fs::path ProgressDir(const fs::path& project_dir, const std::string& build);
fs::path ProgressLockFile(const fs::path& progress_dir);  // <progress dir>/build.lock

// Inside a batch's run folder (`project_dir / RunDir(batch)`).
fs::path RunTargetDir(const fs::path& run_dir);    // target/, dbt's --target-path
fs::path RunResultsFile(const fs::path& run_dir);  // target/run_results.json
fs::path RunLogDir(const fs::path& run_dir);       // logs/, dbt's --log-path
fs::path RunLogFile(const fs::path& run_dir);      // logs/dbt.log
fs::path RunOutputFile(const fs::path& run_dir);   // dbt.out: dbt's console output
