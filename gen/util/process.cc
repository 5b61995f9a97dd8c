#include "util/process.h"

#include "util/fs.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

namespace {

// The child's process group, for the signal handler.
std::atomic<pid_t> g_child_group{0};
std::atomic<int> g_received{0};
std::atomic<int> g_signals{0};  // how many, for "a second Ctrl-C stops now"

void PassOn(int sig) {
  g_received = sig;
  ++g_signals;
  pid_t group = g_child_group;
  if (group > 0) kill(-group, sig);
}

// Passes `sig` to the process group of each child of `parent` (Ninja's
// edges: each leads a group of its own), or to the child itself when it
// leads none.
void SignalChildGroups(pid_t parent, int sig) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat, ignored;
    if (!ReadFile(entry.path() / "stat", &stat, &ignored)) continue;
    size_t paren = stat.rfind(')');  // "pid (comm) state ppid ...": comm may hold anything
    if (paren == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(stat.c_str() + paren + 1, " %c %d", &state, &ppid) != 2 || ppid != parent) continue;
    pid_t child = static_cast<pid_t>(std::stol(name));
    if (kill(-child, sig) != 0) kill(child, sig);
  }
}

// Only where the kernel has no pidfd (before Linux 5.3): how often to look.
constexpr int kFallbackPollMs = 20;

}  // namespace

long long MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

GroupStopper::GroupStopper(int group, int timeout_seconds, int grace_seconds, bool kill_on_second)
    : group_(group),
      timeout_at_(timeout_seconds > 0 ? MonotonicMs() + timeout_seconds * 1000LL : -1),
      grace_ms_(grace_seconds * 1000LL),
      kill_on_second_(kill_on_second) {}

void GroupStopper::Step(int signals, CommandResult* result) {
  bool interrupted = signals > 0;
  long long now = MonotonicMs();
  if (timeout_at_ >= 0 && !result->timed_out && now >= timeout_at_) {
    result->timed_out = true;
    // SIGINT, as Ctrl-C: dbt then cancels its queries on the server and
    // writes run_results.json; after SIGTERM a PostgreSQL query went on
    // running (and holding its locks) after dbt was gone.
    kill(-group_, SIGINT);
    kill_at_ = now + grace_ms_;
  }
  // dbt stops its threads gracefully on SIGINT, but a query or Python
  // model may keep it busy: after a grace period the group is killed.
  if (interrupted && kill_at_ == 0 && !result->timed_out) kill_at_ = now + grace_ms_;
  // A second Ctrl-C: stop now.
  if (signals >= 2 && kill_on_second_ && kill_at_ > 0) kill_at_ = now;
  if (kill_at_ > 0 && now >= kill_at_) {
    kill(-group_, SIGKILL);
    kill_at_ = -1;  // once
  }
}

long long GroupStopper::NextDeadline(const CommandResult& result) const {
  long long next = timeout_at_ >= 0 && !result.timed_out ? timeout_at_ : -1;
  if (kill_at_ > 0 && (next < 0 || kill_at_ < next)) next = kill_at_;
  return next;
}

bool RunSubprocess(const Subprocess& command, SubprocessResult* result, std::string* err) {
  *result = SubprocessResult();
  std::vector<char*> argv;
  for (const std::string& a : command.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int out_fd = -1;
  if (!command.output.empty()) {
    out_fd = open(command.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  NewFileMode(command.output));
    if (out_fd < 0) {
      *err = fmt::format("{}: cannot write: {}", command.output.string(), std::strerror(errno));
      return false;
    }
  }
  // A pipe with CLOEXEC tells the parent whether exec failed, and why.
  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    *err = fmt::format("pipe: {}", std::strerror(errno));
    return false;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    *err = fmt::format("fork: {}", std::strerror(errno));
    return false;
  }
  if (pid == 0) {
    close(status_pipe[0]);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    // What the caller ignores or holds back (pa-gen exec ignores SIGPIPE) is not the child's business.
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (out_fd >= 0) {
      dup2(out_fd, 1);
      dup2(out_fd, 2);
    }
    for (const auto& [key, value] : command.env) setenv(key.c_str(), value.c_str(), 1);
    int e = 0;
    if (!command.cwd.empty() && chdir(command.cwd.c_str()) != 0) {
      e = errno;
    } else {
      execv(argv[0], argv.data());
      e = errno;
    }
    (void)!write(status_pipe[1], &e, sizeof e);
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so the group exists before we may signal it
  g_child_group = pid;
  g_received = 0;
  g_signals = 0;
  struct sigaction pass_on = {};
  pass_on.sa_handler = PassOn;
  sigemptyset(&pass_on.sa_mask);
  struct sigaction old_int, old_term, old_hup;
  sigaction(SIGINT, &pass_on, &old_int);
  sigaction(SIGTERM, &pass_on, &old_term);
  sigaction(SIGHUP, &pass_on, &old_hup);

  close(status_pipe[1]);
  if (out_fd >= 0) close(out_fd);
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(status_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close(status_pipe[0]);

  std::string wait_err;
  // The child's exit makes its pidfd readable; a signal for us interrupts
  // ppoll, which is the only place the three signals are unblocked, so none
  // can slip in between looking at g_received and going to sleep.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  sigset_t forwarded, unblocked;
  sigemptyset(&forwarded);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&forwarded, sig);
  sigprocmask(SIG_BLOCK, &forwarded, &unblocked);
  GroupStopper stopper(pid, command.timeout_seconds, command.stop_grace_seconds,
                       !command.second_signal_to_children);
  int children_told = 1;  // signals the children had: the first is the command's to pass on
  int status = 0;
  for (;;) {
    rusage usage = {};
    pid_t done = wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) {
      result->cpu_seconds = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
                            usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
      break;
    }
    if (done < 0 && errno != EINTR) {
      wait_err = fmt::format("waitpid: {}", std::strerror(errno));
      break;
    }
    if (int signals = g_signals; command.second_signal_to_children && signals > children_told) {
      SignalChildGroups(pid, g_received);
      children_told = signals;
    }
    stopper.Step(g_signals, result);
    // Sleep until the child exits, a signal arrives, or the next deadline.
    long long now = MonotonicMs();
    long long wake = stopper.NextDeadline(*result);
    if (pidfd < 0 && (wake < 0 || wake > now + kFallbackPollMs)) wake = now + kFallbackPollMs;
    timespec timeout = {};
    if (wake >= 0) {
      long long ms = wake > now ? wake - now : 0;
      timeout.tv_sec = ms / 1000;
      timeout.tv_nsec = (ms % 1000) * 1000000;
    }
    pollfd exited = {pidfd, POLLIN, 0};
    ppoll(pidfd >= 0 ? &exited : nullptr, pidfd >= 0 ? 1 : 0, wake >= 0 ? &timeout : nullptr,
          &unblocked);
  }
  if (pidfd >= 0) close(pidfd);
  sigprocmask(SIG_SETMASK, &unblocked, nullptr);
  // Whatever the child left in its group (dbt's own children) goes too.
  kill(-pid, SIGKILL);
  g_child_group = 0;
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGHUP, &old_hup, nullptr);
  result->interrupted_by = g_received;

  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    *err = fmt::format("cannot run {}: {}", command.argv[0], std::strerror(child_errno));
    return false;
  }
  if (!wait_err.empty()) {
    *err = wait_err;
    return false;
  }
  result->exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return true;
}

std::filesystem::path FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::filesystem::path candidate = std::filesystem::path(dir) / name;
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0)
      return std::filesystem::absolute(candidate);
  }
  return {};
}
