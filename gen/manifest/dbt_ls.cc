#include "manifest/dbt_ls.h"

#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dbt/options.h"
#include "util/hash.h"

bool HasSelection(const DbtSettings& settings) {
  return !settings.select.empty() || !settings.exclude.empty();
}

std::set<std::string> ParseLsOutput(const std::string& output) {
  std::set<std::string> ids;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("{", 0) != 0) continue;
    nlohmann::json doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (doc.is_object())
      if (auto it = doc.find("unique_id"); it != doc.end() && it->is_string())
        ids.insert(it->get<std::string>());
  }
  return ids;
}

namespace {

// What the list depends on: the manifest it was listed against (dbt ls
// parses the same files), the dbt and its settings, the selection.
std::string ListKey(const DbtSettings& settings, const fs::path& manifest) {
  Hasher h;
  h.Add(std::to_string(MtimeNs(manifest))).Add(settings.dbt.string());
  for (const std::string& arg : SharedDbtArgs(settings)) h.Add(arg);
  return h.Add(settings.select).Add(settings.exclude).Hex();
}

}  // namespace

bool ListSelectedNodes(CommandRunner& runner, const fs::path& dir, const DbtProject& project,
                       const DbtSettings& settings, const fs::path& manifest,
                       const fs::path& partial_parse, std::set<std::string>* ids,
                       std::string* err) {
  ids->clear();
  fs::path list_file = dir / "selection";
  std::string key = ListKey(settings, manifest);
  std::string cached, ignored;
  if (ReadFile(list_file, &cached, &ignored) && cached.rfind(key + "\n", 0) == 0) {
    std::istringstream lines(cached.substr(key.size() + 1));
    for (std::string id; std::getline(lines, id);)
      if (!id.empty()) ids->insert(id);
    return true;
  }
  if (!CreateDirectories(dir, err)) return false;
  CommandRequest ls;
  ls.argv = {settings.dbt.string(), "ls", "--quiet", "--project-dir", project.dir.string()};
  std::vector<std::string> shared = SharedDbtArgs(settings);
  ls.argv.insert(ls.argv.end(), shared.begin(), shared.end());
  if (!settings.select.empty()) ls.argv.push_back("--select=" + settings.select);
  if (!settings.exclude.empty()) ls.argv.push_back("--exclude=" + settings.exclude);
  ls.argv.insert(ls.argv.end(),
                 {"--output", "json", "--output-keys", "unique_id", "--target-path",
                  (dir / "target").string(), "--log-path", (dir / "logs").string(),
                  "--partial-parse-file-path", partial_parse.string()});
  ls.cwd = project.dir;
  ls.output = dir / "ls.out";
  ls.env = DbtEnvironment();
  CommandResult run;
  if (!runner.Run(ls, &run, err)) return false;
  if (run.interrupted_by) {
    *err = fmt::format("dbt ls interrupted by signal {}", run.interrupted_by);
    return false;
  }
  std::string output;
  ReadFile(ls.output, &output, &ignored);
  if (run.exit_code != 0) {
    *err = fmt::format("dbt ls of --select/--exclude failed in {} (exit {}): {} (full output: {})",
                       project.dir.string(), run.exit_code, DbtErrorSummary(output),
                       ls.output.string());
    return false;
  }
  *ids = ParseLsOutput(output);
  std::string text = key + "\n";
  for (const std::string& id : *ids) text += id + "\n";
  bool changed = false;
  return WriteFileIfChanged(list_file, text, &changed, err);
}
