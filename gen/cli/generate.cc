#include "cli/generate.h"

#include <algorithm>
#include <map>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <future>
#include <set>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "cli/conventions.h"
#include "cli/fresh_state_root.h"
#include "dbt/options.h"
#include "exec/outputs.h"
#include "exec/split.h"
#include "exec/state.h"
#include "graph/graph.h"
#include "group/grouping.h"
#include "group/partition.h"
#include "group/policy.h"
#include "group/policy_file.h"
#include "dbt/identity.h"
#include "manifest/dbt_ls.h"
#include "manifest/dbt_parse.h"
#include "manifest/manifest.h"
#include "manifest/project.h"
#include "manifest/target.h"
#include "plan/layout.h"
#include "write/ninja_file.h"
#include "util/disk.h"
#include "util/file_lock.h"
#include "util/hash.h"
#include "util/heap_pages.h"
#include "util/timer.h"
#include "write/plan.h"

namespace {

fs::path SelfPath() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("pa-gen") : self;
}

// The arguments that make the same build.ninja again, seen from its folder.
// Each value is joined to its option with '=': a folder named --help, or
// vars starting with '-', is then a value, never read as an option.
std::vector<std::string> RegenerateArgs(const GenerateOptions& options, const DbtProject& project,
                                        const DbtSettings& dbt, const fs::path& output) {
  fs::path out_dir = output.parent_path();
  std::vector<std::string> args;
  auto add = [&](const char* option, const std::string& value) {
    args.push_back(fmt::format("{}={}", option, value));
  };
  add("--project-dir", RelativePath(project.dir, out_dir));
  add("--output", RelativePath(output, out_dir));
  AppendOptionArgs(dbt, /*shared_only=*/false, &args);
  if (!options.manifest.empty()) add("--manifest", RelativePath(options.manifest, out_dir));
  // No --policy: the regeneration takes the adapter's default again.
  if (!options.policy.empty()) add("--policy", options.policy);
  if (options.policy == "auto") add("--jobs", std::to_string(options.jobs));
  if (options.max_batch_size > 0) add("--max-batch-size", std::to_string(options.max_batch_size));
  if (!options.policy_file.empty())
    add("--policy-file", RelativePath(fs::absolute(options.policy_file), out_dir));
  return args;
}

// What pa-gen knows of the cost of a build: node times and dbt's start-up
// from earlier runs, the slots Ninja gives batches.
CostModel HistoryCosts(Disk& disk, const Graph& graph, const BatchState& state, const fs::path& project_dir,
                       const std::string& adapter_type, const GenerateOptions& options) {
  CostModel cost;
  for (const Node& node : graph.nodes) {
    auto it = state.find(node.unique_id);
    bool timed = it != state.end() && it->second.seconds > 0;
    double seconds = timed ? it->second.seconds : kUnknownNodeSeconds;
    cost.node_seconds.push_back(seconds);
    // The CPU its last run measured, else the default share of its time.
    cost.node_cpu_seconds.push_back(timed && it->second.cpu_seconds > 0
                                        ? std::min(it->second.cpu_seconds, seconds)
                                        : std::min(kUnknownNodeCpuSeconds, seconds));
  }
  // A batch's fixed cost: the last measured, else dbt's start-up alone, else the default.
  if (double measured = LoadFixedCostSeconds(disk, project_dir); measured > 0) {
    cost.startup_seconds = measured;
  } else if (double startup = LoadStartupSeconds(disk, project_dir); startup > 0) {
    cost.startup_seconds = startup;
  }
  cost.jobs = adapter_type == "duckdb" ? 1 : options.jobs;
  cost.cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cost.threads = options.dbt.threads > 0 ? options.dbt.threads : kAssumedProfileThreads;
  return cost;
}

// The manifest read, parsed and turned into the graph pa-gen batches.
bool LoadGraph(const DbtProject& project, const fs::path& manifest_file, PhaseTimer* timer,
               Manifest* manifest, Graph* graph, std::string* err) {
  {
    ManifestText text;
    if (!ReadManifestText(manifest_file, &text, err)) return false;
    // What the nodes, the graph and the plan will take, about the text's size and a half.
    ReserveHeap(text.size + text.size / 2);
    timer->Lap("read manifest");
    if (!ParseManifestText(text, manifest_file.string(), manifest, err)) return false;
  }
  timer->Lap("parse manifest");
  if (!BuildGraph(*manifest, manifest_file.string(), graph, err)) return false;
  if (!FingerprintFileContents(project.dir, graph, err)) return false;
  timer->Lap("build graph");
  return true;
}

bool Run(CommandRunner& runner, Disk& disk, const GenerateOptions& options, PhaseTimer* timer,
         Generation* out, std::string* err) {
  Policy policy;
  if (!options.policy.empty() && !ParsePolicy(options.policy, &policy, err)) {
    *err = "--policy: " + *err;
    return false;
  }
  if (!options.policy_file.empty() && !LoadPolicyFile(options.policy_file, &policy, err)) return false;
  if (options.max_batch_size > 0) policy.max_batch_size = options.max_batch_size;
  DbtProject project;
  if (!LoadProject(options.project_dir, &project, err)) return false;
  // The project's .env, as the dbt processes that run in its folder read it.
  DotenvUse dotenv = LoadProjectDotenv(project.dir);
  fs::path output = options.output.empty() ? project.dir / "build.ninja"
                                           : fs::absolute(options.output).lexically_normal();
  DbtSettings dbt = options.dbt;
  dbt.profiles_dir = ResolveProfilesDir(options.dbt.profiles_dir.string(), project);
  if (!FindDbt(options.dbt.dbt.string(), project.dir, &dbt.dbt, err)) return false;
  // A given manifest is read and checked before anything is written: bad
  // input leaves .pa/ as it was (not even the lock file is made).
  ProjectInputs inputs;
  fs::path manifest_file;
  Manifest manifest;
  Graph graph;
  if (!options.manifest.empty()) {
    manifest_file = fs::absolute(options.manifest).lexically_normal();
    // The graph comes from the given manifest alone: regenerate when it changes.
    inputs = {{manifest_file, project.dir / "dbt_project.yml"}, {}};
    inputs.files.insert(inputs.files.end(), dotenv.files.begin(), dotenv.files.end());
    timer->Lap("project");
    if (!LoadGraph(project, manifest_file, timer, &manifest, &graph, err)) return false;
  }

  // Looked at before the lock, which is under .pa/.
  bool made_state_root = !disk.Exists(StateRootDir(project.dir));
  // One generation at a time: two would write build.ninja and the plan of
  // different runs, and share .pa/parse.
  FileLock lock;
  fs::path lock_file = GenerateLockFile(project.dir);
  if (!disk.Lock(lock_file, &lock, [&](const std::string& holder) {
        fmt::print(stderr, "pa-gen: waiting for {} to finish generating ({})\n",
                   holder.empty() ? "another pa-gen" : "pa-gen pid " + holder, lock_file.string());
      }, err))
    return false;
  std::optional<FreshStateRoot> fresh;  // after the lock: gone before it is released
  // Beneath a read-only run's overlay: the lock, dbt and the worker made it for real.
  if (made_state_root) fresh.emplace(disk.Beneath(), StateRootDir(project.dir), options.read_only, err);

  // Where results go: the target's identity and the environment variables
  // the profile and the project read, as keyed digests (dbt/identity.h).
  // $DBT_TARGET and the variables .env sets count as the environment too.
  TargetIdentity identity = ReadTargetIdentity(project, dbt.profiles_dir, EffectiveTarget(dbt));
  AddNames(&identity.env_vars, dotenv.names);
  if (dbt.target.empty() && std::getenv("DBT_TARGET")) AddNames(&identity.env_vars, {"DBT_TARGET"});
  IdentityKey key;
  if (!LoadOrCreateIdentityKey(IdentityKeyFile(project.dir), &key, err)) return false;
  std::string environment = EnvironmentDigest(key, identity.env_vars);

  fs::path parse_dir = ParseDir(project.dir);
  if (options.manifest.empty()) {
    inputs = ListProjectInputs(project, dbt.profiles_dir);
    inputs.files.insert(inputs.files.end(), dotenv.files.begin(), dotenv.files.end());
    timer->Lap("project");
    // A read-only generation under other settings (--vars, --target) parses
    // beside the parse the build uses, not over it.
    if (options.read_only && !ParsedWith(parse_dir, dbt, environment)) parse_dir = ReadOnlyParseDir(project.dir);
    if (!EnsureParsedManifest(runner, parse_dir, project, dbt, environment, inputs, &manifest_file, err)) return false;
    timer->Lap("dbt parse");
    if (!LoadGraph(project, manifest_file, timer, &manifest, &graph, err)) return false;
  }

  // --select / --exclude: the graph holds what dbt's own `dbt ls` lists.
  // Every node of the project stays selectable, so that a batch's selectors
  // never reach one that was left out.
  // Without a selection, made on a second thread while the graph is
  // grouped: it only reads the manifest and the graph, which stay as they
  // are until the plan is made, and the second core is idle meanwhile.
  std::vector<SelectableNode> selectable;
  std::future<std::vector<SelectableNode>> selectable_later;
  if (!HasSelection(dbt)) {
    try {
      selectable_later = std::async(std::launch::async, [&] {
        AdviseThreadHeap();
        return SelectableNodes(manifest, graph);
      });
    } catch (const std::system_error&) {  // no thread: made here
    }
  }
  if (!selectable_later.valid()) selectable = SelectableNodes(manifest, graph);
  std::set<std::string> unselected;
  if (HasSelection(dbt)) {
    std::set<std::string> selected;
    if (!ListSelectedNodes(runner, SelectDir(project.dir), project, dbt, manifest_file,
                           parse_dir / "partial_parse.msgpack", &selected, err))
      return false;
    Graph chosen = SelectNodes(graph, selected);
    if (chosen.nodes.empty()) {
      *err = fmt::format("--select '{}' --exclude '{}' leave no node to build (dbt ls lists none "
                         "that runs)", dbt.select, dbt.exclude);
      return false;
    }
    for (const Node& node : graph.nodes)
      if (!selected.count(node.unique_id)) unselected.insert(node.unique_id);
    graph = std::move(chosen);
    timer->Lap("dbt ls");
  }
  // Why this policy: the adapter's default (GroupByDefault says), or auto.
  std::string policy_reason;
  if (!policy.name.empty() && policy.kind == PolicyKind::kAuto)
    policy_reason = "chosen by --policy auto: the shortest predicted build";
  std::vector<std::string> names = UniqueNodeNames(graph);
  BatchState state;
  if (!LoadAllState(disk, project.dir, &state, err)) return false;
  timer->Lap("load state");
  CostModel cost = HistoryCosts(disk, graph, state, project.dir, manifest.adapter_type, options);
  // On a server, the policy file's pools limit batches side by side as -j does.
  if (manifest.adapter_type != "duckdb") cost.pools = policy.pools;
  cost.hooks = HookCount(manifest);
  std::map<std::string, double> predictions;
  Grouping grouping =
      policy.name.empty() ? GroupByDefault(manifest.adapter_type, project, graph, names, &policy, &policy_reason)
      : policy.kind == PolicyKind::kAuto
          ? ChooseGrouping(policy, project, graph, names, cost, dbt.threads, &predictions)
          : GroupGraph(policy, policy.name, project, graph, names);
  Partition& partition = grouping.partition;
  // A batch that failed runs node by node until every member has succeeded.
  std::map<std::string, std::vector<std::string>> members;
  for (const Batch& batch : partition.batches)
    for (int node : batch.members) members[batch.name].push_back(graph.nodes[node].unique_id);
  SplitChoice splits = ChooseSplits(SplitMarkers(disk, project.dir), members, state);
  SplitIntoNodes(graph, names, splits.split, &partition);
  inputs.dirs.push_back(SplitDir(project.dir));
  if (!options.policy_file.empty())
    inputs.files.push_back(fs::absolute(options.policy_file).lexically_normal());
  std::vector<BatchSettings> batch_settings = SettingsOfBatches(
      policy, grouping.group_settings, grouping.keys, graph, partition, dbt.threads);
  timer->Lap("partition");

  // What changes every node's result: a node built under other vars or
  // another target is not up to date.
  std::string settings_digest = Hasher()
                                    .Add(manifest.dbt_version)
                                    .Add(project.profile)
                                    .Add(dbt.target)
                                    .Add(dbt.vars)
                                    .Add(KeyedDigest(key, identity.text))
                                    .Add(environment)
                                    .Hex();
  Plan plan = MakePlan(RelativePath(project.dir, output.parent_path()), dbt, settings_digest,
                       graph, partition, batch_settings);
  plan.selectable = selectable_later.valid() ? selectable_later.get() : std::move(selectable);
  BuildDescription description{&project, &graph, &partition, &plan, names, manifest.adapter_type,
                               output, SelfPath(), RegenerateArgs(options, project, dbt, output),
                               inputs.files, inputs.dirs, &batch_settings, policy.pools,
                               identity.env_vars, IdentityKeyFile(project.dir)};
  // The plan's text is made on a second thread while build.ninja's is made here.
  std::string plan_text;
  std::exception_ptr plan_failure;  // PlanToJson's, rethrown here
  std::jthread plan_writer([&] {
    try {
      AdviseThreadHeap();
      plan_text = PlanToJson(plan);
    } catch (...) {
      plan_failure = std::current_exception();
    }
  });
  std::string ninja_text;
  bool ninja_made = WriteNinja(MakeNinjaFile(description), &ninja_text, err);
  plan_writer.join();
  if (plan_failure) std::rethrow_exception(plan_failure);
  if (!ninja_made) {
    *err = fmt::format("{}: {}", manifest_file.string(), *err);
    return false;
  }

  // Another build file of this project with other batches would lose its
  // stamps and state files to this one's (exec/outputs.h).
  if (!options.read_only && !CheckOtherOutputs(disk, project.dir, output, plan, err)) return false;
  std::error_code ec;
  // .pa/stamps too: Ninja would otherwise create it for the first stamp,
  // with its own mode rather than the project folder's (util/fs.h).
  if (!disk.MakeDirs(SplitDir(project.dir), err) ||
      !disk.MakeDirs(StampDir(project.dir), err))
    return false;
  bool changed = false;
  fs::path plan_file = PlanFile(output);
  // The pair changes together, build.ninja last: exec checks each batch's
  // digest against the plan and says "run pa-gen again" on a mismatch.
  // What build.ninja's environment check compares with, written first: the
  // regeneration edge depends on it.
  if (!identity.env_vars.empty() &&
      !disk.WriteFileIfChanged(project.dir / EnvDigestPath(), environment + "\n", &changed, err))
    return false;
  if (!disk.WriteFilesIfChanged({{plan_file, plan_text}, {output, ninja_text}}, &changed, err))
    return false;
  for (const std::string& name : splits.merged) SetSplitMarker(disk, project.dir, name, false);
  if (!RegroupState(disk, project.dir, plan, state, err, unselected)) return false;
  if (!options.read_only && !RecordOutput(disk, project.dir, output, err)) return false;
  timer->Lap("write");
  if (fresh) fresh->Succeeded();
  *out = Generation{plan_file,        project,    std::move(graph),
                    std::move(names),   std::move(grouping), std::move(batch_settings),
                    std::move(cost),    dbt.threads, std::move(predictions),
                    policy, std::move(policy_reason), std::move(manifest), std::move(plan)};
  return true;
}

}  // namespace

int Generate(CommandRunner& runner, Disk& disk, const GenerateOptions& options,
             Generation* generation) {
  std::string err;
  PhaseTimer timer;
  if (Run(runner, disk, options, &timer, generation, &err)) {
    if (options.timings) fmt::print(stderr, "{}", timer.Report());
    return 0;
  }
  fmt::print(stderr, "pa-gen: error: {}\n", err);
  return 2;
}
