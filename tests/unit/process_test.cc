#include "util/process.h"

#include <signal.h>

#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

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

// Sends SIGINT to this thread `times` times, 300 ms apart, once `ready` exists.
std::thread CtrlC(const std::string& ready, int times) {
  pthread_t runner_thread = pthread_self();
  return std::thread([=] {
    while (access(ready.c_str(), F_OK) != 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (int i = 0; i < times; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the runner waits by now
      pthread_kill(runner_thread, SIGINT);
    }
  });
}

// Runs `request` while CtrlC(ready, times) interrupts it.
CommandResult RunInterrupted(const CommandRequest& request, const std::string& ready, int times) {
  std::thread ctrl_c = CtrlC(ready, times);
  SubprocessRunner runner;
  CommandResult result;
  std::string err;
  bool ran = runner.Run(request, &result, &err);
  ctrl_c.join();
  EXPECT_TRUE(ran) << err;
  return result;
}

// Ctrl-C passed on to a command that takes 2 s to stop: within its stop
// grace it ends on its own (pa-gen build gives Ninja time to stop its
// edges); past it, the group gets SIGKILL.
TEST(Subprocess, APassedOnSignalLeavesTheStopGraceBeforeSigkill) {
  std::string ready = ::testing::TempDir() + "/pa_gen_process_ready";
  for (int grace : {1, 10}) {
    std::remove(ready.c_str());
    CommandRequest request =
        Shell("trap 'sleep 2; exit 7' INT; touch '" + ready + "'; while :; do sleep 0.1; done");
    request.stop_grace_seconds = grace;
    CommandResult result = RunInterrupted(request, ready, 1);
    EXPECT_EQ(result.interrupted_by, SIGINT);
    EXPECT_EQ(result.exit_code, grace == 1 ? 128 + SIGKILL : 7) << "grace " << grace;
  }
}

// A second Ctrl-C means "stop now": SIGKILL at once, not at the end of the
// 30 s grace (the command ignores SIGINT; the test would take 30 s).
TEST(Subprocess, ASecondSignalKillsAtOnce) {
  std::string ready = ::testing::TempDir() + "/pa_gen_process_ready2";
  std::remove(ready.c_str());
  CommandRequest request = Shell("trap '' INT; touch '" + ready + "'; while :; do sleep 0.1; done");
  request.stop_grace_seconds = 30;
  CommandResult result = RunInterrupted(request, ready, 2);
  EXPECT_EQ(result.interrupted_by, SIGINT);
  EXPECT_EQ(result.exit_code, 128 + SIGKILL);
}

// Ninja's way (second_signal_to_children): its edges lead process groups of
// their own and it passes only the first signal on. The second reaches
// them too, and the command itself is not killed: it ends once they have.
TEST(Subprocess, ASecondSignalReachesTheChildrensOwnGroups) {
  std::string dir = ::testing::TempDir();
  std::string ready = dir + "/pa_gen_process_ready3", got = dir + "/pa_gen_process_got3";
  for (int times : {1, 2}) {
    std::remove(ready.c_str());
    std::remove(got.c_str());
    // The parent waits for its child (a caught SIGINT waits for the
    // foreground child, as Ninja does); the child leads a group of its own.
    CommandRequest request = Shell(
        "trap 'echo parent' INT; setsid sh -c \"trap 'touch " + got + "; exit 0' INT; echo \\$\\$ > " + ready +
        "; while :; do sleep 0.1; done\"; exit 5");
    request.stop_grace_seconds = times == 1 ? 2 : 30;
    request.second_signal_to_children = true;
    CommandResult result = RunInterrupted(request, ready, times);
    if (times == 1) {  // the child never heard of it: the grace ran out
      std::ifstream pid_file(ready);
      int child = 0;
      pid_file >> child;
      if (child > 1) kill(child, SIGKILL);  // it outlives its parent
      EXPECT_EQ(result.exit_code, 128 + SIGKILL);
      EXPECT_NE(access(got.c_str(), F_OK), 0);
    } else {
      EXPECT_EQ(result.exit_code, 5);
      EXPECT_EQ(access(got.c_str(), F_OK), 0);
    }
  }
}

}  // namespace
