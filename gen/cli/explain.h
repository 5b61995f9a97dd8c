#pragma once

#include "cli/generate.h"
#include "util/command_runner.h"
#include "util/disk.h"

// `pa-gen explain [--json]`: each batch with its members, upstream batches,
// predicted time and, for a group the partition had to split, the path
// that forced it; the critical path; the predicted build time of this
// grouping, of per-model and of single.
int Explain(const Generation& generation, bool json);

// explain's line on what limits the build: the prediction's two bounds
// (Prediction::critical_path_seconds, cpu_bound_seconds) and the larger.
std::string DescribeBounds(const Prediction& prediction, int cores);

// `pa-gen graph [--nodes] [--svg]`: the batch graph as Graphviz DOT (with
// --nodes the node graph, batches as clusters), or rendered as SVG by `dot`.
// `dot` runs through `runner` and reads the text from a temporary file on
// `disk`, removed again: nothing is written to the project.
int WriteGraph(CommandRunner& runner, Disk& disk, const Generation& generation, bool nodes,
               bool svg);
