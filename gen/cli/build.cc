#include "cli/build.h"

#include <cstdlib>

#include <fmt/format.h>

#include "cli/progress_watch.h"
#include "exec/status.h"
#include "util/process.h"
#include "plan/layout.h"

namespace {

// How long Ninja has to stop after Ctrl-C before it is killed. Ninja stops
// its edges itself: each `pa-gen exec` gives its dbt 5 s to stop, kills it,
// and records the nodes dbt finished; Ninja waits for them. Killing Ninja
// after the same 5 s ended the build with 137 while execs were still at it.
constexpr int kNinjaStopGraceSeconds = 30;

}  // namespace

int RunNinja(CommandRunner& runner, Disk& disk, const fs::path& build_ninja,
             const std::vector<std::string>& ninja_args) {
  const char* env = std::getenv("PA_NINJA");
  fs::path ninja = env && *env ? fs::path(env) : FindInPath("ninja");
  if (ninja.empty()) {
    fmt::print(stderr, "pa-gen: error: cannot find ninja: install it or set $PA_NINJA\n");
    return 2;
  }
  // Ninja runs in build.ninja's folder, as a plain `ninja` there would.
  fs::path dir = fs::absolute(build_ninja).parent_path();
  CommandRequest command;
  command.argv = {ninja.string(), "-f", build_ninja.filename().string()};
  command.argv.insert(command.argv.end(), ninja_args.begin(), ninja_args.end());
  command.cwd = dir;
  command.stop_grace_seconds = kNinjaStopGraceSeconds;
  // A second Ctrl-C reaches the execs, which stop their dbt at once.
  command.second_signal_to_children = true;
  long long start = NowNs();
  CommandResult result;
  std::string err;
  // The live progress line, unless Ninja only shows or lists (-n, -t).
  bool ran = WantsProgress(ninja_args) ? RunWithProgress(runner, command, PlanFile(build_ninja),
                                                         ninja_args, &result, &err)
                                       : runner.Run(command, &result, &err);
  if (!ran) {
    fmt::print(stderr, "pa-gen: error: {}\n", err);
    return 2;
  }
  // Also after a ninja that succeeded: `pa-gen build marts` has no check
  // edge, and a batch goes past its nodes' failures (exit 0, no stamp).
  int not_succeeded = PrintFailures(disk, PlanFile(build_ninja), start, result.exit_code != 0);
  // Ctrl-C (or SIGTERM, SIGHUP): 128 + the signal, as a shell reports a
  // program the signal stopped, whatever Ninja's own exit code was.
  if (result.interrupted_by) return 128 + result.interrupted_by;
  return result.exit_code != 0 ? result.exit_code : not_succeeded > 0 ? 1 : 0;
}
