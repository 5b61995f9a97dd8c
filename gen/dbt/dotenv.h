#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/fs.h"

// dbt 1.12 reads a `.env` file the way python-dotenv 1.2 does
// (dbt/cli/main.py: `load_dotenv(find_dotenv(usecwd=True), override=False)`,
// at start-up, before its flags are read): the first `.env` found from the
// current folder up to the root; its variables join the environment
// unless already set (the real environment wins); `${NAME}` and
// `${NAME:-default}` in values expand. So `DBT_TARGET`, `DBT_PROFILES_DIR`,
// `DBT_PROJECT_DIR` and every env_var() may come from it. pa-gen does the
// same at its own start, so that it reads what dbt reads.

// (name, value) in file order; a name without `=` has no value (and sets
// nothing). Malformed lines are skipped, as python-dotenv skips them.
using DotenvBindings = std::vector<std::pair<std::string, std::optional<std::string>>>;
DotenvBindings ParseDotenv(const std::string& text);

// The values the bindings give, `${...}` expanded against the variables
// before them and `environment` (which wins, as with override=False).
std::map<std::string, std::string> ResolveDotenv(const DotenvBindings& bindings,
                                                 const std::map<std::string, std::string>& environment);

// The first regular file `.env` in `dir` or a folder above it; empty when none.
fs::path FindDotenv(const fs::path& dir);

// Finds `.env` from `dir` and sets its variables that are not set yet
// (setenv). Returns the file read, or empty. An unreadable file is skipped,
// as dbt skips it.
fs::path LoadDotenv(const fs::path& dir);
