#pragma once

#include <set>
#include <string>

#include "dbt/dbt.h"
#include "manifest/project.h"
#include "util/command_runner.h"

// Whether the settings restrict the build to dbt's selection (--select,
// --exclude).
bool HasSelection(const DbtSettings& settings);

// The unique_ids dbt's own `dbt ls --select S --exclude E` lists for the
// project, with the settings of the parse (profile, target, vars), so the
// selection means exactly what it means to `dbt build`: graph operators,
// methods, indirect test selection. Run through `runner` into `dir`
// (.pa/select) and kept there for the manifest it was listed against:
// a regeneration that did not parse again reuses the list. dbt reads the
// parse's `partial_parse` file, so it does not parse the project again.
bool ListSelectedNodes(CommandRunner& runner, const fs::path& dir, const DbtProject& project,
                       const DbtSettings& settings, const fs::path& manifest,
                       const fs::path& partial_parse, std::set<std::string>* ids,
                       std::string* err);

// The unique_ids in `dbt ls --output json --output-keys unique_id` output;
// other lines (warnings) are skipped.
std::set<std::string> ParseLsOutput(const std::string& output);
