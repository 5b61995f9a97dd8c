#include "cli/explain.h"

#include <cstdio>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "util/escape.h"
#include "util/process.h"

namespace {

struct Explanation {
  Prediction prediction;
  std::map<std::string, double> alternatives;  // policy -> predicted seconds
};

Explanation Predict(const Generation& g) {
  Explanation e;
  e.prediction = PredictBuild(g.graph, g.grouping.partition, g.settings, g.cost);
  e.alternatives = g.predictions;
  for (const char* other : {"folder", "per-model", "single"}) {
    if (e.alternatives.count(other)) continue;
    Policy p = g.policy;
    std::string err;
    ParsePolicy(other, &p, &err);
    Grouping grouping = GroupGraph(p, other, g.project, g.graph, g.names);
    e.alternatives[other] = PredictGrouping(p, grouping, g.graph, g.cost, g.max_threads);
  }
  return e;
}

std::string Seconds(double s) { return fmt::format("{:.1f} s", s); }

std::string Join(const std::vector<std::string>& items, const char* sep) {
  return fmt::format("{}", fmt::join(items, sep));
}

// "a (x) -> b (y) -> c (x)": the path that kept a group from being one batch.
std::string SplitPath(const Generation& g, const Batch& batch) {
  std::vector<std::string> steps;
  for (int n : batch.split_path)
    steps.push_back(fmt::format("{} ({})", g.names[n],
                                g.grouping.partition.batches[g.grouping.partition.batch_of[n]].name));
  return Join(steps, " -> ");
}

}  // namespace

std::string DescribeBounds(const Prediction& p, int cores) {
  std::string cpu = cores > 0 ? fmt::format("the batches' dbt CPU over {} core{} {}", cores,
                                            cores == 1 ? "" : "s", Seconds(p.cpu_bound_seconds))
                              : "no cores limit";
  const char* limit = cores > 0 && p.cpu_bound_seconds > p.critical_path_seconds ? "the CPU" : "the critical path";
  return fmt::format("bounds: critical path alone {}, {}; {} limits this build (the database "
                     "server's own CPU is not counted)",
                     Seconds(p.critical_path_seconds), cpu, limit);
}

int Explain(const Generation& g, bool json) {
  const Partition& partition = g.grouping.partition;
  Explanation e = Predict(g);
  auto batch_names = [&](const std::vector<int>& batches) {
    std::vector<std::string> names;
    for (int b : batches) names.push_back(partition.batches[b].name);
    return names;
  };
  int timed = 0;
  for (size_t n = 0; n < g.graph.nodes.size(); ++n) timed += g.cost.node_seconds[n] != kUnknownNodeSeconds;
  double node_seconds = 0, cpu_seconds = 0;  // what the nodes take, and of it the dbt processes' CPU
  for (size_t n = 0; n < g.graph.nodes.size(); ++n) {
    node_seconds += g.cost.node_seconds[n];
    if (!g.cost.node_cpu_seconds.empty()) cpu_seconds += g.cost.node_cpu_seconds[n];
  }
  if (json) {
    nlohmann::ordered_json doc;
    doc["policy"] = g.grouping.policy;
    if (!g.policy_reason.empty()) doc["policy_reason"] = g.policy_reason;
    doc["predicted_seconds"] = e.prediction.seconds;
    doc["alternatives"] = e.alternatives;
    doc["cost_model"] = {{"dbt_startup_seconds", g.cost.startup_seconds},
                         {"hooks_per_batch", g.cost.hooks},
                         {"hook_seconds", g.cost.hook_seconds},
                         {"timed_nodes", timed},
                         {"nodes", g.graph.nodes.size()},
                         {"node_seconds", node_seconds},
                         {"node_cpu_seconds", cpu_seconds},
                         {"jobs", g.cost.jobs},
                         {"cores", g.cost.cores},
                         {"pools", g.cost.pools},
                         {"threads", g.cost.threads}};
    doc["critical_path"] = batch_names(e.prediction.critical_path);
    doc["critical_path_seconds"] = e.prediction.critical_path_seconds;
    doc["cpu_bound_seconds"] = e.prediction.cpu_bound_seconds;
    nlohmann::ordered_json batches = nlohmann::ordered_json::array();
    for (size_t b = 0; b < partition.batches.size(); ++b) {
      const Batch& batch = partition.batches[b];
      std::vector<std::string> members;
      for (int m : batch.members) members.push_back(g.graph.nodes[m].unique_id);
      nlohmann::ordered_json item = {{"name", batch.name},
                                     {"members", members},
                                     {"upstream", batch_names(batch.deps)},
                                     {"threads", g.settings[b].threads},
                                     {"predicted_seconds", e.prediction.batch_seconds[b]},
                                     {"predicted_cpu_seconds", e.prediction.batch_cpu_seconds[b]}};
      if (!batch.split_from.empty()) item["split_from"] = batch.split_from;
      if (!batch.split_path.empty()) {
        std::vector<std::string> path;
        for (int n : batch.split_path) path.push_back(g.graph.nodes[n].unique_id);
        item["split_path"] = path;
      }
      batches.push_back(std::move(item));
    }
    doc["batches"] = std::move(batches);
    fmt::print("{}\n", doc.dump(2));
    return 0;
  }
  std::vector<std::string> others;
  for (const auto& [policy, seconds] : e.alternatives)
    if (policy != g.grouping.policy) others.push_back(fmt::format("{} {}", policy, Seconds(seconds)));
  fmt::print("policy {}{}: predicted build {} (other policies: {})\n", g.grouping.policy,
             g.policy_reason.empty() ? "" : " (" + g.policy_reason + ")",
             Seconds(e.prediction.seconds), Join(others, ", "));
  std::string pools;  // the policy file's limits on a server
  for (const auto& [name, depth] : g.cost.pools) pools += fmt::format(", at most {} in pool {}", depth, name);
  fmt::print("cost model: dbt start-up {} per batch{}; {} of {} nodes timed by earlier runs, the "
             "others {} each; {} batch{} at a time{}; {} dbt threads where the policy sets none\n",
             Seconds(g.cost.startup_seconds),
             g.cost.hooks == 0 ? ""
                               : fmt::format(", then {} on-run-start/end hook{} of {} each",
                                             g.cost.hooks, g.cost.hooks == 1 ? "" : "s",
                                             Seconds(g.cost.hook_seconds)),
             timed, g.graph.nodes.size(), Seconds(kUnknownNodeSeconds),
             g.cost.jobs, g.cost.jobs == 1 ? "" : "es", pools, g.cost.threads);
  fmt::print("dbt's own CPU: {} of the nodes' {} (a dbt process runs its Python on one core; "
             "batches side by side share {} core{})\n",
             Seconds(cpu_seconds), Seconds(node_seconds), g.cost.cores, g.cost.cores == 1 ? "" : "s");
  fmt::print("critical path: {}\n", Join(batch_names(e.prediction.critical_path), " -> "));
  fmt::print("{}\n\n", DescribeBounds(e.prediction, g.cost.cores));
  for (size_t b = 0; b < partition.batches.size(); ++b) {
    const Batch& batch = partition.batches[b];
    fmt::print("{}: {}; {} threads; predicted {}\n", batch.name, DescribeMembers(g.graph, batch),
               g.settings[b].threads > 0 ? std::to_string(g.settings[b].threads) : "profile's",
               Seconds(e.prediction.batch_seconds[b]));
    std::vector<std::string> upstream = batch_names(batch.deps);
    fmt::print("  upstream: {}\n", upstream.empty() ? "none" : Join(upstream, ", "));
    if (!batch.split_from.empty())
      fmt::print("  split from {}: one of its nodes failed; merged back once all succeed\n", batch.split_from);
    if (!batch.split_path.empty())
      fmt::print("  its group was split: {} would make a cycle between batches\n",
                 SplitPath(g, batch));
    std::vector<std::string> members;
    for (int m : batch.members) members.push_back(g.names[m]);
    fmt::print("  members: {}\n", Join(members, ", "));
  }
  return 0;
}

int WriteGraph(CommandRunner& runner, Disk& disk, const Generation& g, bool nodes, bool svg) {
  const Partition& partition = g.grouping.partition;
  // Names are plain (SafeKey, dbt identifiers); a label's "\n" is DOT's line break.
  auto quoted = [](const std::string& s) {
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\\\"") : std::string(1, c);
    return out + "\"";
  };
  std::string dot = "digraph pa_gen {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=Helvetica];\n";
  if (!nodes) {
    for (const Batch& batch : partition.batches)
      dot += fmt::format("  {} [label={}];\n", quoted(batch.name),
                         quoted(batch.name + "\\n" + DescribeMembers(g.graph, batch)));
    for (const Batch& batch : partition.batches)
      for (int d : batch.deps)
        dot += fmt::format("  {} -> {};\n", quoted(partition.batches[d].name), quoted(batch.name));
  } else {
    for (size_t b = 0; b < partition.batches.size(); ++b) {
      dot += fmt::format("  subgraph {} {{\n    label={};\n", quoted("cluster_" + partition.batches[b].name),
                         quoted(partition.batches[b].name));
      for (int m : partition.batches[b].members) {
        const char* shape = g.graph.nodes[m].IsTest() ? "ellipse" : "box";
        dot += fmt::format("    {} [shape={}];\n", quoted(g.names[m]), shape);
      }
      dot += "  }\n";
    }
    for (size_t n = 0; n < g.graph.nodes.size(); ++n)
      for (int d : g.graph.nodes[n].deps)
        dot += fmt::format("  {} -> {};\n", quoted(g.names[d]), quoted(g.names[n]));
  }
  dot += "}\n";
  if (!svg) {
    fmt::print("{}", dot);
    return 0;
  }
  fs::path dot_tool = FindInPath("dot");
  if (dot_tool.empty()) {
    fmt::print(stderr, "pa-gen: error: --svg needs Graphviz's `dot` (apt-get install graphviz)\n");
    return 2;
  }
  // dot reads the text from a temporary file, outside the project: graph is
  // read-only and writes nothing there. A program reads it, so it is a real
  // file even under a read-only run's overlay (Disk::Beneath).
  Disk& beneath = disk.Beneath();
  fs::path file;
  std::string err;
  if (!beneath.WriteTempFile("graph.dot", dot, &file, &err)) {
    fmt::print(stderr, "pa-gen: error: {}\n", err);
    return 2;
  }
  CommandRequest render;
  render.argv = {dot_tool.string(), "-Tsvg", file.string()};
  CommandResult result;
  bool ran = runner.Run(render, &result, &err);
  beneath.RemoveFile(file);
  if (!ran) {
    fmt::print(stderr, "pa-gen: error: {}\n", err);
    return 2;
  }
  return result.exit_code == 0 ? 0 : 2;
}
