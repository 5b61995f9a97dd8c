#include "util/process.h"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace {

CommandRequest Shell(const std::string& script) { return {{"/bin/sh", "-c", script}, {}, {}, {}, 0}; }

TEST(Subprocess, ReportsTheExitCode) {
  SubprocessRunner runner;
  CommandResult result;
  std::string err;
  ASSERT_TRUE(runner.Run(Shell("exit 3"), &result, &err)) << err;
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.interrupted_by, 0);
  EXPECT_EQ(result.ran_by, "process");
}

TEST(Subprocess, WritesOutputEnvAndCwd) {
  std::string out = ::testing::TempDir() + "/pa_gen_process_out.txt";
  CommandRequest request = Shell("echo $PA_TEST_VALUE; pwd; echo oops >&2");
  request.output = out;
  request.cwd = "/";
  request.env = {{"PA_TEST_VALUE", "hello"}};
  SubprocessRunner runner;
  CommandResult result;
  std::string err;
  ASSERT_TRUE(runner.Run(request, &result, &err)) << err;
  std::stringstream text;
  text << std::ifstream(out).rdbuf();
  EXPECT_EQ(text.str(), "hello\n/\noops\n");
}

TEST(Subprocess, AMissingProgramIsAnError) {
  SubprocessRunner runner;
  CommandResult result;
  std::string err;
  EXPECT_FALSE(runner.Run({{"/no/such/program"}, {}, {}, {}, 0}, &result, &err));
  EXPECT_EQ(err, "cannot run /no/such/program: No such file or directory");
}

TEST(Subprocess, ATimeoutStopsTheGroup) {
  // In the foreground: a non-interactive shell's background job ignores SIGINT.
  CommandRequest request = Shell("sleep 30; echo not reached");
  request.timeout_seconds = 1;
  SubprocessRunner runner;
  CommandResult result;
  std::string err;
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(runner.Run(request, &result, &err)) << err;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.exit_code, 128 + SIGINT);
  EXPECT_LT(seconds, 5.0);  // not the 30 s of sleep: SIGINT reached the group
}

TEST(Subprocess, SigkillFollowsWhenIntIsIgnored) {
  CommandRequest request = Shell("trap '' INT; while :; do sleep 0.1; done");
  request.timeout_seconds = 1;
  SubprocessRunner runner;
  CommandResult result;
  std::string err;
  ASSERT_TRUE(runner.Run(request, &result, &err)) << err;
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.exit_code, 128 + SIGKILL);  // after the 5 s grace
}

}  // namespace
