#include "write/ninja_file.h"

#include <algorithm>
#include <compare>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/escape.h"
#include "write/plan.h"

namespace {

// A phony target with no inputs that is never a file: Ninja counts it out
// of date at every run, and so the edges that depend on it.
const char kAlwaysTarget[] = ".pa/always";

// Paths in build.ninja are relative to its folder, where Ninja runs.
class PathMaker {
 public:
  explicit PathMaker(const BuildDescription& d)
      : out_dir_(d.output.parent_path()), project_(RelativePath(d.project->dir, out_dir_)) {}

  // A path relative to the project folder.
  std::string InProject(const fs::path& rel) const {
    return project_ == "." ? rel.generic_string() : project_ + "/" + rel.generic_string();
  }
  // InProject of a path read as text, without building an fs::path for
  // it (a batch of 30,000 nodes has some 20,000 files) where that changes
  // nothing: on POSIX the generic form only joins the parts with one '/',
  // which differs from the text only where it holds "//".
  std::string InProjectText(std::string_view rel) const {
    if (rel.find("//") != std::string_view::npos) return InProject(fs::path(rel));
    std::string path;
    if (project_ != ".") path.append(project_).append("/");
    return path.append(rel);
  }
  std::string Relative(const fs::path& absolute) const { return RelativePath(absolute, out_dir_); }

 private:
  fs::path out_dir_;
  std::string project_;
};

// Sorts `items` and drops repeats.
template <typename T>
void SortUnique(std::vector<T>* items) {
  std::sort(items->begin(), items->end());
  items->erase(std::unique(items->begin(), items->end()), items->end());
}

// The project files that define a batch's members, sorted, each once. A
// file many members share (a tests' yml) is made into a path once.
std::vector<std::string> BatchInputs(const Graph& graph, const Batch& batch, const PathMaker& paths) {
  std::vector<std::string_view> files;
  for (int m : batch.members)
    files.insert(files.end(), graph.nodes[m].inputs.begin(), graph.nodes[m].inputs.end());
  SortUnique(&files);
  std::vector<std::string> inputs;
  inputs.reserve(files.size());
  for (std::string_view file : files) inputs.push_back(paths.InProjectText(file));
  SortUnique(&inputs);  // as they were, unless the path's form merged two
  return inputs;
}

}  // namespace

NinjaFile MakeNinjaFile(const BuildDescription& d) {
  const Graph& graph = *d.graph;
  const Partition& partition = *d.partition;
  PathMaker paths(d);
  NinjaFile file;

  std::vector<std::string> quoted;
  for (const std::string& arg : d.regen_args) quoted.push_back(ShellQuote(arg));
  std::string regen_args = fmt::format("{}", fmt::join(quoted, " "));
  file.vars = {{"pa_gen", ShellQuote(d.pa_gen.string())},
               {"plan", paths.Relative(PlanFile(d.output))},
               {"regen_args", regen_args}};
  // DuckDB lets one process at a time write its file: batches take turns,
  // and parallelism comes from dbt's threads inside a batch.
  bool one_writer = d.adapter_type == "duckdb";
  if (one_writer) file.pools.emplace_back("duckdb", 1);
  else file.pools.assign(d.pools.begin(), d.pools.end());

  NinjaEdge regen;
  regen.comment = "Regenerate when a file that shapes the graph changes, or a folder gains or loses a file.";
  regen.rule = "regenerate";
  regen.outputs = {paths.Relative(d.output)};
  regen.implicit_outputs = {paths.Relative(PlanFile(d.output))};
  for (const fs::path& f : d.regen_files) regen.inputs.push_back(paths.Relative(f));
  // Folders go in as absolute paths: relative ones could name the same Ninja
  // node as a phony target (the folder `seeds` and the batch `seeds`).
  for (const fs::path& dir : d.regen_dirs) regen.implicit_inputs.push_back(dir.generic_string());
  // A file or folder that goes away (a deleted model) must make Ninja
  // regenerate, not stop with "missing and no known rule to make it".
  std::vector<NinjaEdge> vanishable;
  for (const auto* list : {&regen.inputs, &regen.implicit_inputs}) {
    for (const std::string& path : *list) {
      NinjaEdge phony;
      phony.rule = "phony";
      phony.outputs = {path};
      vanishable.push_back(std::move(phony));
    }
  }
  vanishable.front().comment = "Inputs that may vanish: phony, so that Ninja regenerates instead of failing.";
  regen.implicit_inputs.push_back(d.pa_gen.generic_string());
  // The variables the profile reads are no file: an edge every ninja runs
  // rewrites their keyed digest when it changed (restat: otherwise it is as
  // if it never ran), and a new digest regenerates, which gives every node
  // another fingerprint.
  NinjaEdge check_env;
  if (!d.env_vars.empty()) {
    std::string digest = paths.InProject(EnvDigestPath());
    regen.implicit_inputs.push_back(digest);
    check_env.comment = "Every ninja: did an environment variable of the profile or project change?";
    check_env.rule = "check_env";
    check_env.outputs = {digest};
    check_env.implicit_inputs = {kAlwaysTarget};
    std::vector<std::string> names;
    for (const std::string& name : d.env_vars) names.push_back(ShellQuote(name));
    check_env.vars = {{"key", ShellQuote(paths.Relative(d.identity_key))},
                      {"env_vars", fmt::format("{}", fmt::join(names, " "))}};
  }
  file.edges.push_back(std::move(regen));
  for (NinjaEdge& edge : vanishable) file.edges.push_back(std::move(edge));
  if (!check_env.rule.empty()) {
    file.edges.push_back(std::move(check_env));
    NinjaEdge always;  // no inputs, never a file: out of date at every run
    always.rule = "phony";
    always.outputs = {kAlwaysTarget};
    file.edges.push_back(std::move(always));
  }

  std::vector<std::string> stamps;
  for (const Batch& batch : partition.batches) stamps.push_back(paths.InProject(StampPath(batch.name)));

  for (size_t b = 0; b < partition.batches.size(); ++b) {
    const Batch& batch = partition.batches[b];
    NinjaEdge edge;
    edge.comment = fmt::format("Batch {}: {}", batch.name, DescribeMembers(graph, batch));
    edge.rule = "dbt";
    edge.outputs = {stamps[b]};
    edge.inputs = BatchInputs(graph, batch, paths);
    for (int dep : batch.deps) edge.implicit_inputs.push_back(stamps[dep]);
    edge.vars = {{"batch", batch.name},
                 {"size", std::to_string(batch.members.size())},
                 {"digest", d.plan->batches[b].digest}};
    const std::string& pool = (*d.batch_settings)[b].pool;
    if (one_writer) edge.vars.emplace_back("pool", "duckdb");
    else if (!pool.empty()) edge.vars.emplace_back("pool", pool);
    file.edges.push_back(std::move(edge));
  }

  NinjaEdge check;
  check.comment = "Fails the build when a node failed or was skipped; `all` waits for it.";
  check.rule = "check";
  check.outputs = {paths.InProject(BuildOkPath())};
  check.inputs = stamps;
  std::string build_ok = check.outputs.front();
  file.edges.push_back(std::move(check));

  // Phony targets: every batch by its name, every model, seed and snapshot
  // by its name, and the batch a batch was split from node by node and the
  // groups it is a part of (a folder cut or split: `ninja staging`) by their
  // names, for all their parts. A name claimed for two different stamps (other than a group's
  // parts), or one that is already a path in this file, gets no phony
  // target. Sorted lists, not sets of strings: a batch of 30,000 nodes has
  // as many names and files.
  std::vector<std::string_view> taken = {"all"};  // views of file.edges, unchanged until the end
  for (const NinjaEdge& edge : file.edges) {
    for (const auto* list : {&edge.outputs, &edge.implicit_outputs, &edge.inputs,
                             &edge.implicit_inputs})
      taken.insert(taken.end(), list->begin(), list->end());
  }
  SortUnique(&taken);
  auto is_taken = [&](std::string_view name) {
    return std::binary_search(taken.begin(), taken.end(), name);
  };
  struct Claim {
    std::string_view name;
    int batch;
    bool group;  // the batch is a part of the group `name`
    auto operator<=>(const Claim&) const = default;
  };
  std::vector<Claim> claims;
  for (size_t b = 0; b < partition.batches.size(); ++b) {
    const Batch& batch = partition.batches[b];
    claims.push_back({batch.name, static_cast<int>(b), false});
    if (!batch.split_from.empty()) claims.push_back({batch.split_from, static_cast<int>(b), true});
    for (const std::string& group : batch.part_of) claims.push_back({group, static_cast<int>(b), true});
  }
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (!graph.nodes[n].IsTest()) claims.push_back({d.node_names[n], partition.batch_of[n], false});
  }
  SortUnique(&claims);
  // A group's target holds its parts; any other claim of its name must be
  // one of them (a node inside the group), else the name means two things.
  auto one_meaning = [&](size_t start, size_t end) {
    std::vector<int> parts, others;
    for (size_t c = start; c < end; ++c) (claims[c].group ? parts : others).push_back(claims[c].batch);
    SortUnique(&others);
    if (parts.empty()) return others.size() == 1;
    return std::includes(parts.begin(), parts.end(), others.begin(), others.end());
  };
  std::vector<NinjaEdge> phonies;
  for (size_t start = 0, end; start < claims.size(); start = end) {
    std::string_view name = claims[start].name;
    for (end = start + 1; end < claims.size() && claims[end].name == name;) ++end;
    if (!one_meaning(start, end) || is_taken(name)) continue;
    // Ninja stats every target; a name longer than a file name may be
    // (NAME_MAX) fails with ENAMETOOLONG. Such a node is built by its batch
    // and `all`, and has no target of its own.
    if (name.size() > 255) continue;
    NinjaEdge phony;
    if (phonies.empty()) phony.comment = "Targets by batch and by node name; `all` is the default.";
    phony.rule = "phony";
    phony.outputs = {std::string(name)};
    for (size_t c = start; c < end; ++c)  // a part also claimed by a node in it, once
      if (c == start || claims[c].batch != claims[c - 1].batch) phony.inputs.push_back(stamps[claims[c].batch]);
    phonies.push_back(std::move(phony));
  }
  bool first = phonies.empty();
  for (NinjaEdge& phony : phonies) file.edges.push_back(std::move(phony));
  NinjaEdge all;
  all.comment = first ? "`all` is the default." : "";
  all.rule = "phony";
  all.outputs = {"all"};
  all.inputs = {build_ok};
  file.edges.push_back(std::move(all));
  file.defaults = {"all"};
  return file;
}
