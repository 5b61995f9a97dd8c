// pa-gen: writes a build.ninja whose edges are batched dbt invocations.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include <fmt/format.h>

#include "cli/build.h"
#include "cli/conventions.h"
#include "cli/explain.h"
#include "cli/generate.h"
#include "exec/batch_runner.h"
#include "dbt/dotenv.h"
#include "dbt/identity.h"
#include "dbt/options.h"
#include "exec/progress.h"
#include "exec/status.h"
#include "exec/trace.h"
#include "plan/layout.h"
#include "util/escape.h"
#include "util/disk.h"
#include "worker/worker_runner.h"

namespace {

// A number at least `min`, with one readable line when not.
CLI::Validator AtLeast(const char* flag, int min) {
  return CLI::Validator([flag, min](std::string& value) { return CheckNumber(flag, min, value); },
                        "", "");
}

}  // namespace

namespace {

int Main(int argc, char** argv) {
  // dbt's .env, from the current folder, under the environment (dbt/dotenv.h).
  {
    std::error_code ec;
    LoadDotenv(fs::current_path(ec));
  }
  CLI::App app{
      "pa-gen: turns a dbt project into a build.ninja of batched dbt invocations.\n"
      "Run it in a dbt project, then `ninja`."};
  app.set_version_flag("--version", "pa-gen 0.1.0");
  app.fallthrough();  // `pa-gen status --target prod` reads as `pa-gen --target prod status`
  GenerateOptions options;
  app.add_option("--project-dir", options.project_dir, "The dbt project folder")->capture_default_str();
  app.add_option("-o,--output", options.output, "Where to write build.ninja (default: in the project folder)");
  for (const DbtOption& dbt_option : DbtOptions()) {
    CLI::Option* flag = std::visit(
        [&](auto field) { return app.add_option(dbt_option.flag, options.dbt.*field, dbt_option.help); },
        dbt_option.field);
    if (std::holds_alternative<int DbtSettings::*>(dbt_option.field)) {
      flag->check(AtLeast(dbt_option.flag, dbt_option.min));
      if (dbt_option.always) flag->capture_default_str();
    } else {
      const char* name = dbt_option.flag;
      flag->check(CLI::Validator(
          [name](std::string& value) { return CheckOneLine(name, value); }, "", ""));
    }
  }
  app.add_option("--manifest", options.manifest, "Use this manifest.json instead of running `dbt parse`");
  app.add_option("--policy", options.policy,
                 "Grouping policy: folder, folder:N, per-model, tag, tag:A,B, meta:KEY, "
                 "resource-type, level, component, single, auto (default: single on DuckDB, "
                 "folder on server adapters, folders above 64 models cut into pieces)");
  app.add_option("-j,--jobs", options.jobs,
                 "Batches Ninja runs side by side, as its -j: what `auto` and `explain` predict for")
      ->capture_default_str()
      ->check(AtLeast("-j", 1));
  app.add_option("--max-batch-size", options.max_batch_size,
                 "Cut batches above N models, seeds and snapshots into chunks (default: no limit; "
                 "64 under a server adapter's default policy)")
      ->check(AtLeast("--max-batch-size", 1));
  app.add_option("--policy-file", options.policy_file,
                 "YAML (or JSON) rules that name groups, on top of --policy; see README");
  bool no_worker = false;
  app.add_flag("--no-worker", no_worker,
               "Run every dbt as a fresh process, not in the resident dbt worker (also: PA_NO_WORKER=1)");
  app.add_flag("--timings", options.timings, "After generating, print each phase's wall time to stderr");

  CLI::App* exec = app.add_subcommand("exec", "Run one batch of the plan (build.ninja calls this)");
  std::string plan;
  std::string digest;
  std::string batch;
  exec->add_option("--plan", plan, "The plan file beside build.ninja")->required();
  exec->add_option("--digest", digest, "The batch's digest in build.ninja")->required();
  exec->add_option("batch", batch, "The batch to run")->required();

  exec->add_flag("--no-worker", no_worker, "Run dbt as a fresh process, not in the resident worker");

  CLI::App* check = app.add_subcommand(
      "check", "Exit 1 unless every node of the plan succeeded (build.ninja's last edge calls this)");
  check->add_option("--plan", plan, "The plan file beside build.ninja")->required();
  // build.ninja's check_env edge (rules/pa.ninja), not for people: no group.
  CLI::App* check_env = app.add_subcommand("check-env", "")->group("");
  std::string env_key, env_out;
  std::vector<std::string> env_names;
  check_env->add_option("--key", env_key)->required();
  check_env->add_option("--out", env_out)->required();
  check_env->add_option("names", env_names);

  CLI::App* worker = app.add_subcommand("worker", "Show or stop this project's resident dbt workers");
  std::string worker_action;
  worker->add_option("action", worker_action, "status or stop")
      ->required()
      ->check(CLI::IsMember({"status", "stop"}));

  CLI::App* status = app.add_subcommand(
      "status", "Show for every node whether the next ninja (under these options) runs it, and why; "
                "read-only");
  CLI::App* forget = app.add_subcommand(
      "forget", "Make batches or nodes of build.ninja's plan (or -o's) count as never built; "
                "regenerate first only when options that shape the build are given");
  std::vector<std::string> names;
  bool full_refresh = false;
  forget->add_option("names", names, "Batch names, node names or unique_ids (default: all)");
  forget->add_flag("--full-refresh", full_refresh, "Their next dbt run adds --full-refresh");

  CLI::App* explain = app.add_subcommand(
      "explain", "Show each batch, why it looks that way and the predicted build time; read-only");
  bool json = false;
  explain->add_flag("--json", json, "As JSON");
  CLI::App* graph = app.add_subcommand("graph", "Print the batch graph as Graphviz DOT; read-only");
  bool graph_nodes = false;
  bool svg = false;
  graph->add_flag("--nodes", graph_nodes, "The node graph, batches as clusters");
  graph->add_flag("--svg", svg, "Render it with Graphviz's dot");

  CLI::App* trace = app.add_subcommand(
      "trace", "Print where the last build's timeline (a Chrome trace) is, or convert it to SVG");
  std::string trace_svg;
  trace->add_option("--svg", trace_svg, "Write it as SVG to this file");

  CLI::App* build = app.add_subcommand(
      "build", "Regenerate, run ninja with the arguments that follow (e.g. -j8 -k 0) showing "
               "live progress, and summarise what failed");
  build->prefix_command();  // everything after `build` is Ninja's
  build->fallthrough(false);
  build->allow_extras();
  // One subcommand at most. CLI11 also matches a word inside a subcommand
  // against the other subcommands' names: `pa-gen build -d explain` ran
  // `explain`, `pa-gen build -t graph` ran `graph`. Once `build` is parsed no
  // name is a subcommand any more, so Ninja's arguments reach Ninja as given.
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ValidationError& e) {
    // One line, before any dbt runs: "--threads must be 0 or more, not -3".
    std::string what = e.what();
    if (auto colon = what.find(": "); colon != std::string::npos && what.rfind("--", 0) == 0 &&
        what.compare(colon + 2, 1, "-") == 0)
      what = what.substr(colon + 2);  // CLI11 prefixes the flag we name already
    fmt::print(stderr, "pa-gen: error: {}\n", what);
    return 2;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  // The one place that chooses how programs are started: dbt in the
  // resident worker unless --no-worker or PA_NO_WORKER says otherwise, and
  // anything the worker does not serve (ninja, dot) as a fresh process.
  if (no_worker) SetWorkerDisabled();
  // dbt's conventions: $DBT_PROJECT_DIR when --project-dir is not given;
  // `pa-gen build --select ... -j8` as `dbt build --select ...`.
  if (app.get_option("--project-dir")->count() == 0)
    if (const char* dir = std::getenv("DBT_PROJECT_DIR"); dir && *dir) options.project_dir = dir;
  std::vector<std::string> ninja_args = build->remaining();
  if (std::string err; *build && !TakeBuildSelection(&ninja_args, &options.dbt, &err)) {
    fmt::print(stderr, "pa-gen: error: {}\n", err);
    return 2;
  }
  CommandRunner& runner = DbtCommandRunner();
  if (*check_env) return CheckEnvironment(env_key, env_out, env_names);
  if (*worker) return WorkerCommand(fs::absolute(options.project_dir).lexically_normal(), worker_action);
  if (*exec) {
    RealDisk disk;
    int code = RunBatch(runner, disk, plan, digest, batch);
    if (code != 2) UpdateTraceAfterBatch(disk, plan);  // 2: no usable plan, one error line
    ReportBatchDone(disk, batch, code);  // last: state and trace are on disk (exec/progress.h)
    return code;
  }
  if (*trace) {
    RealDisk disk;
    return TraceCommand(disk, options.project_dir, trace_svg);
  }
  if (*check) {
    RealDisk disk;
    return CheckBuild(disk, plan);
  }
  // Plain `pa-gen forget` acts on the build as build.ninja has it, with the
  // options it was made with: its plan as it is. (It regenerated first,
  // under forget's own options, none: a build made with --policy, --vars or
  // --select got the defaults' build.ninja, and the next `pa-gen --policy
  // ... build` regenerated it back. A stale plan is the next ninja's to
  // regenerate; the state it clears is by node and survives that.) Given
  // options that shape the build, it regenerates under them first, as asked.
  bool shapes_build = false;
  for (const CLI::Option* option : app.get_options()) {
    const std::string& name = option->get_name();
    if (option->count() > 0 && name != "--project-dir" && name != "--output" && name != "--no-worker" &&
        name != "--timings")
      shapes_build = true;
  }
  if (*forget && !shapes_build) {
    fs::path output = options.output.empty()
                          ? fs::absolute(options.project_dir).lexically_normal() / "build.ninja"
                          : fs::absolute(options.output).lexically_normal();
    RealDisk disk;
    return Forget(disk, PlanFile(output), names, full_refresh);
  }
  // status, explain and graph show what these options would build and
  // never change what the next ninja does: their writes stay in memory.
  options.read_only = *status || *explain || *graph;
  RealDisk real_disk;
  OverlayDisk overlay_disk;
  Disk& disk = options.read_only ? static_cast<Disk&>(overlay_disk) : real_disk;
  // Freed by the process's exit, not piece by piece: a large project's
  // graph is hundreds of thousands of allocations (tens of ms to free).
  static Generation& generation = *new Generation;
  int code = Generate(runner, disk, options, &generation);
  if (code != 0) return code;
  const fs::path& plan_file = generation.plan_file;
  if (*status) return PrintStatus(disk, plan_file);
  if (*forget) return Forget(disk, plan_file, names, full_refresh);
  if (*explain) return Explain(generation, json);
  if (*graph) return WriteGraph(runner, disk, generation, graph_nodes, svg);
  if (*build) {
    fs::path ninja_file = options.output.empty() ? fs::path("build.ninja")
                                                 : fs::path(options.output).filename();
    // Each batch's exec then writes the trace of this build only (exec/trace.h).
    auto now = std::chrono::system_clock::now().time_since_epoch();
    setenv(kBuildStartedEnv,
           std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(now).count()).c_str(), 1);
    return RunNinja(runner, disk, plan_file.parent_path() / ninja_file, ninja_args);
  }
  return 0;
}

// One line on stderr, whatever the message holds.
void PrintLastError(std::string message) {
  NewlinesToSpaces(&message);
  std::fprintf(stderr, "pa-gen: error: %s\n", message.c_str());
}

}  // namespace

// The last line of defence: every reader returns its errors, but should an
// exception escape anyway (a filesystem call that throws, memory running
// out), pa-gen still ends with one line and exit 2, as for any bad input,
// instead of std::terminate's abort (exit 134) and a core dump.
int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    PrintLastError(e.what());
  } catch (...) {
    PrintLastError("unexpected failure");
  }
  return 2;
}
