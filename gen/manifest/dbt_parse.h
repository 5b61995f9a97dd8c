#pragma once

#include <string>

#include "dbt/dbt.h"
#include "manifest/project.h"
#include "util/command_runner.h"

// Sets *manifest to a manifest that matches the project's files: the last
// parse when it is newer than every input and used the same settings,
// otherwise a fresh `dbt parse`, run through `runner`, into `dir`: pa-gen's
// own parse folder, never dbt's target/, which every dbt run rewrites.
// `environment` (a keyed digest of the environment variables the project
// and profile read) counts as a setting: another value parses again.
bool EnsureParsedManifest(CommandRunner& runner, const fs::path& dir, const DbtProject& project, const DbtSettings& settings,
                          const std::string& environment, const ProjectInputs& inputs,
                          fs::path* manifest, std::string* err);

// Whether the parse in `dir` was made with these settings (it may be stale).
bool ParsedWith(const fs::path& dir, const DbtSettings& settings, const std::string& environment);
