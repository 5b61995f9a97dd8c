#include "group/partition.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <numeric>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace {

using Strings = std::vector<std::string>;
using Ints = std::vector<int>;

// A graph with its group keys and short names, as PartitionGraph takes them.
struct Case {
  Graph graph;
  Strings keys;   // "" for tests
  Strings names;  // unique
};

// Adds node `i` (unique_id "model.p.nNNNN", so index order is unique_id order).
Node MakeNode(int i, bool test, Ints deps) {
  Node node;
  node.unique_id = fmt::format("model.p.n{:04}", i);
  node.name = fmt::format("{}n{:04}", test ? "t_" : "", i);
  node.kind = test ? NodeKind::kTest : NodeKind::kModel;
  node.fqn = {"p", node.name};
  std::sort(deps.begin(), deps.end());
  node.deps = std::move(deps);
  return node;
}

// ---------------------------------------------------------------------------
// Random DAGs.

struct Shape {
  int nodes;
  int num_keys;         // 1..26
  double test_share;    // chance that a node is a test
  double mean_parents;  // parents per node, roughly
  bool layered;         // keys follow the topological position (like staging -> marts)
};

// Nodes get positions 0..n-1 in a random topological order, then a random
// index, so that index order and dependency order disagree. Tests have no
// children; a test may have no parent at all.
Case RandomCase(std::mt19937& rng, const Shape& shape) {
  const int n = shape.nodes;
  Ints index_at(n);
  std::iota(index_at.begin(), index_at.end(), 0);
  std::shuffle(index_at.begin(), index_at.end(), rng);

  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<bool> is_test(n);
  for (int p = 0; p < n; ++p) is_test[p] = unit(rng) < shape.test_share;

  std::vector<Ints> deps(n);  // by index
  Ints candidates;            // positions of non-tests so far
  std::poisson_distribution<int> parents(shape.mean_parents);
  for (int p = 0; p < n; ++p) {
    std::set<int> chosen;
    int want = std::min<int>(parents(rng), static_cast<int>(candidates.size()));
    if (is_test[p] && want == 0 && !candidates.empty() && unit(rng) < 0.9) want = 1;
    while (static_cast<int>(chosen.size()) < want) {
      int c = static_cast<int>(candidates.size());
      // Mostly near neighbours (long chains), sometimes anywhere (long edges).
      int pick = unit(rng) < 0.6 ? c - 1 - std::uniform_int_distribution<int>(0, std::min(c, 4) - 1)(rng)
                                 : std::uniform_int_distribution<int>(0, c - 1)(rng);
      chosen.insert(candidates[pick]);
    }
    for (int q : chosen) deps[index_at[p]].push_back(index_at[q]);
    if (!is_test[p]) candidates.push_back(p);
  }

  Case c;
  c.keys.resize(n);
  std::uniform_int_distribution<int> any_key(0, shape.num_keys - 1);
  for (int p = 0; p < n; ++p) {
    int i = index_at[p];
    if (is_test[p]) continue;
    int k = any_key(rng);
    if (shape.layered && unit(rng) < 0.85) k = std::min(shape.num_keys - 1, p * shape.num_keys / n);
    c.keys[i] = std::string(1, static_cast<char>('a' + k));
  }
  std::vector<bool> test_at_index(n);
  for (int p = 0; p < n; ++p) test_at_index[index_at[p]] = is_test[p];
  for (int i = 0; i < n; ++i) {
    c.graph.nodes.push_back(MakeNode(i, test_at_index[i], deps[i]));
    c.names.push_back(c.graph.nodes.back().name);
  }
  return c;
}

// Bit sets over node or batch indices.
class Bits {
 public:
  explicit Bits(int n = 0) : words_((n + 63) / 64) {}
  void Set(int i) { words_[i / 64] |= uint64_t{1} << (i % 64); }
  bool Has(int i) const { return (words_[i / 64] >> (i % 64)) & 1; }
  void Or(const Bits& other) {
    for (size_t w = 0; w < words_.size(); ++w) words_[w] |= other.words_[w];
  }
  void And(const Bits& other) {
    for (size_t w = 0; w < words_.size(); ++w) words_[w] &= other.words_[w];
  }
  void AndNot(const Bits& other) {
    for (size_t w = 0; w < words_.size(); ++w) words_[w] &= ~other.words_[w];
  }
  bool Any() const {
    for (uint64_t w : words_)
      if (w) return true;
    return false;
  }

 private:
  std::vector<uint64_t> words_;
};

// Kahn's algorithm over `deps` (parents of each vertex); empty if cyclic.
Ints TopoOrder(const std::vector<Ints>& deps) {
  const int n = static_cast<int>(deps.size());
  std::vector<Ints> children(n);
  Ints pending(n);
  for (int v = 0; v < n; ++v) {
    pending[v] = static_cast<int>(deps[v].size());
    for (int d : deps[v]) children[d].push_back(v);
  }
  std::queue<int> ready;
  for (int v = 0; v < n; ++v)
    if (pending[v] == 0) ready.push(v);
  Ints order;
  while (!ready.empty()) {
    int v = ready.front();
    ready.pop();
    order.push_back(v);
    for (int c : children[v])
      if (--pending[c] == 0) ready.push(c);
  }
  if (static_cast<int>(order.size()) != n) order.clear();
  return order;
}

// reach[v]: every vertex reachable from v by one or more edges.
std::vector<Bits> Descendants(const std::vector<Ints>& deps, const Ints& order) {
  const int n = static_cast<int>(deps.size());
  std::vector<Bits> reach(n, Bits(n));
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    for (int d : deps[*it]) {
      reach[d].Set(*it);
      reach[d].Or(reach[*it]);
    }
  }
  return reach;
}

// Where test `t` belongs when it does not run alone: the batch of its
// parents that every other batch of theirs reaches (`reach`, from
// Descendants over the batch graph); -1 when there is none.
int LastParentBatch(const Graph& g, const Partition& part, const std::vector<Bits>& reach, int t) {
  std::set<int> parent_batches;
  for (int d : g.nodes[t].deps) parent_batches.insert(part.batch_of[d]);
  int last = -1;
  for (int p : parent_batches) {
    bool after_all = true;
    for (int q : parent_batches) after_all = after_all && (q == p || reach[q].Has(p));
    if (after_all) last = p;
  }
  return last;
}

// Tests without parents all sit in one batch: one that runs a model, seed
// or snapshot and that no batch waits for, or, when every such batch is
// waited for, a batch of their own. "" when they are there.
std::string CheckParentlessTests(const Graph& g, const Partition& part) {
  std::set<int> homes;
  for (size_t v = 0; v < g.nodes.size(); ++v)
    if (g.nodes[v].IsTest() && g.nodes[v].deps.empty()) homes.insert(part.batch_of[v]);
  if (homes.empty()) return "";
  if (homes.size() > 1) return "tests without parents are in different batches";
  auto waited_for = [&](int b) {
    return std::any_of(part.batches.begin(), part.batches.end(), [&](const Batch& o) {
      return std::binary_search(o.deps.begin(), o.deps.end(), b);
    });
  };
  auto runs_node = [&](int b) {
    const Ints& members = part.batches[b].members;
    return std::any_of(members.begin(), members.end(), [&](int m) { return !g.nodes[m].IsTest(); });
  };
  const int home = *homes.begin();
  if (runs_node(home))
    return waited_for(home) ? fmt::format("batch {} holds tests without parents, and another "
                                          "batch waits for it", part.batches[home].name)
                            : "";
  for (int b = 0; b < static_cast<int>(part.batches.size()); ++b)
    if (runs_node(b) && !waited_for(b))
      return fmt::format("tests without parents run apart although batch {} could hold them",
                         part.batches[b].name);
  for (int m : part.batches[home].members)
    if (!g.nodes[m].deps.empty()) return "the batch of the tests without parents holds others";
  return "";
}

// What a batch name may hold: letters, digits, '_', '-', '.'; the rest becomes '_'.
std::string Sanitised(const std::string& key) {
  std::string out;
  for (char ch : key) out.push_back(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' ||
                                            ch == '-' || ch == '.'
                                        ? ch
                                        : '_');
  return out;
}

// "x-2" -> "x": the suffix that tells apart keys that sanitise alike.
std::string WithoutCollisionSuffix(const std::string& name) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash + 1 == name.size()) return name;
  for (size_t i = dash + 1; i < name.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return name;
  return name.substr(0, dash);
}

// Checks (g), (a), (b) and (c), what every partition promises; fills in
// the batch graph.
std::string CheckBatches(const Graph& g, const Partition& part, std::vector<Ints>* batch_deps,
                         Ints* batch_order) {
  const int n = static_cast<int>(g.nodes.size());
  const int nb = static_cast<int>(part.batches.size());

  // (g) Names unique and sorted.
  for (int b = 1; b < nb; ++b) {
    if (!(part.batches[b - 1].name < part.batches[b].name))
      return fmt::format("names not strictly sorted: '{}' then '{}'", part.batches[b - 1].name,
                         part.batches[b].name);
  }

  // (a) Every node in exactly one batch; batch_of agrees with members.
  if (static_cast<int>(part.batch_of.size()) != n) return "batch_of has the wrong size";
  Ints seen(n, 0);
  for (int b = 0; b < nb; ++b) {
    const Ints& members = part.batches[b].members;
    if (members.empty()) return fmt::format("batch {} is empty", part.batches[b].name);
    if (!std::is_sorted(members.begin(), members.end()))
      return fmt::format("members of {} not ascending", part.batches[b].name);
    for (int m : members) {
      if (m < 0 || m >= n) return "member out of range";
      ++seen[m];
      if (part.batch_of[m] != b)
        return fmt::format("batch_of[{}] = {} but the node is in batch {}", m, part.batch_of[m], b);
    }
  }
  for (int v = 0; v < n; ++v)
    if (seen[v] != 1) return fmt::format("node {} is in {} batches", v, seen[v]);

  // (b) Batch deps are exactly the cross-batch node edges, plus, for a test
  // apart from all its parents, an edge to every batch of a node downstream
  // of all of them (`dbt build` makes such nodes wait for the test); acyclic.
  std::vector<Ints> node_deps(n);
  for (int v = 0; v < n; ++v) node_deps[v] = g.nodes[v].deps;
  Ints node_order = TopoOrder(node_deps);
  if (static_cast<int>(node_order.size()) != n) return "test bug: the node graph has a cycle";
  std::vector<Bits> below = Descendants(node_deps, node_order);
  std::vector<std::set<int>> expected(nb);
  for (int b = 0; b < nb; ++b)
    for (int m : part.batches[b].members)
      for (int d : g.nodes[m].deps)
        if (part.batch_of[d] != b) expected[b].insert(part.batch_of[d]);
  for (int t = 0; t < n; ++t) {
    const Ints& parents = g.nodes[t].deps;
    if (!g.nodes[t].IsTest() || parents.empty()) continue;
    if (std::any_of(parents.begin(), parents.end(),
                    [&](int p) { return part.batch_of[p] == part.batch_of[t]; }))
      continue;
    for (int x = 0; x < n; ++x) {
      bool gated = !g.nodes[x].IsTest() && part.batch_of[x] != part.batch_of[t] &&
                   std::all_of(parents.begin(), parents.end(), [&](int p) { return below[p].Has(x); });
      if (gated) expected[part.batch_of[x]].insert(part.batch_of[t]);
    }
  }
  batch_deps->assign(nb, {});
  for (int b = 0; b < nb; ++b) {
    Ints want(expected[b].begin(), expected[b].end());
    if (part.batches[b].deps != want)
      return fmt::format("deps of {} are [{}], the node edges say [{}]", part.batches[b].name,
                         fmt::join(part.batches[b].deps, ","), fmt::join(want, ","));
    (*batch_deps)[b] = want;
  }
  *batch_order = TopoOrder(*batch_deps);
  if (static_cast<int>(batch_order->size()) != nb) return "the batch graph has a cycle";

  // (c) Convex: no node outside a batch is both below and above it.
  std::vector<Ints> node_children(n);
  for (int v = 0; v < n; ++v)
    for (int d : node_deps[v]) node_children[d].push_back(v);
  std::vector<Bits> above = Descendants(node_children, Ints(node_order.rbegin(), node_order.rend()));
  for (int b = 0; b < nb; ++b) {
    Bits inside(n), down(n), up(n);
    for (int m : part.batches[b].members) {
      inside.Set(m);
      down.Or(below[m]);
      up.Or(above[m]);
    }
    down.And(up);
    down.AndNot(inside);
    if (down.Any()) return fmt::format("batch {} is not convex", part.batches[b].name);
  }
  return "";
}

// Checks every promise PartitionGraph makes; returns the first broken one.
std::string CheckPartition(const Case& c, const Partition& part) {
  const Graph& g = c.graph;
  const int n = static_cast<int>(g.nodes.size());
  const int nb = static_cast<int>(part.batches.size());
  std::vector<Ints> batch_deps;
  Ints batch_order;
  if (std::string problem = CheckBatches(g, part, &batch_deps, &batch_order); !problem.empty())
    return problem;

  // Non-test batches: one key each, named key or key.1 .. key.N.
  std::map<std::string, Ints> batches_of_key;
  std::vector<bool> test_batch(nb, false);
  for (int b = 0; b < nb; ++b) {
    std::set<std::string> keys;
    for (int m : part.batches[b].members)
      if (!c.keys[m].empty()) keys.insert(c.keys[m]);
    if (keys.empty()) {
      test_batch[b] = true;
      continue;
    }
    if (keys.size() != 1) return fmt::format("batch {} mixes keys", part.batches[b].name);
    batches_of_key[*keys.begin()].push_back(b);
  }
  for (const auto& [key, batches] : batches_of_key) {
    std::set<std::string> want, got;
    for (size_t i = 0; i < batches.size(); ++i) {
      std::string safe = Sanitised(key);
      want.insert(batches.size() == 1 ? safe : fmt::format("{}.{}", safe, i + 1));
      got.insert(WithoutCollisionSuffix(part.batches[batches[i]].name));
    }
    if (want != got)
      return fmt::format("batches of key {} are named [{}]", key, fmt::join(got, ","));
  }

  // (d) Locally minimal: merging two batches of one key would make a cycle,
  // that is, one reaches the other through a third batch.
  std::vector<Bits> batch_below = Descendants(batch_deps, batch_order);
  std::vector<Ints> batch_children(nb);
  for (int b = 0; b < nb; ++b)
    for (int d : batch_deps[b]) batch_children[d].push_back(b);
  auto reaches_via = [&](int from, int to) {
    for (int mid : batch_children[from])
      if (mid != to && batch_below[mid].Has(to)) return true;
    return false;
  };
  for (const auto& [key, batches] : batches_of_key) {
    for (size_t i = 0; i < batches.size(); ++i) {
      for (size_t j = i + 1; j < batches.size(); ++j) {
        int x = batches[i], y = batches[j];
        if (!reaches_via(x, y) && !reaches_via(y, x))
          return fmt::format("batches {} and {} could be merged", part.batches[x].name,
                             part.batches[y].name);
      }
    }
  }

  // (h) A batch of a split group says why: a path from it to another batch
  // of its group, or back, through a third batch. Each step is a dependency
  // or a jump inside a batch.
  for (const auto& [key, batches] : batches_of_key) {
    for (int b : batches) {
      const Ints& path = part.batches[b].split_path;
      if (batches.size() == 1) {
        if (!path.empty())
          return fmt::format("unsplit batch {} has a split path", part.batches[b].name);
        continue;
      }
      if (path.size() < 3)
        return fmt::format("split batch {} has no split path", part.batches[b].name);
      for (int v : path)
        if (v < 0 || v >= n) return "split path node out of range";
      int first = part.batch_of[path.front()], last = part.batch_of[path.back()];
      if ((first != b && last != b) || first == last || c.keys[path.front()] != key ||
          c.keys[path.back()] != key)
        return fmt::format("split path of {} does not join it to another batch of {}",
                           part.batches[b].name, key);
      bool third = false;
      for (size_t i = 0; i < path.size(); ++i) {
        int at = part.batch_of[path[i]];
        third = third || (at != first && at != last);
        if (i == 0) continue;
        const Ints& deps = g.nodes[path[i]].deps;
        bool reads = std::binary_search(deps.begin(), deps.end(), path[i - 1]);
        if (!reads && at != part.batch_of[path[i - 1]])
          return fmt::format("split path of {}: node {} neither reads node {} nor shares its batch",
                             part.batches[b].name, path[i], path[i - 1]);
      }
      if (!third) return fmt::format("split path of {} has no third batch", part.batches[b].name);
    }
  }
  for (int b = 0; b < nb; ++b) {
    if (test_batch[b] && !part.batches[b].split_path.empty())
      return fmt::format("test batch {} has a split path", part.batches[b].name);
  }

  // (e) A test joins the batch of its parents when they share one, or the
  // one of their batches that every other one reaches; else it runs alone
  // in a batch named after it.
  if (std::string problem = CheckParentlessTests(g, part); !problem.empty()) return problem;
  std::set<int> parentless_batches;
  for (int v = 0; v < n; ++v) {
    if (!c.keys[v].empty()) continue;
    if (g.nodes[v].deps.empty()) {
      parentless_batches.insert(part.batch_of[v]);
      continue;
    }
    const int last = LastParentBatch(g, part, batch_below, v);
    const Batch& mine = part.batches[part.batch_of[v]];
    if (last >= 0) {
      if (part.batch_of[v] != last)
        return fmt::format("test {} is not in the last of its parents' batches", v);
    } else if (mine.members != Ints{v} || mine.name != c.names[v]) {
      return fmt::format("test {} across batches is in batch {} of {} nodes", v, mine.name,
                         mine.members.size());
    }
  }
  for (int b = 0; b < nb; ++b) {
    if (test_batch[b] && part.batches[b].members.size() != 1 && !parentless_batches.count(b))
      return fmt::format("test batch {} holds {} tests", part.batches[b].name,
                         part.batches[b].members.size());
  }
  return "";
}

std::string Describe(const Partition& part) {
  std::string s;
  for (const Batch& b : part.batches)
    s += fmt::format("{}: [{}] deps [{}]\n", b.name, fmt::join(b.members, ","),
                     fmt::join(b.deps, ","));
  return s;
}

std::string Describe(const Case& c) {
  std::string s;
  for (size_t v = 0; v < c.graph.nodes.size(); ++v)
    s += fmt::format("{} key '{}' deps [{}]\n", v, c.keys[v], fmt::join(c.graph.nodes[v].deps, ","));
  return s;
}

// Partitions twice, checks (a)-(e) and (g) on the first, and (f) that both agree.
void CheckCase(const Case& c, const std::string& label) {
  Partition first = PartitionGraph(c.graph, c.keys, c.names);
  Partition second = PartitionGraph(c.graph, c.keys, c.names);
  std::string problem = CheckPartition(c, first);
  ASSERT_EQ(problem, "") << label << "\n" << Describe(c) << "--\n" << Describe(first);
  ASSERT_EQ(Describe(first), Describe(second)) << label;
  ASSERT_EQ(first.batch_of, second.batch_of) << label;
}

TEST(PartitionProperty, ThousandsOfSmallRandomDags) {
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> size(1, 60), keys(1, 6);
  std::uniform_real_distribution<double> share(0.0, 0.35), parents(0.3, 3.0);
  for (int i = 0; i < 3000; ++i) {
    Shape shape{size(rng), keys(rng), share(rng), parents(rng), i % 3 == 0};
    Case c = RandomCase(rng, shape);
    CheckCase(c, fmt::format("small DAG #{}", i));
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(PartitionProperty, LargeRandomDags) {
  const Shape shapes[] = {
      {500, 6, 0.3, 2.0, false},   {800, 3, 0.2, 1.5, true},     {1000, 2, 0.1, 1.0, false},
      {1200, 6, 0.25, 3.0, true},  {1500, 4, 0.3, 2.5, false},   {2000, 5, 0.3, 2.0, true},
      {3000, 12, 0.3, 2.0, false}, {4000, 20, 0.35, 2.5, true},  {5000, 26, 0.3, 2.0, false},
      {5000, 8, 0.4, 3.0, true},   {5000, 16, 0.2, 1.2, false},
  };
  int i = 0;
  for (const Shape& shape : shapes) {
    std::mt19937 rng(7919 + i);
    Case c = RandomCase(rng, shape);
    CheckCase(c, fmt::format("large DAG #{} ({} nodes)", i, shape.nodes));
    if (::testing::Test::HasFatalFailure()) return;
    ++i;
  }
}

// The checker itself must catch a mergeable pair, or the property test proves nothing.
TEST(PartitionProperty, CheckerRejectsAMergeablePair) {
  Case c;
  c.graph.nodes = {MakeNode(0, false, {}), MakeNode(1, false, {0})};
  c.keys = {"a", "a"};
  c.names = {"n0000", "n0001"};
  Partition split;
  split.batches = {{"a.1", {0}, {}}, {"a.2", {1}, {0}}};
  split.batch_of = {0, 1};
  EXPECT_EQ(CheckPartition(c, split), "batches a.1 and a.2 could be merged");
  Partition whole = PartitionGraph(c.graph, c.keys, c.names);
  EXPECT_EQ(CheckPartition(c, whole), "");
}

// ---------------------------------------------------------------------------
// Hand-written cases with exact names.

struct Spec {
  std::string key;  // "" for a test
  Ints deps;
};

Case Build(const std::vector<Spec>& specs) {
  Case c;
  for (size_t i = 0; i < specs.size(); ++i) {
    c.graph.nodes.push_back(MakeNode(static_cast<int>(i), specs[i].key.empty(), specs[i].deps));
    c.keys.push_back(specs[i].key);
    c.names.push_back(c.graph.nodes.back().name);
  }
  return c;
}

Partition PartitionChecked(const Case& c) {
  Partition part = PartitionGraph(c.graph, c.keys, c.names);
  EXPECT_EQ(CheckPartition(c, part), "") << Describe(part);
  return part;
}

TEST(PartitionGraph, EmptyGraph) {
  Partition part = PartitionGraph(Graph{}, {}, {});
  EXPECT_TRUE(part.batches.empty());
  EXPECT_TRUE(part.batch_of.empty());
}

TEST(PartitionGraph, GroupSplitWhereKeepingItWholeMakesACycle) {
  // a1 -> b1 -> a2: "a" cannot be one batch.
  Case c = Build({{"a", {}}, {"a", {2}}, {"b", {0}}});
  Partition part = PartitionChecked(c);
  EXPECT_EQ(Describe(part),
            "a.1: [0] deps []\n"
            "a.2: [1] deps [2]\n"
            "b: [2] deps [0]\n");
  EXPECT_EQ(part.batch_of, (Ints{0, 1, 2}));
}

// The parts of a split group are part_of it (so `ninja a` builds them all);
// cutting a part keeps the group and adds the part, and what a cut part
// split node by node became stays in both.
TEST(PartitionGraph, SplitPartsArePartOfTheirGroup) {
  // a0 -> b2 -> a1; the test t3 of a0 and a1 joins a.2, which follows a.1.
  Case c = Build({{"a", {}}, {"a", {2}}, {"b", {0}}, {"", {0, 1}}});
  Partition part = PartitionChecked(c);
  ASSERT_EQ(Describe(part),
            "a.1: [0] deps []\n"
            "a.2: [1,3] deps [0,2]\n"
            "b: [2] deps [0]\n");
  EXPECT_EQ(part.batches[0].part_of, Strings{"a"});
  EXPECT_EQ(part.batches[1].part_of, Strings{"a"});
  EXPECT_EQ(part.batches[2].part_of, Strings{});

  // a.1 with two more models, cut in two: its chunks are parts of a and a.1.
  Case d = Build({{"a", {}}, {"a", {0}}, {"a", {1}}, {"a", {4}}, {"b", {2}}});
  Partition cut = PartitionChecked(d);
  ASSERT_EQ(Describe(cut),
            "a.1: [0,1,2] deps []\n"
            "a.2: [3] deps [2]\n"
            "b: [4] deps [0]\n");
  LimitBatchSize(d.graph, d.names, 2, &cut);
  ASSERT_EQ(Describe(cut),
            "a.1.1: [0,1] deps []\n"
            "a.1.2: [2] deps [0]\n"
            "a.2: [3] deps [3]\n"
            "b: [4] deps [1]\n");
  EXPECT_EQ(cut.batches[0].part_of, (Strings{"a", "a.1"}));
  EXPECT_EQ(cut.batches[1].part_of, (Strings{"a", "a.1"}));
  EXPECT_EQ(cut.batches[2].part_of, Strings{"a"});
  SplitIntoNodes(d.graph, d.names, {"a.1.1"}, &cut);
  for (const Batch& batch : cut.batches)
    if (batch.split_from == "a.1.1") EXPECT_EQ(batch.part_of, (Strings{"a", "a.1"})) << batch.name;
}

TEST(PartitionGraph, SplitBatchesSayWhy) {
  // A = {a1, a3}, B = {b2}, a1 -> b2 -> a3: A must split.
  Case c = Build({{"A", {}}, {"B", {0}}, {"A", {1}}});
  Partition part = PartitionChecked(c);
  ASSERT_EQ(Describe(part),
            "A.1: [0] deps []\n"
            "A.2: [2] deps [2]\n"
            "B: [1] deps [0]\n");
  EXPECT_EQ(part.batches[0].split_path, (Ints{0, 1, 2}));
  EXPECT_EQ(part.batches[1].split_path, (Ints{0, 1, 2}));
  EXPECT_EQ(part.batches[2].split_path, Ints{});
}

TEST(PartitionGraph, SplitPathJumpsInsideABatch) {
  // b1 and b3 share batch B without an edge between them: a0 -> b1, b3 -> a4
  // and b1 ~ b3 make the path 0 -> 1 (~) 3 -> 4.
  Case c = Build({{"A", {}}, {"B", {0}}, {"C", {}}, {"B", {2}}, {"A", {3}}});
  Partition part = PartitionChecked(c);
  ASSERT_EQ(Describe(part),
            "A.1: [0] deps []\n"
            "A.2: [4] deps [2]\n"
            "B: [1,3] deps [0,3]\n"
            "C: [2] deps []\n");
  EXPECT_EQ(part.batches[1].split_path, (Ints{0, 1, 3, 4}));
}

TEST(PartitionGraph, SplitPartsAreNumberedInDependencyOrder) {
  // Index order is the reverse of dependency order: a2 -> b1 -> a1.
  Case c = Build({{"a", {1}}, {"b", {2}}, {"a", {}}});
  EXPECT_EQ(Describe(PartitionChecked(c)),
            "a.1: [2] deps []\n"
            "a.2: [0] deps [2]\n"
            "b: [1] deps [0]\n");
}

TEST(PartitionGraph, IndependentNodeOfTheSameGroupDoesNotSplitIt) {
  // seeds s1, s2; staging: st0 with no parents, st1 <- s1, st2 <- s2; marts m <- st1, st2.
  Case c = Build({{"seeds", {}},
                  {"seeds", {}},
                  {"staging", {}},
                  {"staging", {0}},
                  {"staging", {1}},
                  {"marts", {3, 4}}});
  EXPECT_EQ(Describe(PartitionChecked(c)),
            "marts: [5] deps [2]\n"
            "seeds: [0,1] deps []\n"
            "staging: [2,3,4] deps [1]\n");
}

TEST(PartitionGraph, ChainInsideAGroupAfterAnotherGroupStaysWhole) {
  // x (staging) -> y (staging), and seed s -> y: ranks differ, one batch anyway.
  Case c = Build({{"seeds", {}}, {"staging", {}}, {"staging", {0, 1}}});
  EXPECT_EQ(Describe(PartitionChecked(c)),
            "seeds: [0] deps []\n"
            "staging: [1,2] deps [0]\n");
}

TEST(PartitionGraph, TestsFollowTheirParents) {
  // a0 -> b1; test t2 on a0 joins a, t3 on b1 joins b, and t4 on a0 and b1
  // joins b too, the batch that a leads to.
  Case c = Build({{"a", {}}, {"b", {0}}, {"", {0}}, {"", {1}}, {"", {0, 1}}});
  Partition part = PartitionChecked(c);
  EXPECT_EQ(Describe(part),
            "a: [0,2] deps []\n"
            "b: [1,3,4] deps [0]\n");
}

TEST(PartitionGraph, TestAcrossUnrelatedBatchesHoldsBackWhatNeedsAllItsParents) {
  // a0 and b1 are unrelated; t2 tests both, so it runs alone. c3 reads a0
  // and b1: `dbt build` makes it wait for t2. d4 reads a0 only: it does not.
  Case c = Build({{"a", {}}, {"b", {}}, {"", {0, 1}}, {"c", {0, 1}}, {"d", {0}}});
  Partition part = PartitionChecked(c);
  EXPECT_EQ(Describe(part),
            "a: [0] deps []\n"
            "b: [1] deps []\n"
            "c: [3] deps [0,1,4]\n"
            "d: [4] deps [0]\n"
            "t_n0002: [2] deps [0,1]\n");
}

TEST(PartitionGraph, TestOfTwoNodesInOneBatchJoinsIt) {
  Case c = Build({{"a", {}}, {"a", {0}}, {"", {0, 1}}});
  EXPECT_EQ(Describe(PartitionChecked(c)), "a: [0,1,2] deps []\n");
}

TEST(PartitionGraph, TestsWithoutParentsJoinABatchNothingWaitsFor) {
  // a0 <- b1; tests t2 and t3 read no node: they join b, which nothing waits for.
  Case c = Build({{"a", {}}, {"b", {0}}, {"", {}}, {"", {}}});
  EXPECT_EQ(Describe(PartitionChecked(c)),
            "a: [0] deps []\n"
            "b: [1,2,3] deps [0]\n");
}

TEST(PartitionGraph, TestsWithoutParentsAndNoModelShareOneBatch) {
  Case c = Build({{"", {}}, {"", {}}});
  EXPECT_EQ(Describe(PartitionChecked(c)), "t_n0000: [0,1] deps []\n");
}

TEST(PartitionGraph, UnsafeKeysAreSanitisedAndKeptApart) {
  // "my models" and "my_models" sanitise alike; the later one (by first member) gets -2.
  Case c = Build({{"my models", {}}, {"my_models", {}}, {"my models", {1}}});
  Partition part = PartitionChecked(c);
  EXPECT_EQ(Describe(part),
            "my_models: [0,2] deps [1]\n"
            "my_models-2: [1] deps []\n");
}

// The "-2" suffix given to the second of two keys that sanitise alike must
// not equal a third key: two batches would share a name (and a stamp file).
TEST(PartitionGraph, DeduplicatedNameCannotCollideWithAnotherKey) {
  Case c = Build({{"a b", {}}, {"a_b", {}}, {"a_b-2", {}}});
  Partition part = PartitionGraph(c.graph, c.keys, c.names);
  std::set<std::string> names;
  for (const Batch& b : part.batches) names.insert(b.name);
  EXPECT_EQ(names.size(), part.batches.size()) << Describe(part);
}

// ---------------------------------------------------------------------------
// Names that stay.

// `a` and `b` side by side, without an edge between them, in one graph whose
// index (unique_id) order keeps the order of each and mixes the two at
// random. `b`'s keys and names get a prefix or suffix so that they differ
// from `a`'s (its keys sort between a's: "a" < "a_x" < "b").
// index_of_a[i] is the index of a's node i.
Case SideBySide(const Case& a, const Case& b, std::mt19937& rng, Ints* index_of_a) {
  const int na = static_cast<int>(a.graph.nodes.size());
  const int nb = static_cast<int>(b.graph.nodes.size());
  std::vector<bool> from_a(na + nb, false);
  std::fill(from_a.begin(), from_a.begin() + na, true);
  std::shuffle(from_a.begin(), from_a.end(), rng);
  Ints index_of_b;
  index_of_a->clear();
  for (int i = 0; i < na + nb; ++i) (from_a[i] ? *index_of_a : index_of_b).push_back(i);
  Case c;
  int ia = 0, ib = 0;
  for (int i = 0; i < na + nb; ++i) {
    bool in_a = from_a[i];
    const Case& src = in_a ? a : b;
    const Ints& index_of = in_a ? *index_of_a : index_of_b;
    int j = in_a ? ia++ : ib++;
    Ints deps;
    for (int d : src.graph.nodes[j].deps) deps.push_back(index_of[d]);
    c.graph.nodes.push_back(MakeNode(i, src.graph.nodes[j].IsTest(), deps));
    c.keys.push_back(in_a || src.keys[j].empty() ? src.keys[j] : src.keys[j] + "_x");
    c.names.push_back(in_a ? src.names[j] : "other_" + src.names[j]);
  }
  return c;
}

// Ninja's log and pa-gen's state are keyed by batch name: a change in an
// unrelated part of the project (other keys, no edges to the rest) must
// leave the other batches' names and members alone.
TEST(PartitionProperty, NamesStayWhenAnUnrelatedPartChanges) {
  std::mt19937 rng(4242);
  std::uniform_int_distribution<int> size(1, 300), keys(1, 8);
  std::uniform_real_distribution<double> share(0.0, 0.35), parents(0.3, 3.0);
  int split_batches = 0;
  for (int i = 0; i < 200; ++i) {
    Case a = RandomCase(rng, {size(rng), keys(rng), share(rng), parents(rng), i % 2 == 0});
    Partition alone = PartitionGraph(a.graph, a.keys, a.names);
    for (const Batch& batch : alone.batches) split_batches += !batch.split_path.empty();
    // Another part of the project, and a different one.
    for (int variant = 0; variant < 2; ++variant) {
      Case b = RandomCase(rng, {size(rng), keys(rng), share(rng), parents(rng), variant == 0});
      Ints index_of_a;
      Case both = SideBySide(a, b, rng, &index_of_a);
      Partition with_b = PartitionChecked(both);
      // Tests without parents belong to no part: they go to one batch of
      // the whole project (CheckParentlessTests), so they are left out here.
      auto in_a_part = [](const Graph& g, const Ints& members) {
        Ints kept;
        for (int m : members)
          if (!g.nodes[m].IsTest() || !g.nodes[m].deps.empty()) kept.push_back(m);
        return kept;
      };
      for (const Batch& batch : alone.batches) {
        Ints own = in_a_part(a.graph, batch.members);
        if (own.empty()) continue;
        const Batch& there = with_b.batches[with_b.batch_of[index_of_a[own.front()]]];
        Ints members;
        for (int m : own) members.push_back(index_of_a[m]);
        ASSERT_EQ(there.name, batch.name) << "case " << i << "\n" << Describe(a);
        ASSERT_EQ(in_a_part(both.graph, there.members), members)
            << "case " << i << ", batch " << batch.name;
        Ints path;
        for (int v : batch.split_path) path.push_back(index_of_a[v]);
        ASSERT_EQ(there.split_path, path) << "case " << i << ", batch " << batch.name;
      }
    }
  }
  EXPECT_GT(split_batches, 100);  // or the test proves little
}

// ---------------------------------------------------------------------------
// Batches of at most N models.

int Executables(const Graph& g, const Ints& members) {
  return static_cast<int>(std::count_if(members.begin(), members.end(),
                                        [&](int m) { return !g.nodes[m].IsTest(); }));
}

// Checks what LimitBatchSize promises, `before` being its input.
std::string CheckLimited(const Case& c, const Partition& before, const Partition& after,
                         int max_members) {
  std::vector<Ints> after_deps;
  for (const Batch& b : after.batches) after_deps.push_back(b.deps);
  const std::vector<Bits> reach = Descendants(after_deps, TopoOrder(after_deps));
  const Graph& g = c.graph;
  std::vector<Ints> batch_deps;
  Ints batch_order;
  if (std::string problem = CheckBatches(g, after, &batch_deps, &batch_order); !problem.empty())
    return problem;
  if (std::string problem = CheckParentlessTests(g, after); !problem.empty()) return problem;
  std::map<std::string, const Batch*> by_name;
  for (const Batch& b : after.batches) by_name[b.name] = &b;
  for (const Batch& b : after.batches) {
    if (Executables(g, b.members) > max_members)
      return fmt::format("batch {} has {} models", b.name, Executables(g, b.members));
  }
  for (const Batch& old : before.batches) {
    const int size = Executables(g, old.members);
    // A batch left whole keeps its models; its tests may move, as (e) of
    // CheckPartition says, when a parent's batch was cut.
    auto models = [&](const Ints& members) {
      Ints out;
      for (int m : members)
        if (!g.nodes[m].IsTest()) out.push_back(m);
      return out;
    };
    if (size == 0) continue;
    if (size <= max_members) {
      auto it = by_name.find(old.name);
      if (it == by_name.end() || models(it->second->members) != models(old.members) ||
          it->second->split_path != old.split_path)
        return fmt::format("batch {} of {} models changed", old.name, size);
      continue;
    }
    // Chunks: as few as the limit allows, of even sizes, named after the batch.
    std::set<int> chunks;
    for (int m : old.members)
      if (!g.nodes[m].IsTest()) chunks.insert(after.batch_of[m]);
    const int want = (size + max_members - 1) / max_members;
    if (static_cast<int>(chunks.size()) != want)
      return fmt::format("batch {} of {} models is in {} chunks", old.name, size, chunks.size());
    int smallest = size, largest = 0;
    for (int b : chunks) {
      const Batch& chunk = after.batches[b];
      smallest = std::min(smallest, Executables(g, chunk.members));
      largest = std::max(largest, Executables(g, chunk.members));
      if (chunk.name.rfind(old.name + ".", 0) != 0 || chunk.split_path != old.split_path)
        return fmt::format("chunk {} of {} has the wrong name or split path", chunk.name, old.name);
      for (int m : chunk.members)
        if (!g.nodes[m].deps.empty() &&  // tests without parents go where CheckParentlessTests says
            !std::binary_search(old.members.begin(), old.members.end(), m))
          return fmt::format("chunk {} of {} holds node {} from elsewhere", chunk.name, old.name,
                             m);
    }
    if (largest - smallest > 1)
      return fmt::format("chunks of {} hold {} to {} models", old.name, smallest, largest);
    // A test stays with its parents (in the last of their chunks), or runs
    // alone when no chunk of theirs follows all the others.
    for (int m : old.members) {
      if (!g.nodes[m].IsTest()) continue;
      if (g.nodes[m].deps.empty()) continue;  // CheckParentlessTests
      const int last = LastParentBatch(g, after, reach, m);
      const Batch& mine = after.batches[after.batch_of[m]];
      if (last >= 0 ? after.batch_of[m] != last
                    : mine.members != Ints{m} || WithoutCollisionSuffix(mine.name) != c.names[m])
        return fmt::format("test {} of {} is in batch {}", m, old.name, mine.name);
    }
  }
  return "";
}

TEST(LimitBatchSize, ChainsStayTogether) {
  // Group g: chains a0 -> b2 -> c4 and d1 -> e3; test t5 on b2, t6 on c4 and
  // e3; h7 reads c4. At most 3: a b c, then d e, with no edge between them.
  Case c = Build({{"g", {}}, {"g", {}}, {"g", {0}}, {"g", {1}}, {"g", {2}},
                  {"", {2}}, {"", {3, 4}}, {"h", {4}}});
  Partition part = PartitionChecked(c);
  ASSERT_EQ(Describe(part),
            "g: [0,1,2,3,4,5,6] deps []\n"
            "h: [7] deps [0]\n");
  Partition before = part;
  LimitBatchSize(c.graph, c.names, 3, &part);
  EXPECT_EQ(CheckLimited(c, before, part, 3), "");
  EXPECT_EQ(Describe(part),
            "g.1: [0,2,4,5] deps []\n"
            "g.2: [1,3] deps []\n"
            "h: [7] deps [0]\n"
            "t_n0006: [6] deps [0,1]\n");
  EXPECT_EQ(part.batch_of, (Ints{0, 1, 0, 1, 0, 0, 3, 2}));
}

TEST(LimitBatchSize, ChunkNamesAvoidOtherBatches) {
  // Keys "a" (3 models) and "a.1": the first chunk of a cannot be "a.1".
  Case c = Build({{"a", {}}, {"a", {}}, {"a", {}}, {"a.1", {}}});
  Partition part = PartitionChecked(c);
  Partition before = part;
  LimitBatchSize(c.graph, c.names, 2, &part);
  EXPECT_EQ(CheckLimited(c, before, part, 2), "");
  EXPECT_EQ(Describe(part),
            "a.1: [3] deps []\n"
            "a.1-2: [0,1] deps []\n"
            "a.2: [2] deps []\n");
}

TEST(LimitBatchSize, TestsDoNotCountAndNoLimitChangesNothing) {
  Case c = Build({{"a", {}}, {"a", {0}}, {"", {0}}, {"", {1}}, {"", {0, 1}}});
  Partition part = PartitionChecked(c);
  const std::string whole = Describe(part);
  LimitBatchSize(c.graph, c.names, 2, &part);
  EXPECT_EQ(Describe(part), whole);
  LimitBatchSize(c.graph, c.names, 0, &part);
  EXPECT_EQ(Describe(part), whole);
  LimitBatchSize(c.graph, c.names, 1, &part);
  EXPECT_EQ(Describe(part),
            "a.1: [0,2] deps []\n"
            "a.2: [1,3,4] deps [0]\n");
}

TEST(LimitBatchSize, RandomDags) {
  std::mt19937 rng(31337);
  std::uniform_int_distribution<int> size(1, 400), keys(1, 8), limit(1, 30);
  std::uniform_real_distribution<double> share(0.0, 0.4), parents(0.3, 3.0);
  for (int i = 0; i < 300; ++i) {
    Case c = RandomCase(rng, {size(rng), keys(rng), share(rng), parents(rng), i % 2 == 0});
    const int max_members = limit(rng);
    Partition before = PartitionGraph(c.graph, c.keys, c.names);
    Partition first = before, second = before;
    LimitBatchSize(c.graph, c.names, max_members, &first);
    LimitBatchSize(c.graph, c.names, max_members, &second);
    ASSERT_EQ(CheckLimited(c, before, first, max_members), "")
        << "case " << i << ", at most " << max_members << "\n"
        << Describe(c) << "--\n"
        << Describe(first);
    ASSERT_EQ(Describe(first), Describe(second));
  }
}

TEST(SplitIntoNodes, OneBatchPerModelWithItsOwnTests) {
  // Group g: a -> b, a test on a, a test on both a and b; h: c after b.
  Graph graph;
  graph.nodes.resize(5);
  const char* ids[] = {"model.p.a", "model.p.b", "model.p.c", "test.p.on_a", "test.p.on_ab"};
  for (int i = 0; i < 5; ++i) {
    graph.nodes[i].unique_id = ids[i];
    graph.nodes[i].name = std::string(ids[i]).substr(std::string(ids[i]).rfind('.') + 1);
    graph.nodes[i].kind = i < 3 ? NodeKind::kModel : NodeKind::kTest;
  }
  graph.nodes[1].deps = {0};
  graph.nodes[2].deps = {1};
  graph.nodes[3].deps = {0};
  graph.nodes[4].deps = {0, 1};
  std::vector<std::string> names = {"a", "b", "c", "on_a", "on_ab"};
  Partition partition = PartitionGraph(graph, {"g", "g", "h", "", ""}, names);
  ASSERT_EQ(partition.batches.size(), 2u);
  SplitIntoNodes(graph, names, {"g"}, &partition);
  std::vector<std::string> got;
  for (const Batch& b : partition.batches) {
    std::string line = b.name + "[" + b.split_from + "]:";
    for (int m : b.members) line += " " + names[m];
    line += " <-";
    for (int d : b.deps) line += " " + partition.batches[d].name;
    got.push_back(line);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"g.a[g]: a on_a <-", "g.b[g]: b on_ab <- g.a", "h[]: c <- g.b"}));
}

TEST(SplitIntoNodes, BatchesLeftWholeKeepTheirSplitPaths) {
  // a0 -> b1 -> a2 splits A; b3 also reads a0. B fails.
  Case c = Build({{"A", {}}, {"B", {0}}, {"A", {1}}, {"B", {0}}});
  Partition part = PartitionChecked(c);
  SplitIntoNodes(c.graph, c.names, {"B"}, &part);
  ASSERT_EQ(Describe(part),
            "A.1: [0] deps []\n"
            "A.2: [2] deps [2]\n"
            "B.n0001: [1] deps [0]\n"
            "B.n0003: [3] deps [0]\n");
  EXPECT_EQ(part.batches[0].split_path, (Ints{0, 1, 2}));
  EXPECT_EQ(part.batches[1].split_path, (Ints{0, 1, 2}));
}

// Issue 13, class 2: a batch named like an option was passed to
// `pa-gen exec` and read as one. Names never start with `-` (nor `.`: `..`
// would make .pa/run/<batch> the folder .pa), and stay short enough to be
// file names, deterministically.
TEST(SafeBatchName, NeverStartsLikeAnOptionOrADot) {
  EXPECT_EQ(SafeBatchName("--help"), "_-help");
  EXPECT_EQ(SafeBatchName("-v"), "_v");
  EXPECT_EQ(SafeBatchName(".."), "_.");
  EXPECT_EQ(SafeBatchName(".hidden"), "_hidden");
  EXPECT_EQ(SafeBatchName("q;touch x"), "q_touch_x");
  EXPECT_EQ(SafeBatchName("marts-2"), "marts-2");  // a dash inside stays
  EXPECT_EQ(SafeBatchName(""), "_");
}

TEST(SafeBatchName, LongKeysKeepTheirStartAndADigest) {
  std::string a(10000, 'a'), b = a;
  b.back() = 'b';
  std::string name = SafeBatchName(a);
  EXPECT_EQ(name.size(), kMaxBatchNameLength);
  EXPECT_EQ(name.substr(0, 63), std::string(63, 'a'));
  EXPECT_EQ(name, SafeBatchName(a));     // stable
  EXPECT_NE(name, SafeBatchName(b));     // and still unique
  EXPECT_EQ(SafeBatchName(std::string(80, 'x')), std::string(80, 'x'));  // short enough: as is
}

TEST(SafeBatchName, PartitionNamesBatchesWithIt) {
  Graph graph;
  graph.nodes.push_back(MakeNode(0, false, {}));
  Partition p = PartitionGraph(graph, {"--help"}, {"n0"});
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(p.batches[0].name, "_-help");
}

}  // namespace
