#include "group/partition.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/hash.h"

std::string SafeBatchName(const std::string& key) {
  std::string out;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    out.push_back(ok ? c : '_');
  }
  if (out.empty()) return "_";
  // `pa-gen exec ... --help` would print usage and succeed, and so would
  // any program handed the name: a batch never starts like an option. Nor
  // with a dot: `..` would make .pa/run/<batch> the folder .pa itself.
  if (out.front() == '-' || out.front() == '.') out.front() = '_';
  // A file name holds at most 255 bytes (NAME_MAX); the stamp and state
  // files add a suffix, and split batches join two names. A long key keeps
  // its start, readable, and a digest of the whole, so it stays unique and
  // the same from run to run.
  if (out.size() > kMaxBatchNameLength) {
    out.resize(kMaxBatchNameLength - 17);
    out += "-" + Hasher().Add(key).Hex();
  }
  return out;
}

namespace {

// Rows of bits, all of one width, in one block.
class BitRows {
 public:
  explicit BitRows(int bits = 0) : words_((bits + 63) / 64) {}

  int rows() const { return rows_; }
  // Adds an empty row; returns its index.
  int AddRow() {
    bits_.resize(bits_.size() + words_);
    return rows_++;
  }
  bool Has(int row, int bit) const { return (At(row)[bit / 64] >> (bit % 64)) & 1; }
  void Set(int row, int bit) { At(row)[bit / 64] |= uint64_t{1} << (bit % 64); }
  void Clear(int row, int bit) { At(row)[bit / 64] &= ~(uint64_t{1} << (bit % 64)); }
  void Or(int row, int from) {
    uint64_t* to = At(row);
    const uint64_t* add = At(from);
    for (int w = 0; w < words_; ++w) to[w] |= add[w];
  }

 private:
  uint64_t* At(int row) { return &bits_[static_cast<size_t>(row) * words_]; }
  const uint64_t* At(int row) const { return &bits_[static_cast<size_t>(row) * words_]; }

  int words_;
  int rows_ = 0;
  std::vector<uint64_t> bits_;
};

// An edge of the part graph: to `part`, made by the node edge parent -> child.
struct PartEdge {
  int part;
  int parent;
  int child;
};

// Keeps one edge per part: the one made by the first node edge.
void OneEdgePerPart(std::vector<PartEdge>* edges) {
  std::sort(edges->begin(), edges->end(), [](const PartEdge& a, const PartEdge& b) {
    return std::tie(a.part, a.parent, a.child) < std::tie(b.part, b.parent, b.child);
  });
  auto same = [](const PartEdge& a, const PartEdge& b) { return a.part == b.part; };
  edges->erase(std::unique(edges->begin(), edges->end(), same), edges->end());
}

// A part that no merge took, and for a group split in several, why (see
// Batch::split_path).
struct Survivor {
  int part;
  std::vector<int> path;
};

// Merges the parts of each group back together, group after group: each
// part, in order, into the first earlier survivor of its group that it can
// join without making a cycle. Parts are the vertices of a DAG; a merged
// part has the edges of all the parts merged into it.
class PartMerger {
 public:
  explicit PartMerger(std::vector<std::vector<PartEdge>> succ)
      : succ_(std::move(succ)), owner_(succ_.size()), row_(succ_.size(), -1) {
    for (size_t p = 0; p < owner_.size(); ++p) owner_[p] = static_cast<int>(p);
  }

  // `starts` holds the first part of each group, then the number of parts.
  // Returns the survivors of each group, in order.
  std::vector<std::vector<Survivor>> Merge(const std::vector<int>& starts);

  // The survivor that `part` was merged into, or itself.
  int Owner(int part) const { return owner_[part]; }

 private:
  void Reach(int begin, int end);
  void Visit(int root);
  std::vector<Survivor> MergeGroup(int begin, int end);
  bool ReachesVia(int from, int to) const;
  std::vector<int> PathVia(int from, int to) const;
  void Join(int into, int from);

  std::vector<std::vector<PartEdge>> succ_;  // a survivor's edges never point at itself
  std::vector<int> owner_;
  // Merging two parts makes a cycle iff one reaches the other by a path of
  // two or more edges, that is, through a child that reaches it. So the
  // merges need to know which parts of their group each vertex below them
  // reaches. One pass over the graph finds that for the parts [begin_,
  // end_) of several groups at once, a bit per part by offset from begin_
  // in the vertex's row of below_; the merges keep it up to date.
  int begin_ = 0, end_ = 0;
  std::vector<int> row_;    // each vertex's row, or -1
  std::vector<int> rowed_;  // the vertices with a row
  BitRows below_;
};

// Enough parts for one pass over the graph to serve several groups, few
// enough that keeping the rows up to date through the merges stays cheap.
constexpr int kPartsPerPass = 256;

std::vector<std::vector<Survivor>> PartMerger::Merge(const std::vector<int>& starts) {
  std::vector<std::vector<Survivor>> survivors;
  for (size_t g = 0; g + 1 < starts.size(); ++g) {
    if (starts[g + 1] > end_) {
      size_t last = g + 1;
      while (last + 1 < starts.size() && starts[last + 1] - starts[g] <= kPartsPerPass) ++last;
      Reach(starts[g], starts[last]);
    }
    survivors.push_back(MergeGroup(starts[g], starts[g + 1]));
  }
  return survivors;
}

// Gives every vertex below the parts [begin, end) its row.
void PartMerger::Reach(int begin, int end) {
  for (int v : rowed_) row_[v] = -1;
  rowed_.clear();
  begin_ = begin;
  end_ = end;
  below_ = BitRows(end - begin);
  for (int p = begin; p < end; ++p) Visit(p);
}

// Fills the rows of `root` and of every vertex below it, children first.
void PartMerger::Visit(int root) {
  if (row_[root] >= 0) return;
  std::vector<std::pair<int, size_t>> stack;  // vertex, next edge
  auto enter = [&](int v) {
    row_[v] = below_.AddRow();
    rowed_.push_back(v);
    stack.push_back({v, 0});
  };
  // What `child` reaches, `v` reaches.
  auto absorb = [&](int v, int child) {
    if (child >= begin_ && child < end_) below_.Set(row_[v], child - begin_);
    below_.Or(row_[v], row_[child]);
  };
  enter(root);
  while (!stack.empty()) {
    auto& [v, next] = stack.back();
    if (next < succ_[v].size()) {
      int child = owner_[succ_[v][next++].part];
      if (row_[child] < 0) {
        enter(child);
      } else {
        absorb(v, child);
      }
      continue;
    }
    int done = v;
    stack.pop_back();
    if (!stack.empty()) absorb(stack.back().first, done);
  }
}

std::vector<Survivor> PartMerger::MergeGroup(int begin, int end) {
  std::vector<Survivor> survivors;
  for (int p = begin; p < end; ++p) {
    auto joinable = [&](const Survivor& s) {
      return !ReachesVia(s.part, p) && !ReachesVia(p, s.part);
    };
    auto into = std::find_if(survivors.begin(), survivors.end(), joinable);
    if (into != survivors.end()) {
      Join(into->part, p);
      continue;
    }
    // Why p cannot join the latest survivor, the nearest one: a short path.
    std::vector<int> path;
    if (!survivors.empty()) {
      int latest = survivors.back().part;
      path = ReachesVia(latest, p) ? PathVia(latest, p) : PathVia(p, latest);
    }
    survivors.push_back({p, std::move(path)});
  }
  if (survivors.size() > 1) survivors.front().path = survivors[1].path;

  // Edges point at survivors again, one edge per survivor, none at itself.
  for (const Survivor& s : survivors) {
    std::vector<PartEdge>& succ = succ_[s.part];
    for (PartEdge& e : succ) e.part = owner_[e.part];
    OneEdgePerPart(&succ);
    std::erase_if(succ, [&](const PartEdge& e) { return e.part == s.part; });
  }
  return survivors;
}

// Whether `from` reaches `to` by a path of two or more edges.
bool PartMerger::ReachesVia(int from, int to) const {
  for (const PartEdge& e : succ_[from]) {
    int child = owner_[e.part];
    if (child != from && below_.Has(row_[child], to - begin_)) return true;
  }
  return false;
}

// The nodes of such a path: the parent and child of each node edge that
// makes its part edges, a node once where one edge ends and the next starts.
std::vector<int> PartMerger::PathVia(int from, int to) const {
  std::vector<int> nodes;
  for (int at = from; at != to;) {
    const PartEdge* step = nullptr;
    for (const PartEdge& e : succ_[at]) {
      int child = owner_[e.part];
      if (child == to && at != from) {
        step = &e;
        break;
      }
      if (!step && child != at && below_.Has(row_[child], to - begin_)) step = &e;
    }
    if (nodes.empty() || nodes.back() != step->parent) nodes.push_back(step->parent);
    nodes.push_back(step->child);
    at = owner_[step->part];
  }
  return nodes;
}

// Folds part `from` into survivor `into`: whoever reached either now
// reaches both, and all that either reaches.
void PartMerger::Join(int into, int from) {
  const int a = into - begin_, b = from - begin_, merged = row_[into];
  below_.Or(merged, row_[from]);
  below_.Clear(merged, a);  // an edge between the two is now inside
  below_.Clear(merged, b);
  for (int r = 0; r < below_.rows(); ++r) {
    if (r == merged || !(below_.Has(r, a) || below_.Has(r, b))) continue;
    below_.Or(r, merged);
    below_.Set(r, a);
  }
  owner_[from] = into;
  succ_[into].insert(succ_[into].end(), succ_[from].begin(), succ_[from].end());
  succ_[from].clear();
}

// Numbers the keys in key order: -1 for "", 0 for the first key, ...
std::vector<int> NumberKeys(const std::vector<std::string>& keys,
                            std::vector<std::string>* sorted) {
  std::unordered_map<std::string_view, int> number;
  for (const std::string& key : keys)
    if (!key.empty() && number.emplace(key, 0).second) sorted->push_back(key);
  std::sort(sorted->begin(), sorted->end());
  for (size_t k = 0; k < sorted->size(); ++k) number[(*sorted)[k]] = static_cast<int>(k);
  std::vector<int> numbers;
  for (const std::string& key : keys) numbers.push_back(key.empty() ? -1 : number[key]);
  return numbers;
}

// The models, seeds and snapshots among `members`, each after its parents
// among them. A member's children come right after it once their other
// parents are placed, so that chains stay together; ties go to the lowest
// index.
std::vector<int> ChainOrder(const Graph& graph, const std::vector<int>& members) {
  std::vector<int> nodes;
  for (int m : members)
    if (!graph.nodes[m].IsTest()) nodes.push_back(m);
  auto local = [&](int v) {
    auto it = std::lower_bound(nodes.begin(), nodes.end(), v);
    return it != nodes.end() && *it == v ? static_cast<int>(it - nodes.begin()) : -1;
  };
  const int n = static_cast<int>(nodes.size());
  std::vector<std::vector<int>> children(n);
  std::vector<int> pending(n, 0);
  for (int i = 0; i < n; ++i) {
    for (int d : graph.nodes[nodes[i]].deps) {
      if (int p = local(d); p >= 0) {
        children[p].push_back(i);
        ++pending[i];
      }
    }
  }
  std::vector<int> ready;  // a stack: the latest ready first, the lowest index on top
  for (int i = n - 1; i >= 0; --i)
    if (pending[i] == 0) ready.push_back(i);
  std::vector<int> order;
  while (!ready.empty()) {
    int i = ready.back();
    ready.pop_back();
    order.push_back(nodes[i]);
    for (auto c = children[i].rbegin(); c != children[i].rend(); ++c)
      if (--pending[*c] == 0) ready.push_back(*c);
  }
  return order;
}

// `name`, or name-2, name-3, ... if taken; the result is taken from now on.
std::string Unclaimed(const std::string& name, std::set<std::string>* taken) {
  std::string candidate = name;
  for (int k = 2; !taken->insert(candidate).second; ++k) candidate = fmt::format("{}-{}", name, k);
  return candidate;
}

// A test with no parent to run (a singular test over sources, or over an
// ephemeral model that reads only sources) can run anywhere. All of them
// join one batch that runs a model, seed or snapshot and that no batch
// waits for (the one with the smallest name), so that they cost no dbt
// process of their own and, failing, hold back nothing, as in `dbt build`.
// Only when every such batch is waited for do they get one batch together.
void PlaceParentlessTests(const Graph& graph, const std::vector<int>& tests,
                          const std::function<Batch(int)>& own_batch,
                          std::vector<Batch>* batches, std::vector<int>* batch_of) {
  if (tests.empty()) return;
  std::vector<bool> waited_for(batches->size(), false);
  std::vector<bool> runs_node(batches->size(), false);
  for (size_t v = 0; v < graph.nodes.size(); ++v) {
    int b = (*batch_of)[v];
    if (b < 0) continue;
    if (!graph.nodes[v].IsTest()) runs_node[b] = true;
    for (int d : graph.nodes[v].deps)
      if ((*batch_of)[d] != b) waited_for[(*batch_of)[d]] = true;
  }
  int home = -1;
  for (int b = 0; b < static_cast<int>(batches->size()); ++b) {
    if (runs_node[b] && !waited_for[b] && (home < 0 || (*batches)[b].name < (*batches)[home].name))
      home = b;
  }
  if (home < 0) {
    home = static_cast<int>(batches->size());
    batches->push_back(own_batch(tests.front()));
  }
  for (int t : tests) {
    (*batch_of)[t] = home;
    (*batches)[home].members.push_back(t);
  }
}

// Places every test whose batch_of is -1, as `dbt build` orders tests: a
// test joins the batch of its parents when they share one, or the one of
// their batches that all the others lead to; otherwise it gets a batch of
// its own, made by `own_batch`, that Assemble makes the batches of the
// nodes it gates wait for. Tests without parents: PlaceParentlessTests.
void PlaceTests(const Graph& graph, const std::function<Batch(int)>& own_batch,
                std::vector<Batch>* batches, std::vector<int>* batch_of) {
  const int n = static_cast<int>(graph.nodes.size());
  std::vector<std::vector<int>> next(batches->size());  // the batch graph, without tests
  for (int v = 0; v < n; ++v) {
    if (graph.nodes[v].IsTest()) continue;
    for (int d : graph.nodes[v].deps)
      if (!graph.nodes[d].IsTest() && (*batch_of)[d] != (*batch_of)[v])
        next[(*batch_of)[d]].push_back((*batch_of)[v]);
  }
  // One edge per pair of batches: a folder batch has thousands of node edges.
  for (std::vector<int>& to : next) {
    std::sort(to.begin(), to.end());
    to.erase(std::unique(to.begin(), to.end()), to.end());
  }
  std::vector<int> seen(batches->size(), 0);  // a batch was seen when its mark is `search`
  int search = 0;
  std::vector<int> stack;
  auto reaches = [&](int from, int to) {
    ++search;
    stack.assign(1, from);
    seen[from] = search;
    while (!stack.empty()) {
      int b = stack.back();
      stack.pop_back();
      if (b == to) return true;
      for (int s : next[b]) {
        if (seen[s] == search) continue;
        seen[s] = search;
        stack.push_back(s);
      }
    }
    return false;
  };
  std::vector<int> parentless;  // placed last, once the others are
  for (int v = 0; v < n; ++v) {
    if ((*batch_of)[v] >= 0) continue;
    if (graph.nodes[v].deps.empty()) {
      parentless.push_back(v);
      continue;
    }
    std::vector<int> parents;  // their batches, sorted
    for (int d : graph.nodes[v].deps) parents.push_back((*batch_of)[d]);
    std::sort(parents.begin(), parents.end());
    parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
    int last = -1;  // the parent batch every other one leads to
    for (int p : parents) {
      bool after_all = true;
      for (int q : parents) after_all = after_all && (q == p || reaches(q, p));
      if (after_all) last = p;
    }
    if (last >= 0) {
      (*batch_of)[v] = last;
    } else {
      (*batch_of)[v] = static_cast<int>(batches->size());
      batches->push_back(own_batch(v));
    }
    (*batches)[(*batch_of)[v]].members.push_back(v);
  }
  PlaceParentlessTests(graph, parentless, own_batch, batches, batch_of);
}

// The groups every batch of a test's parents is a part of (the common
// part_of), in their order: a test of a cut or split folder's nodes alone
// is still the folder's.
std::vector<std::string> CommonGroups(const Graph& graph, const std::vector<Batch>& batches,
                                      const std::vector<int>& batch_of, int test) {
  std::vector<std::string> common;
  bool first = true;
  for (int d : graph.nodes[test].deps) {
    if (batch_of[d] < 0) return {};
    const std::vector<std::string>& groups = batches[batch_of[d]].part_of;
    if (first) common = groups;
    else std::erase_if(common, [&](const std::string& g) {
        return std::find(groups.begin(), groups.end(), g) == groups.end();
      });
    first = false;
    if (common.empty()) return {};
  }
  return common;
}

// Takes every test out of `batches` (and the batches that held only tests)
// so that PlaceTests places them anew: cutting a batch changes where the
// tests of its nodes belong, also those that sat in another batch. Returns
// each node's batch, -1 for tests.
std::vector<int> TakeOutTests(const Graph& graph, std::vector<Batch>* batches) {
  std::vector<Batch> kept;
  for (Batch& batch : *batches) {
    std::erase_if(batch.members, [&](int m) { return graph.nodes[m].IsTest(); });
    if (!batch.members.empty()) kept.push_back(std::move(batch));
  }
  *batches = std::move(kept);
  std::vector<int> batch_of(graph.nodes.size(), -1);
  for (size_t b = 0; b < batches->size(); ++b)
    for (int m : (*batches)[b].members) batch_of[m] = static_cast<int>(b);
  return batch_of;
}

// The nodes a test holds back in `dbt build`: those downstream of every
// one of its parents.
std::vector<int> GatedBy(const Graph& graph, const std::vector<std::vector<int>>& children,
                         int test) {
  std::vector<int> count(graph.nodes.size(), 0);
  const std::vector<int>& parents = graph.nodes[test].deps;
  for (int p : parents) {
    std::vector<int> stack = {p};
    std::vector<bool> seen(graph.nodes.size(), false);
    while (!stack.empty()) {
      int v = stack.back();
      stack.pop_back();
      for (int c : children[v]) {
        if (seen[c]) continue;
        seen[c] = true;
        ++count[c];
        stack.push_back(c);
      }
    }
  }
  std::vector<int> gated;
  for (size_t v = 0; v < count.size(); ++v)
    if (count[v] == static_cast<int>(parents.size()) && !graph.nodes[v].IsTest())
      gated.push_back(static_cast<int>(v));
  return gated;
}

// Names made unique, batches sorted by name, node-to-batch index and batch
// dependencies filled in: the batches of a node's parents, and the batch of
// a test that runs apart from its parents for the nodes it gates.
Partition Assemble(const Graph& graph, std::vector<Batch> batches) {
  // Two groups whose keys sanitise alike get -2, -3, ... in member order.
  std::vector<int> by_name(batches.size());
  for (size_t i = 0; i < batches.size(); ++i) by_name[i] = static_cast<int>(i);
  std::sort(by_name.begin(), by_name.end(), [&](int a, int b) {
    if (batches[a].name != batches[b].name) return batches[a].name < batches[b].name;
    return batches[a].members.front() < batches[b].members.front();
  });
  std::set<std::string> taken;
  for (const Batch& batch : batches) taken.insert(batch.name);
  std::string previous;
  for (int b : by_name) {
    std::string base = batches[b].name;
    if (base != previous) {
      previous = base;
      continue;  // the first holder keeps its name
    }
    for (int k = 2;; ++k) {
      std::string candidate = fmt::format("{}-{}", base, k);
      if (taken.insert(candidate).second) {
        batches[b].name = candidate;
        break;
      }
    }
  }
  std::sort(batches.begin(), batches.end(),
            [](const Batch& a, const Batch& b) { return a.name < b.name; });

  Partition partition;
  partition.batch_of.resize(graph.nodes.size());
  for (size_t b = 0; b < batches.size(); ++b)
    for (int m : batches[b].members) partition.batch_of[m] = static_cast<int>(b);
  for (size_t b = 0; b < batches.size(); ++b) {
    std::vector<int>& deps = batches[b].deps;
    deps.clear();
    for (int m : batches[b].members)
      for (int d : graph.nodes[m].deps)
        if (partition.batch_of[d] != static_cast<int>(b)) deps.push_back(partition.batch_of[d]);
  }
  std::vector<std::vector<int>> children;
  for (size_t v = 0; v < graph.nodes.size(); ++v) {
    const Node& node = graph.nodes[v];
    bool apart = node.IsTest() && std::none_of(node.deps.begin(), node.deps.end(), [&](int d) {
      return partition.batch_of[d] == partition.batch_of[v];
    });
    if (!apart || node.deps.empty()) continue;
    if (children.empty()) {
      children.resize(graph.nodes.size());
      for (size_t c = 0; c < graph.nodes.size(); ++c)
        for (int d : graph.nodes[c].deps) children[d].push_back(static_cast<int>(c));
    }
    for (int gated : GatedBy(graph, children, static_cast<int>(v)))
      if (partition.batch_of[gated] != partition.batch_of[v])
        batches[partition.batch_of[gated]].deps.push_back(partition.batch_of[v]);
  }
  for (Batch& batch : batches) {
    std::sort(batch.deps.begin(), batch.deps.end());
    batch.deps.erase(std::unique(batch.deps.begin(), batch.deps.end()), batch.deps.end());
  }
  partition.batches = std::move(batches);
  return partition;
}

}  // namespace

Partition PartitionGraph(const Graph& graph, const std::vector<std::string>& keys,
                         const std::vector<std::string>& names) {
  const int n = static_cast<int>(graph.nodes.size());
  std::vector<std::string> key_names;
  const std::vector<int> key = NumberKeys(keys, &key_names);

  // 1. Rank each node by how many group changes lie on the longest path to
  // it. Parts (key, rank) never make a cycle: every edge between two parts
  // goes to a higher rank.
  std::vector<int> rank(n, 0);
  for (int v : graph.TopologicalOrder()) {
    if (key[v] < 0) continue;
    for (int d : graph.nodes[v].deps) {
      if (key[d] < 0) continue;
      rank[v] = std::max(rank[v], key[d] == key[v] ? rank[d] : rank[d] + 1);
    }
  }
  std::vector<std::pair<int, int>> part_key;  // (key, rank) of each part, ascending
  for (int v = 0; v < n; ++v)
    if (key[v] >= 0) part_key.push_back({key[v], rank[v]});
  std::sort(part_key.begin(), part_key.end());
  part_key.erase(std::unique(part_key.begin(), part_key.end()), part_key.end());
  const int parts = static_cast<int>(part_key.size());
  std::vector<int> part_of(n, -1);
  for (int v = 0; v < n; ++v) {
    if (key[v] < 0) continue;
    auto it = std::lower_bound(part_key.begin(), part_key.end(), std::make_pair(key[v], rank[v]));
    part_of[v] = static_cast<int>(it - part_key.begin());
  }
  std::vector<std::vector<PartEdge>> succ(parts);
  for (int v = 0; v < n; ++v) {
    if (part_of[v] < 0) continue;
    for (int d : graph.nodes[v].deps) {
      if (part_of[d] >= 0 && part_of[d] != part_of[v])
        succ[part_of[d]].push_back({part_of[v], d, v});
    }
  }
  for (std::vector<PartEdge>& edges : succ) OneEdgePerPart(&edges);

  // 2. The ranks split more than needed: merge the parts of each group back
  // together, earliest first, wherever the merge leaves the graph acyclic.
  std::vector<int> starts;  // the first part of each key
  for (int p = 0; p < parts; ++p)
    if (p == 0 || part_key[p].first != part_key[p - 1].first) starts.push_back(p);
  starts.push_back(parts);
  PartMerger merger(std::move(succ));
  std::vector<std::vector<Survivor>> survivors = merger.Merge(starts);

  // 3. Name the batches: the key, or key.1, key.2, ... in rank order when split.
  std::vector<Batch> batches;
  std::vector<int> batch_of_part(parts, -1);
  for (std::vector<Survivor>& group : survivors) {
    for (size_t i = 0; i < group.size(); ++i) {
      batch_of_part[group[i].part] = static_cast<int>(batches.size());
      Batch batch;
      batch.name = SafeBatchName(key_names[part_key[group[i].part].first]);
      if (group.size() > 1) {
        batch.part_of = {batch.name};
        batch.name += fmt::format(".{}", i + 1);
      }
      batch.split_path = std::move(group[i].path);
      batches.push_back(std::move(batch));
    }
  }
  std::vector<int> batch_of(n, -1);
  for (int v = 0; v < n; ++v)
    if (part_of[v] >= 0) batch_of[v] = batch_of_part[merger.Owner(part_of[v])];

  // 4. Tests follow their parents.
  for (int v = 0; v < n; ++v)
    if (batch_of[v] >= 0) batches[batch_of[v]].members.push_back(v);
  PlaceTests(graph, [&](int v) {
    return Batch{SafeBatchName(names[v]), {}, {}, "", CommonGroups(graph, batches, batch_of, v)};
  }, &batches, &batch_of);
  for (Batch& batch : batches) std::sort(batch.members.begin(), batch.members.end());
  return Assemble(graph, std::move(batches));
}

void LimitBatchSize(const Graph& graph, const std::vector<std::string>& names, int max_members,
                    Partition* partition) {
  if (max_members < 1) return;
  std::vector<std::vector<int>> orders;
  std::set<std::string> taken;  // the names of the batches left whole
  for (const Batch& batch : partition->batches) {
    orders.push_back(ChainOrder(graph, batch.members));
    const int size = static_cast<int>(orders.back().size());
    if (size > 0 && size <= max_members) taken.insert(batch.name);
  }
  std::vector<Batch> batches;
  for (size_t b = 0; b < partition->batches.size(); ++b) {
    Batch& batch = partition->batches[b];
    const std::vector<int>& order = orders[b];
    const int size = static_cast<int>(order.size());
    if (size <= max_members) {
      batches.push_back(std::move(batch));
      continue;
    }
    // Chunks in order: edges between them go from a chunk to a later one.
    const int chunks = (size + max_members - 1) / max_members;
    const size_t first = batches.size();
    for (int c = 0; c < chunks; ++c) {
      Batch chunk;
      chunk.name = Unclaimed(fmt::format("{}.{}", batch.name, c + 1), &taken);
      chunk.split_path = batch.split_path;
      chunk.part_of = batch.part_of;
      chunk.part_of.push_back(batch.name);
      batches.push_back(std::move(chunk));
    }
    for (int i = 0; i < size; ++i)
      batches[first + static_cast<int>(int64_t{i} * chunks / size)].members.push_back(order[i]);
  }
  std::vector<int> batch_of = TakeOutTests(graph, &batches);
  PlaceTests(graph, [&](int m) {
    return Batch{Unclaimed(SafeBatchName(names[m]), &taken), {}, {}, "",
                 CommonGroups(graph, batches, batch_of, m)};
  }, &batches, &batch_of);
  for (Batch& batch : batches) std::sort(batch.members.begin(), batch.members.end());
  *partition = Assemble(graph, std::move(batches));
}

void SplitIntoNodes(const Graph& graph, const std::vector<std::string>& names,
                    const std::set<std::string>& failed, Partition* partition) {
  // Nothing to split (a build where no batch failed): the partition stays,
  // without placing every test anew.
  if (std::none_of(partition->batches.begin(), partition->batches.end(), [&](const Batch& batch) {
        return batch.members.size() >= 2 && failed.count(batch.name);
      }))
    return;
  std::vector<Batch> batches;
  std::map<int, std::string> group_of_test;
  for (Batch& batch : partition->batches) {
    if (!failed.count(batch.name) || batch.members.size() < 2) {
      batches.push_back(std::move(batch));
      continue;
    }
    // One batch per model, seed or snapshot; its tests are placed below.
    for (int m : batch.members) {
      if (graph.nodes[m].IsTest()) group_of_test[m] = batch.name;
      else batches.push_back({batch.name + "." + SafeBatchName(names[m]), {m}, {}, batch.name, batch.part_of});
    }
  }
  std::vector<int> batch_of = TakeOutTests(graph, &batches);
  PlaceTests(graph, [&](int m) {
    auto group = group_of_test.find(m);
    std::vector<std::string> groups = CommonGroups(graph, batches, batch_of, m);
    if (group == group_of_test.end()) return Batch{SafeBatchName(names[m]), {}, {}, "", groups};
    return Batch{group->second + "." + SafeBatchName(names[m]), {}, {}, group->second, groups};
  }, &batches, &batch_of);
  for (Batch& batch : batches) std::sort(batch.members.begin(), batch.members.end());
  *partition = Assemble(graph, std::move(batches));
}

std::string DescribeMembers(const Graph& graph, const Batch& batch) {
  std::map<std::string, int> counts;
  for (int m : batch.members) ++counts[NodeKindName(graph.nodes[m].kind)];
  std::vector<std::string> parts;
  for (const auto& [kind, count] : counts)
    parts.push_back(fmt::format("{} {}{}", count, kind, count == 1 ? "" : "s"));
  return fmt::format("{}", fmt::join(parts, ", "));
}
