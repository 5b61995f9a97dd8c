#pragma once

#include <string>
#include <vector>

#include "manifest/project.h"

// What says where a build's results go: the target's identity in
// profiles.yml and the environment variables the profile and the project
// read. Either changing makes every node's result stale (a DuckDB path
// from env_var() pointing at another file needs a full build there).
struct TargetIdentity {
  // The target's fields that name the warehouse (type, path, host, port,
  // database, schema, ...), as written: "key=value" lines. Hashed, never
  // written (dbt/identity.h).
  std::string text;
  // The variables env_var() reads in profiles.yml and dbt_project.yml,
  // sorted, without DBT_ENV_SECRET_* (passwords and tokens: a new one
  // points at the same warehouse).
  std::vector<std::string> env_vars;
};

// Reads profiles.yml in `profiles_dir` and the project's dbt_project.yml.
// What it cannot make out (no profiles.yml, odd YAML: dbt reported that
// already) counts as the whole file's text.
TargetIdentity ReadTargetIdentity(const DbtProject& project, const fs::path& profiles_dir,
                                  const std::string& target);

// The names in env_var('NAME'...) calls of a Jinja-templated text.
std::vector<std::string> EnvVarsRead(const std::string& text);
