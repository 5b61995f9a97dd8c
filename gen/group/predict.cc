#include "group/predict.h"

#include <algorithm>
#include <map>
#include <set>

namespace {

// Tasks with dependencies among them, by index.
struct Tasks {
  std::vector<double> seconds;
  std::vector<std::vector<int>> deps;
  std::vector<std::vector<int>> children;

  void Add(double s, std::vector<int> d) {
    seconds.push_back(s);
    deps.push_back(std::move(d));
  }
  void Link() {
    children.assign(seconds.size(), {});
    for (size_t t = 0; t < deps.size(); ++t)
      for (int d : deps[t]) children[d].push_back(static_cast<int>(t));
  }
  // Each task's own time plus its longest chain of descendants.
  std::vector<double> Tails() const {
    std::vector<int> left(seconds.size());
    std::vector<int> order;
    for (size_t t = 0; t < seconds.size(); ++t) {
      left[t] = static_cast<int>(deps[t].size());
      if (left[t] == 0) order.push_back(static_cast<int>(t));
    }
    for (size_t i = 0; i < order.size(); ++i)
      for (int c : children[order[i]])
        if (--left[c] == 0) order.push_back(c);
    std::vector<double> tail(seconds.size(), 0);
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      for (int c : children[*it]) tail[*it] = std::max(tail[*it], tail[c]);
      tail[*it] += seconds[*it];
    }
    return tail;
  }
};

// How fast each running task goes, 1 being its speed alone: `cores`
// shared out evenly among the tasks' wants (`demand`, cores at full
// speed), a task that wants less than its share getting all it wants and
// leaving the rest to the others. No limit when `cores` is 0.
std::vector<double> Rates(const std::vector<double>& demand, int cores) {
  std::vector<double> rate(demand.size(), 1.0);
  double total = 0;
  for (double d : demand) total += d;
  if (cores <= 0 || total <= cores) return rate;
  std::vector<size_t> order(demand.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return demand[a] < demand[b]; });
  double left = cores;
  for (size_t k = 0; k < order.size(); ++k) {
    double share = left / static_cast<double>(order.size() - k);
    size_t i = order[k];
    if (demand[i] <= share) {
      left -= demand[i];
      continue;
    }
    rate[i] = share / demand[i];
    left -= share;
  }
  return rate;
}

// List scheduling on `slots` workers, the ready task with the longest tail
// first (ties by index). A task with a pool (`pool_of`, -1: none) also
// takes a place in it, of `pool_depth` places; a ready task whose pool is
// full lets the next one go first. With `demand` (per task, the cores it
// keeps busy when it runs alone), the running tasks share `cores` (Rates)
// and a task's time alone is the work it has to do. Returns the makespan.
double ListSchedule(const Tasks& tasks, const std::vector<double>& tail, int slots,
                    const std::vector<int>& pool_of = {}, std::vector<int> pool_depth = {},
                    const std::vector<double>& demand = {}, int cores = 0) {
  std::vector<int> pending;
  for (const auto& d : tasks.deps) pending.push_back(static_cast<int>(d.size()));
  auto first = [&](int a, int b) { return tail[a] != tail[b] ? tail[a] > tail[b] : a < b; };
  std::set<int, decltype(first)> ready(first);
  for (size_t t = 0; t < pending.size(); ++t)
    if (pending[t] == 0) ready.insert(static_cast<int>(t));
  auto pool = [&](int t) { return pool_of.empty() ? -1 : pool_of[t]; };
  std::map<int, double> running;  // task -> its time alone still to go
  double now = 0;
  int free_slots = std::max(1, slots);
  while (!ready.empty() || !running.empty()) {
    for (auto it = ready.begin(); free_slots > 0 && it != ready.end();) {
      int t = *it;
      if (pool(t) >= 0 && pool_depth[pool(t)] <= 0) {
        ++it;
        continue;
      }
      if (pool(t) >= 0) --pool_depth[pool(t)];
      running.emplace(t, tasks.seconds[t]);
      it = ready.erase(it);
      --free_slots;
    }
    std::vector<double> wants;
    for (const auto& [t, left] : running) wants.push_back(demand.empty() ? 0 : demand[t]);
    std::vector<double> rate = Rates(wants, cores);
    // The next to finish, and how long until then.
    double step = -1;
    size_t i = 0;
    for (const auto& [t, left] : running) {
      double until = left / rate[i++];
      if (step < 0 || until < step) step = until;
    }
    now += step;
    std::vector<int> finished;
    i = 0;
    for (auto& [t, left] : running) {
      double r = rate[i++];
      // The one that set the step ends exactly; others within rounding of it too.
      if (left / r <= step * (1 + 1e-12)) {
        finished.push_back(t);
      } else {
        left -= r * step;
      }
    }
    for (int t : finished) {
      running.erase(t);
      ++free_slots;
      if (pool(t) >= 0) ++pool_depth[pool(t)];
      for (int c : tasks.children[t])
        if (--pending[c] == 0) ready.insert(c);
    }
  }
  return now;
}

}  // namespace

Prediction PredictBuild(const Graph& graph, const Partition& partition,
                        const std::vector<BatchSettings>& settings, const CostModel& cost) {
  // Each node's index within its batch, for the batch's own schedule.
  std::vector<int> local(graph.nodes.size(), -1);
  for (const Batch& batch : partition.batches)
    for (size_t i = 0; i < batch.members.size(); ++i) local[batch.members[i]] = static_cast<int>(i);
  Prediction p;
  Tasks batches;
  for (size_t b = 0; b < partition.batches.size(); ++b) {
    Tasks nodes;
    for (int m : partition.batches[b].members) {
      std::vector<int> deps;
      for (int d : graph.nodes[m].deps)
        if (partition.batch_of[d] == static_cast<int>(b)) deps.push_back(local[d]);
      nodes.Add(cost.node_seconds[m], std::move(deps));
    }
    nodes.Link();
    int threads = settings[b].threads > 0 ? settings[b].threads : cost.threads;
    // The process's Python runs on one core: its nodes' CPU, one after the other.
    double cpu = 0;
    if (!cost.node_cpu_seconds.empty())
      for (int m : partition.batches[b].members) cpu += cost.node_cpu_seconds[m];
    double on_threads = ListSchedule(nodes, nodes.Tails(), threads);
    p.batch_seconds.push_back(cost.startup_seconds + cost.hooks * cost.hook_seconds +
                              std::max(on_threads, cpu));
    // The start-up is the process's own work too (import, project, DAG).
    p.batch_cpu_seconds.push_back(cost.startup_seconds + cpu);
    batches.Add(p.batch_seconds.back(), partition.batches[b].deps);
  }
  batches.Link();
  std::vector<double> tail = batches.Tails();
  // The pools batches name, by index; a pool the policy does not declare limits nothing.
  std::vector<int> pool_of(partition.batches.size(), -1);
  std::vector<int> pool_depth;
  std::map<std::string, int> pool_index;
  for (size_t b = 0; b < partition.batches.size(); ++b) {
    auto declared = cost.pools.find(settings[b].pool);
    if (declared == cost.pools.end()) continue;
    auto [it, added] = pool_index.emplace(declared->first, static_cast<int>(pool_depth.size()));
    if (added) pool_depth.push_back(std::max(1, declared->second));
    pool_of[b] = it->second;
  }
  // What each batch keeps busy when alone: at most one core (its CPU over its time).
  std::vector<double> demand;
  for (size_t b = 0; b < partition.batches.size(); ++b)
    demand.push_back(p.batch_seconds[b] > 0
                         ? std::min(1.0, p.batch_cpu_seconds[b] / p.batch_seconds[b])
                         : 0);
  p.seconds = ListSchedule(batches, tail, cost.jobs, pool_of, pool_depth, demand, cost.cores);
  // The critical path: the longest chain, from the root with the longest
  // tail down along the child with the longest tail.
  int at = -1;
  for (size_t b = 0; b < tail.size(); ++b)
    if (batches.deps[b].empty() && (at < 0 || tail[b] > tail[at])) at = static_cast<int>(b);
  while (at >= 0) {
    p.critical_path.push_back(at);
    int next = -1;
    for (int c : batches.children[at])
      if (next < 0 || tail[c] > tail[next]) next = c;
    at = next;
  }
  if (!p.critical_path.empty()) p.critical_path_seconds = tail[p.critical_path.front()];
  if (cost.cores > 0) {
    double cpu = 0;
    for (double c : p.batch_cpu_seconds) cpu += c;
    p.cpu_bound_seconds = cpu / cost.cores;
  }
  return p;
}
