#include "manifest/dbt_parse.h"

#include <fmt/format.h>

namespace {

std::string SettingsText(const DbtSettings& settings, const std::string& environment) {
  std::string text;
  for (const std::string& arg : SharedDbtArgs(settings)) text += arg + "\n";
  return text + "environment=" + environment + "\n";
}

}  // namespace

bool ParsedWith(const fs::path& dir, const DbtSettings& settings, const std::string& environment) {
  std::string old, ignored;
  return ReadFile(dir / "settings", &old, &ignored) && old == SettingsText(settings, environment);
}

bool EnsureParsedManifest(CommandRunner& runner, const fs::path& dir, const DbtProject& project,
                          const DbtSettings& settings, const std::string& environment,
                          const ProjectInputs& inputs, fs::path* manifest, std::string* err) {
  *manifest = dir / "manifest.json";
  fs::path settings_file = dir / "settings";
  std::vector<std::string> shared = SharedDbtArgs(settings);
  std::string settings_text = SettingsText(settings, environment);

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
  CreateDirectories(dir, &ignored);
  fs::remove(settings_file, ec);
  CommandRequest parse;
  parse.argv = {settings.dbt.string(), "parse", "--project-dir", project.dir.string()};
  parse.argv.insert(parse.argv.end(), shared.begin(), shared.end());
  parse.argv.insert(parse.argv.end(), {"--target-path", (dir).string(), "--log-path",
                                       (dir / "logs").string()});
  parse.cwd = project.dir;
  parse.output = dir / "parse.out";
  parse.env = DbtEnvironment();
  CommandResult run;
  if (!runner.Run(parse, &run, err)) return false;
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
