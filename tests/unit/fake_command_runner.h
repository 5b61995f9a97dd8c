#pragma once

#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "util/command_runner.h"
#include "util/disk.h"

// A CommandRunner for unit tests, in the spirit of Ninja's FakeCommandRunner:
// it starts nothing, records every request, and plays a script. Each step
// writes what a real dbt would have left (run_results.json under the
// request's --target-path, JSON log lines under --log-path, console output
// to `output`) and ends as told: exit code, timed out, interrupted. Files go
// to `disk` when set (an in-memory FakeDisk), else to the real file system.
class FakeCommandRunner : public CommandRunner {
 public:
  struct Step {
    int exit_code = 0;
    bool timed_out = false;
    int interrupted_by = 0;
    std::string output;        // the console text, written to request.output
    std::string run_results;   // written to <--target-path>/run_results.json; "": none
    std::string log;           // written to <--log-path>/dbt.log; "": none
    bool start_fails = false;  // Run returns false: the program could not be started
    std::function<void(const CommandRequest&)> also;  // anything else it should do
  };

  // Steps run in order; a request beyond the script fails to start.
  std::deque<Step> script;
  std::vector<CommandRequest> requests;
  Disk* disk = nullptr;

  bool Run(const CommandRequest& request, CommandResult* result, std::string* err) override {
    requests.push_back(request);
    *result = CommandResult();
    result->ran_by = "fake";
    if (script.empty()) {
      *err = "fake runner: no step scripted for " + (request.argv.empty() ? "" : request.argv[0]);
      return false;
    }
    Step step = std::move(script.front());
    script.pop_front();
    if (step.start_fails) {
      *err = "cannot run " + request.argv[0] + ": scripted failure";
      return false;
    }
    if (!request.output.empty()) Write(request.output, step.output);
    if (!step.run_results.empty()) Write(ArgAfter(request, "--target-path") / "run_results.json", step.run_results);
    if (!step.log.empty()) Write(ArgAfter(request, "--log-path") / "dbt.log", step.log);
    if (step.also) step.also(request);
    result->exit_code = step.exit_code;
    result->timed_out = step.timed_out;
    result->interrupted_by = step.interrupted_by;
    return true;
  }

  // The argument that follows `flag` in the request's argv; "" when absent.
  static std::filesystem::path ArgAfter(const CommandRequest& request, const std::string& flag) {
    for (size_t i = 0; i + 1 < request.argv.size(); ++i)
      if (request.argv[i] == flag) return request.argv[i + 1];
    return {};
  }

  // The arguments after `--select` up to the next flag.
  static std::vector<std::string> Selected(const CommandRequest& request) {
    std::vector<std::string> out;
    bool in = false;
    for (const std::string& arg : request.argv) {
      if (in && arg.rfind("--", 0) == 0) break;
      if (in) out.push_back(arg);
      if (arg == "--select") in = true;
    }
    return out;
  }

  void Write(const std::filesystem::path& path, const std::string& text) {
    if (disk) {
      bool changed = false;
      std::string err;
      disk->WriteFileIfChanged(path, text, &changed, &err);
      return;
    }
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    std::ofstream(path, std::ios::binary) << text;
  }
};
