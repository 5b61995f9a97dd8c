#include "manifest/dbt_parse.h"

#include <fmt/format.h>

#include "util/process.h"
#include "worker/worker_runner.h"

fs::path ParseDir(const DbtProject& project) { return project.dir / ".pa" / "parse"; }

bool EnsureParsedManifest(const DbtProject& project, const DbtSettings& settings,
                          const ProjectInputs& inputs, fs::path* manifest, std::string* err) {
  fs::path dir = ParseDir(project);
  *manifest = dir / "manifest.json";
  fs::path settings_file = dir / "settings";
  std::vector<std::string> shared = SharedDbtArgs(settings);
  std::string settings_text;
  for (const std::string& arg : shared) settings_text += arg + "\n";

  long long manifest_time = MtimeNs(*manifest);
  std::string old_settings;
  std::string ignored;
  bool fresh = manifest_time != 0 && ReadFile(settings_file, &old_settings, &ignored) &&
               old_settings == settings_text;
  for (const auto* list : {&inputs.files, &inputs.dirs}) {
    for (const fs::path& p : *list) {
      if (fresh && MtimeNs(p) > manifest_time) fresh = false;
    }
  }
  if (fresh) return true;

  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::remove(settings_file, ec);
  Subprocess parse;
  parse.argv = {settings.dbt.string(), "parse", "--project-dir", project.dir.string()};
  parse.argv.insert(parse.argv.end(), shared.begin(), shared.end());
  parse.argv.insert(parse.argv.end(), {"--target-path", (dir).string(), "--log-path",
                                       (dir / "logs").string()});
  parse.cwd = project.dir;
  parse.output = dir / "parse.out";
  parse.env = DbtEnvironment();
  SubprocessResult run;
  if (!DbtCommandRunner().Run(parse, &run, err)) return false;
  int code = run.exit_code;
  if (run.interrupted_by) {
    *err = fmt::format("dbt parse interrupted by signal {}", run.interrupted_by);
    return false;
  }
  if (code != 0) {
    std::string output;
    ReadFile(parse.output, &output, &ignored);
    *err = fmt::format("dbt parse failed in {} (exit {}): {} (full output: {})",
                       project.dir.string(), code, DbtErrorSummary(output),
                       parse.output.string());
    return false;
  }
  bool changed = false;
  return WriteFileIfChanged(settings_file, settings_text, &changed, err);
}
