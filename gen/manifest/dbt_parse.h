#pragma once

#include <string>

#include "manifest/dbt.h"
#include "manifest/project.h"
#include "util/command_runner.h"

// Where pa-gen keeps its own parse; never dbt's target/, which every dbt run rewrites.
fs::path ParseDir(const DbtProject& project);

// Sets *manifest to a manifest that matches the project's files: the last
// parse when it is newer than every input and used the same settings,
// otherwise a fresh `dbt parse`, run through `runner`.
bool EnsureParsedManifest(CommandRunner& runner, const DbtProject& project, const DbtSettings& settings,
                          const ProjectInputs& inputs, fs::path* manifest, std::string* err);
