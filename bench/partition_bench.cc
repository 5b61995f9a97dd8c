// Times PartitionGraph on random DAGs shaped like large dbt projects.
// Usage: partition_bench [NODES] [RUNS] (default 50000 nodes, 7 runs).
//
// The generated project has layers like seeds -> staging -> intermediate ->
// marts: a model reads one to three models, mostly from the layer before
// its own, sometimes from earlier in its own layer (chains) or from any
// earlier layer. About 40% of the nodes are tests on one or two models.
// Node indices follow unique_id order, not dependency order, as in a real
// graph. Group keys either follow the layers (each layer has its own
// folders, a few models sit in another layer's folder, which is what splits
// groups) or are random among all folders (every edge may change group,
// the worst case for the merge pass).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "group/partition.h"

namespace {

struct Shape {
  int nodes;
  int folders;
  bool layered_keys;
};

struct Project {
  Graph graph;
  std::vector<std::string> keys;
  std::vector<std::string> names;
};

constexpr int kLayers = 8;
constexpr double kTestShare = 0.4;

Project MakeProject(const Shape& shape, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto below = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };

  const int models = static_cast<int>(shape.nodes * (1 - kTestShare));
  const int tests = shape.nodes - models;
  // Models in creation (dependency) order; layer_start[l] is the first of layer l.
  std::vector<int> layer_start(kLayers + 1);
  for (int l = 0; l <= kLayers; ++l)
    layer_start[l] = static_cast<int>(int64_t{models} * l / kLayers);
  std::vector<int> layer_of(models);
  for (int l = 0; l < kLayers; ++l)
    for (int p = layer_start[l]; p < layer_start[l + 1]; ++p) layer_of[p] = l;

  // Index of each model: a shuffle, as unique_id order ignores dependencies.
  // Tests come after the models, as "test." sorts after "model.".
  std::vector<int> index_of(models);
  std::iota(index_of.begin(), index_of.end(), 0);
  std::shuffle(index_of.begin(), index_of.end(), rng);

  Project project;
  project.graph.nodes.resize(models + tests);
  project.keys.resize(models + tests);
  const int folders_per_layer = std::max(1, shape.folders / kLayers);
  for (int p = 0; p < models; ++p) {
    const int layer = layer_of[p];
    std::set<int> parents;
    if (layer > 0) {
      const int want = 1 + below(3);
      const int prev = layer_start[layer - 1];
      while (static_cast<int>(parents.size()) < want) {
        double r = unit(rng);
        if (r < 0.7 || p == layer_start[layer]) {
          parents.insert(prev + below(layer_start[layer] - prev));
        } else if (r < 0.9) {
          // A recent model of the same layer: chains inside a folder.
          parents.insert(p - 1 - below(std::min(20, p - layer_start[layer])));
        } else {
          parents.insert(below(layer_start[layer]));
        }
      }
    }
    Node& node = project.graph.nodes[index_of[p]];
    node.kind = layer == 0 ? NodeKind::kSeed : NodeKind::kModel;
    for (int q : parents) node.deps.push_back(index_of[q]);
    int folder = below(shape.folders);
    if (shape.layered_keys && unit(rng) < 0.97)
      folder = std::min(shape.folders - 1, layer * folders_per_layer + below(folders_per_layer));
    project.keys[index_of[p]] = fmt::format("folder{:03}", folder);
  }
  for (int t = 0; t < tests; ++t) {
    Node& node = project.graph.nodes[models + t];
    node.kind = NodeKind::kTest;
    const int on = below(models);
    node.deps.push_back(index_of[on]);
    // A relationships test also reads a model of an earlier layer.
    if (unit(rng) < 0.15 && layer_of[on] > 0)
      node.deps.push_back(index_of[below(layer_start[layer_of[on]])]);
  }
  for (int i = 0; i < models + tests; ++i) {
    Node& node = project.graph.nodes[i];
    std::sort(node.deps.begin(), node.deps.end());
    node.deps.erase(std::unique(node.deps.begin(), node.deps.end()), node.deps.end());
    node.name = fmt::format("{}{:05}", node.IsTest() ? "test_" : "model_", i);
    node.unique_id = (node.IsTest() ? "test.bench." : "model.bench.") + node.name;
    project.names.push_back(node.name);
  }
  return project;
}

// Milliseconds of processor time this thread has used: unlike the wall
// clock, hardly changed by other processes on a busy machine.
double CpuMs() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void Run(const Shape& shape, int runs) {
  Project project = MakeProject(shape, 1234 + shape.folders);
  std::vector<double> wall, cpu;
  Partition partition;
  for (int r = 0; r < runs; ++r) {
    auto start = std::chrono::steady_clock::now();
    double cpu_start = CpuMs();
    partition = PartitionGraph(project.graph, project.keys, project.names);
    cpu.push_back(CpuMs() - cpu_start);
    auto end = std::chrono::steady_clock::now();
    wall.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  int split = 0;
  for (const Batch& batch : partition.batches) split += !batch.split_path.empty();
  fmt::print("{:>6} nodes, {:>3} folders, {:<7} keys: {:>5} batches ({:>4} of split groups): "
             "median {:6.1f} ms, cpu {:6.1f} ms\n",
             shape.nodes, shape.folders, shape.layered_keys ? "layered" : "random",
             partition.batches.size(), split, Median(wall), Median(cpu));
}

}  // namespace

int main(int argc, char** argv) {
  const int nodes = argc > 1 ? std::atoi(argv[1]) : 50000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 7;
  if (nodes < 100 || runs < 1) {
    fmt::print(stderr, "usage: partition_bench [NODES >= 100] [RUNS >= 1]\n");
    return 2;
  }
  for (int folders : {20, 200})
    for (bool layered : {true, false}) Run({nodes, folders, layered}, runs);
  return 0;
}
