#include "cli/conventions.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

#include "dbt/dotenv.h"

namespace {

void Append(std::string* to, const std::string& value) {
  if (!to->empty()) *to += " ";
  *to += value;
}

}  // namespace

bool TakeBuildSelection(std::vector<std::string>* ninja_args, DbtSettings* settings, std::string* err) {
  const std::pair<const char*, std::string*> flags[] = {
      {"--select", &settings->select}, {"-s", &settings->select}, {"--exclude", &settings->exclude}};
  const std::vector<std::string>& args = *ninja_args;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    bool taken = false;
    for (const auto& [flag, field] : flags) {
      std::string name = flag;
      if (arg == name) {
        // dbt's multiple values: the words up to the next option.
        size_t values = 0;
        for (; i + 1 < args.size() && !args[i + 1].empty() && args[i + 1][0] != '-'; ++values)
          Append(field, args[++i]);
        if (values == 0) {
          *err = fmt::format("{} needs a value", name);
          return false;
        }
        taken = true;
      } else if (name.size() > 2 && arg.rfind(name + "=", 0) == 0) {
        if (arg.size() == name.size() + 1) {
          *err = fmt::format("{} needs a value", name);
          return false;
        }
        Append(field, arg.substr(name.size() + 1));
        taken = true;
      }
      if (taken) break;
    }
    if (!taken) rest.push_back(arg);
  }
  *ninja_args = std::move(rest);
  return true;
}

DotenvUse LoadProjectDotenv(const fs::path& project_dir) {
  DotenvUse use;
  std::error_code ec;
  std::set<std::string> names;
  for (const fs::path& file : {FindDotenv(fs::current_path(ec)), LoadDotenv(project_dir)}) {
    if (file.empty() || std::find(use.files.begin(), use.files.end(), file) != use.files.end()) continue;
    use.files.push_back(file);
    std::string text, ignored;
    if (!ReadFile(file, &text, &ignored)) continue;
    for (const auto& [name, value] : ParseDotenv(text))
      if (value && name.rfind("DBT_ENV_SECRET_", 0) != 0) names.insert(name);
  }
  use.names.assign(names.begin(), names.end());
  return use;
}

std::string EffectiveTarget(const DbtSettings& settings) {
  if (!settings.target.empty()) return settings.target;
  const char* env = std::getenv("DBT_TARGET");
  return env ? env : "";
}

void AddNames(std::vector<std::string>* names, const std::vector<std::string>& more) {
  std::set<std::string> all(names->begin(), names->end());
  all.insert(more.begin(), more.end());
  names->assign(all.begin(), all.end());
}
