#pragma once

#include <string>
#include <vector>

#include "util/fs.h"

// What pa-gen reads from dbt_project.yml: the name and where files live.
struct DbtProject {
  fs::path dir;  // absolute
  std::string name;
  std::string profile;  // the profile name dbt uses
  std::vector<std::string> model_paths;
  std::vector<std::string> seed_paths;
  std::vector<std::string> snapshot_paths;
  std::vector<std::string> test_paths;
  std::vector<std::string> macro_paths;
  std::vector<std::string> analysis_paths;
  std::string packages_install_path;
};

bool LoadProject(const fs::path& dir, DbtProject* project, std::string* err);

// Every file `dbt parse` reads and every folder whose entries it lists:
// a change to any of them can change the manifest. Absolute, sorted.
struct ProjectInputs {
  std::vector<fs::path> files;
  std::vector<fs::path> dirs;
};

ProjectInputs ListProjectInputs(const DbtProject& project, const fs::path& profiles_dir);

// dbt's own order: --profiles-dir, $DBT_PROFILES_DIR, the project folder
// when it holds profiles.yml, then ~/.dbt. pa-gen passes the result to every
// dbt call so that parse and batches always agree.
fs::path ResolveProfilesDir(const std::string& flag, const DbtProject& project);
