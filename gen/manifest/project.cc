#include "manifest/project.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "util/escape.h"

namespace {

std::vector<std::string> PathList(const YAML::Node& root, const char* key,
                                  std::vector<std::string> fallback) {
  YAML::Node value = root[key];
  if (!value) return fallback;
  std::vector<std::string> out;
  if (value.IsSequence()) {
    for (const auto& item : value) out.push_back(item.as<std::string>());
  } else {
    out.push_back(value.as<std::string>());
  }
  return out;
}

}  // namespace

bool LoadProject(const fs::path& dir, DbtProject* project, std::string* err) {
  project->dir = fs::absolute(dir).lexically_normal();
  if (project->dir.has_filename() == false) project->dir = project->dir.parent_path();
  fs::path file = project->dir / "dbt_project.yml";
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    *err = fmt::format("{}: not found (is {} a dbt project?)", file.string(), dir.string());
    return false;
  }
  // Read by pa-gen: a folder or an unreadable file is "cannot read: <reason>".
  std::string text;
  if (!ReadFile(file, &text, err)) return false;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap() || !root["name"]) {
      *err = fmt::format("{}: lacks the project 'name'", file.string());
      return false;
    }
    project->name = root["name"].as<std::string>();
    project->profile = root["profile"] ? root["profile"].as<std::string>() : project->name;
    project->model_paths = PathList(root, "model-paths", {"models"});
    project->seed_paths = PathList(root, "seed-paths", {"seeds"});
    project->snapshot_paths = PathList(root, "snapshot-paths", {"snapshots"});
    project->test_paths = PathList(root, "test-paths", {"tests"});
    project->macro_paths = PathList(root, "macro-paths", {"macros"});
    project->analysis_paths = PathList(root, "analysis-paths", {"analyses"});
    project->packages_install_path =
        root["packages-install-path"] ? root["packages-install-path"].as<std::string>()
                                      : "dbt_packages";
  } catch (const YAML::Exception& e) {
    *err = fmt::format("{}: {}", file.string(), e.what());
    NewlinesToSpaces(err);  // yaml-cpp may quote the newline it complains about
    return false;
  }
  return true;
}

ProjectInputs ListProjectInputs(const DbtProject& project, const fs::path& profiles_dir) {
  ProjectInputs inputs;
  for (const char* name : {"dbt_project.yml", "packages.yml", "dependencies.yml",
                           "selectors.yml"}) {
    if (std::error_code ec; fs::exists(project.dir / name, ec)) inputs.files.push_back(project.dir / name);
  }
  fs::path profiles = fs::absolute(profiles_dir / "profiles.yml").lexically_normal();
  if (std::error_code ec; fs::exists(profiles, ec)) inputs.files.push_back(profiles);
  if (std::error_code ec; fs::is_directory(project.dir / project.packages_install_path, ec))
    inputs.dirs.push_back(project.dir / project.packages_install_path);

  std::vector<std::string> roots;
  for (const auto* list : {&project.model_paths, &project.seed_paths, &project.snapshot_paths,
                           &project.test_paths, &project.macro_paths, &project.analysis_paths}) {
    roots.insert(roots.end(), list->begin(), list->end());
  }
  for (const std::string& root : roots) {
    fs::path top = (project.dir / root).lexically_normal();
    std::error_code ec;  // the non-throwing overloads: a name too long is no folder
    if (!fs::is_directory(top, ec)) continue;
    inputs.dirs.push_back(top);
    for (auto it = fs::recursive_directory_iterator(top, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code type_ec;
      if (it->is_directory(type_ec)) inputs.dirs.push_back(it->path());
      else if (it->is_regular_file(type_ec)) inputs.files.push_back(it->path());
    }
  }
  for (auto* list : {&inputs.files, &inputs.dirs}) {
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
  return inputs;
}

fs::path ResolveProfilesDir(const std::string& flag, const DbtProject& project) {
  if (!flag.empty()) return fs::absolute(flag).lexically_normal();
  if (const char* env = std::getenv("DBT_PROFILES_DIR"); env && *env)
    return fs::absolute(env).lexically_normal();
  if (std::error_code ec; fs::exists(project.dir / "profiles.yml", ec)) return project.dir;
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : "/") / ".dbt";
}
