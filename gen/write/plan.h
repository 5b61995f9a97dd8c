#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"
#include "group/batch_settings.h"
#include "group/partition.h"
#include "manifest/manifest.h"
#include "plan/layout.h"
#include "plan/plan.h"
#include "plan/plan_json.h"

// The plan of one generation: each batch of the partition with its members,
// their fingerprints, their parents' batches and its upstream batches.
// `settings_digest` covers what changes every node's result: dbt version,
// profile, target, vars. `batch_settings` is per batch of the partition.
Plan MakePlan(const std::string& project_dir, const DbtSettings& dbt,
              const std::string& settings_digest, const Graph& graph,
              const Partition& partition, const std::vector<BatchSettings>& batch_settings);

// Every node of `manifest` that a fqn selector can match: the executable ones
// (`graph`'s nodes) and the rest, neutral unless a test depends on them.
// Exposures, metrics, semantic models, saved queries and functions are not
// read from the manifest: a folder selector may also select an exposure or a
// saved query of that folder (dbt build runs them as no-ops), and a package
// selector is never chosen, as it would select every function.
std::vector<SelectableNode> SelectableNodes(const Manifest& manifest, const Graph& graph);
