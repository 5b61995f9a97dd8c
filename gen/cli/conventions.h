#pragma once

#include <string>
#include <vector>

#include "dbt/dbt.h"
#include "util/fs.h"

// dbt's habits that pa-gen keeps, so that a dbt user's carry over.

// `pa-gen build [NINJA ARGS]` also takes dbt's `--select`/`-s` and
// `--exclude` among Ninja's arguments, as `dbt build` does: each takes the
// words after it up to the next option (dbt's `--select a b`), or one
// `--select=a` value. They are taken out of `*ninja_args` and added to
// `*settings` (joined by spaces, after any given before `build`). False
// with *err when one has no value.
bool TakeBuildSelection(std::vector<std::string>* ninja_args, DbtSettings* settings, std::string* err);

// The `.env` files dbt reads for this project: the one found from the
// current folder (main loads it first, as dbt does at start-up) and the one
// found from the project folder (where every dbt that pa-gen starts runs,
// and loads it). Loads the second under the environment, as those dbt
// processes will. `names`: the variables they set (not DBT_ENV_SECRET_*),
// whose values count as the environment of every node's result.
struct DotenvUse {
  std::vector<fs::path> files;     // absolute, without duplicates
  std::vector<std::string> names;  // sorted
};
DotenvUse LoadProjectDotenv(const fs::path& project_dir);

// The target dbt uses: --target, else $DBT_TARGET, else "" (the profile's).
std::string EffectiveTarget(const DbtSettings& settings);

// `*names` (sorted) with `more` added, sorted and without duplicates.
void AddNames(std::vector<std::string>* names, const std::vector<std::string>& more);
