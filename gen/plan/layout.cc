#include "plan/layout.h"

namespace {

const fs::path kPa = ".pa";

}  // namespace

fs::path PlanFile(const fs::path& build_ninja) {
  std::string name = build_ninja.filename().string();
  return build_ninja.parent_path() /
         (name == "build.ninja" ? std::string(kPlanFileName) : "." + name + kPlanFileName);
}

fs::path StampPath(const std::string& batch) { return kPa / "stamps" / (batch + ".stamp"); }
fs::path RunDir(const std::string& batch) { return kPa / "run" / batch; }
fs::path BuildOkPath() { return kPa / "build.ok"; }

fs::path StateRootDir(const fs::path& project_dir) { return project_dir / kPa; }
fs::path StampDir(const fs::path& project_dir) { return project_dir / kPa / "stamps"; }
fs::path StateDir(const fs::path& project_dir) { return project_dir / kPa / "state"; }
fs::path StateFile(const fs::path& project_dir, const std::string& batch) {
  return StateDir(project_dir) / (batch + ".json");
}
fs::path SplitDir(const fs::path& project_dir) { return project_dir / kPa / "split"; }
fs::path ParseDir(const fs::path& project_dir) { return project_dir / kPa / "parse"; }
fs::path ReadOnlyParseDir(const fs::path& project_dir) { return project_dir / kPa / "parse-readonly"; }
fs::path IdentityKeyFile(const fs::path& project_dir) { return project_dir / kPa / "identity.key"; }
fs::path EnvDigestPath() { return kPa / "env.digest"; }
fs::path SelectDir(const fs::path& project_dir) { return project_dir / kPa / "select"; }
fs::path PartialParseFile(const fs::path& project_dir) {
  return ParseDir(project_dir) / "partial_parse.msgpack";
}
fs::path StartupFile(const fs::path& project_dir) { return project_dir / kPa / "dbt-startup"; }
fs::path FixedCostFile(const fs::path& project_dir) { return project_dir / kPa / "dbt-fixed-cost"; }
fs::path OutputsFile(const fs::path& project_dir) { return project_dir / kPa / "outputs"; }
fs::path GenerateLockFile(const fs::path& project_dir) {
  return project_dir / kPa / "locks" / "generate.lock";
}
fs::path BatchLockFile(const fs::path& project_dir, const std::string& batch) {
  return project_dir / kPa / "locks" / (batch + ".lock");
}
fs::path MergedRunResultsFile(const fs::path& project_dir) {
  return project_dir / kPa / "run_results.json";
}
fs::path MergedRunResultsLockFile(const fs::path& project_dir) {
  return project_dir / kPa / "locks" / ".run_results.lock";
}
fs::path RunRootDir(const fs::path& project_dir) { return project_dir / kPa / "run"; }
fs::path TraceFile(const fs::path& project_dir) { return project_dir / kPa / "trace.json"; }
fs::path ProgressRootDir(const fs::path& project_dir) { return project_dir / kPa / "progress"; }
fs::path ProgressDir(const fs::path& project_dir, const std::string& build) {
  return ProgressRootDir(project_dir) / build;
}
fs::path ProgressLockFile(const fs::path& progress_dir) { return progress_dir / "build.lock"; }
fs::path TraceLockFile(const fs::path& project_dir) { return project_dir / kPa / "locks" / ".trace.lock"; }

fs::path RunTargetDir(const fs::path& run_dir) { return run_dir / "target"; }
fs::path RunResultsFile(const fs::path& run_dir) { return RunTargetDir(run_dir) / "run_results.json"; }
fs::path RunLogDir(const fs::path& run_dir) { return run_dir / "logs"; }
fs::path RunLogFile(const fs::path& run_dir) { return RunLogDir(run_dir) / "dbt.log"; }
fs::path RunOutputFile(const fs::path& run_dir) { return run_dir / "dbt.out"; }
