#include "cli/progress_watch.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "cli/generate.h"
#include "exec/progress.h"
#include "exec/state.h"
#include "exec/trace.h"
#include "plan/layout.h"
#include "plan/plan_json.h"
#include "util/disk.h"
#include "util/process.h"

namespace {

constexpr long long kPollMs = 200;

// The complete lines added to a file since the last call. A file that got
// shorter or vanished was started again (a retried dbt): *restarted.
class FileTail {
 public:
  explicit FileTail(fs::path path) : path_(std::move(path)) {}
  std::vector<std::string> Read(bool* restarted, bool final) {
    *restarted = false;
    std::vector<std::string> lines;
    int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st = {};
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < offset_ ||
        (offset_ > 0 && st.st_ino != inode_)) {
      *restarted = offset_ > 0;
      offset_ = 0;
      partial_.clear();
    }
    if (fd >= 0) {
      inode_ = st.st_ino;
      char buffer[65536];
      ssize_t n;
      while ((n = pread(fd, buffer, sizeof buffer, offset_)) > 0) {
        offset_ += n;
        partial_.append(buffer, static_cast<size_t>(n));
      }
      close(fd);
    }
    size_t start = 0;
    for (size_t end; (end = partial_.find('\n', start)) != std::string::npos; start = end + 1)
      lines.push_back(partial_.substr(start, end - start));
    partial_.erase(0, start);
    if (final && !partial_.empty()) lines.push_back(std::move(partial_)), partial_.clear();
    return lines;
  }

 private:
  fs::path path_;
  off_t offset_ = 0;
  ino_t inode_ = 0;
  std::string partial_;
};

// Ninja's own status line, "[3/7] dbt build marts ...", under NINJA_STATUS below.
bool IsNinjaStatus(const std::string& line) {
  size_t i = 0;
  if (line.empty() || line[i++] != '[') return false;
  bool digits = false, slash = false;
  for (; i < line.size() && line[i] != ']'; ++i) {
    if (line[i] == '/' && digits && !slash) {
      slash = true;
      digits = false;
    } else if (line[i] >= '0' && line[i] <= '9') {
      digits = true;
    } else {
      return false;
    }
  }
  return slash && digits && i + 1 < line.size() && line[i + 1] == ' ';
}

size_t TerminalWidth() {
  winsize size = {};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

void Write(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(STDOUT_FILENO, text.data() + done, text.size() - done);
    if (n <= 0) return;  // a closed pipe loses the display, never the build
    done += static_cast<size_t>(n);
  }
}

long long SteadyMs() { return MonotonicMs(); }

class Watch {
 public:
  Watch(fs::path dir, fs::path project, const RunPrediction& prediction, long long build_us,
        bool terminal)
      : dir_(std::move(dir)),
        project_(std::move(project)),
        progress_(prediction.runs, prediction.seconds, prediction.startup, prediction.threads,
                  SteadyMs(), prediction.Overheads()),
        text_(terminal, terminal ? TerminalWidth() : 0),
        build_us_(build_us),
        terminal_(terminal),
        ninja_(dir_ / "ninja.out") {}

  void Poll(bool final) {
    long long now = SteadyMs();
    std::vector<std::string> lines;
    std::string err;
    for (const std::string& name : disk_.ListDir(dir_)) {
      if (name.size() < 6 || name.compare(name.size() - 5, 5, ".json") != 0) continue;
      std::string batch = name.substr(0, name.size() - 5);
      std::string text;
      if (!disk_.ReadFile(dir_ / name, &text, &err) || seen_[batch] == text) continue;
      seen_[batch] = text;
      BatchProgress p;
      if (!ParseBatchProgress(text, &p, &err)) continue;
      started_.insert(batch);
      if (!p.done) continue;
      ReadLog(batch, true, &lines);  // what dbt logged before exec ended
      BatchState state;
      bool have_state = LoadBatchState(disk_, StateFile(project_, batch), &state, &err);
      for (std::string& line : progress_.OnBatch(p, now, have_state ? &state : nullptr))
        lines.push_back(std::move(line));
      done_.insert(batch);
    }
    // OnBatch for batches seen started but not yet done.
    for (const std::string& batch : started_) {
      if (done_.count(batch)) continue;
      BatchProgress p;
      if (!ParseBatchProgress(seen_[batch], &p, &err)) continue;
      for (std::string& line : progress_.OnBatch(p, now)) lines.push_back(std::move(line));
      ReadLog(batch, false, &lines);
    }
    bool restarted;
    for (std::string& line : ninja_.Read(&restarted, final)) {
      if (terminal_ && IsNinjaStatus(line)) continue;
      if (progress_.AlreadyReported(line)) continue;
      lines.push_back(std::move(line));
    }
    std::string out = text_.Lines(lines);
    out += final ? text_.Finish(progress_, now) : text_.Status(progress_, now);
    Write(out);
  }

 private:
  void ReadLog(const std::string& batch, bool final, std::vector<std::string>* lines) {
    auto it = logs_.find(batch);
    if (it == logs_.end())
      it = logs_.emplace(batch, FileTail(RunLogFile(project_ / RunDir(batch)))).first;
    bool restarted;
    std::vector<std::string> read = it->second.Read(&restarted, final);
    if (restarted) progress_.OnLogRestarted(batch);
    for (const std::string& line : read) {
      NodeEvent event;
      // A log left by an earlier build, before exec removed it, is not ours.
      if (!ParseNodeEvent(line, &event) || event.ts_us < build_us_) continue;
      for (std::string& failure : progress_.OnNode(batch, event)) lines->push_back(std::move(failure));
    }
  }

  RealDisk disk_;
  fs::path dir_, project_;
  BuildProgress progress_;
  ProgressText text_;
  long long build_us_;
  bool terminal_;
  FileTail ninja_;
  std::map<std::string, FileTail> logs_;
  std::map<std::string, std::string> seen_;  // each batch file's last text
  std::set<std::string> started_, done_;
};

// Whether process `pid` exists (a zombie or another user's counts).
bool ProcessRunning(int pid) { return kill(pid, 0) == 0 || errno == EPERM; }

}  // namespace

int RemoveFinishedProgress(Disk& disk, const fs::path& project,
                           const std::function<bool(int pid)>& running) {
  fs::path root = ProgressRootDir(project);
  int removed = 0;
  for (const std::string& name : disk.ListDir(root)) {
    fs::path dir = root / name;
    fs::path lock_file = ProgressLockFile(dir);
    bool finished = false;
    if (disk.Exists(lock_file)) {
      FileLock probe;
      std::string ignored;
      bool held = false;
      finished = disk.TryLock(lock_file, &probe, &held, &ignored) && held;
    } else {
      size_t dash = name.rfind('-');
      std::string pid = dash == std::string::npos ? "" : name.substr(dash + 1);
      bool digits = !pid.empty() && pid.size() <= 9 &&
                    pid.find_first_not_of("0123456789") == std::string::npos;
      finished = digits && !running(std::stoi(pid));
    }
    if (!finished) continue;
    disk.RemoveTree(dir);
    ++removed;
  }
  return removed;
}

bool WantsProgress(const std::vector<std::string>& ninja_args) {
  if (const char* env = std::getenv("PA_PROGRESS"); env && std::string(env) == "0") return false;
  for (const std::string& arg : ninja_args)
    if (arg.rfind("-t", 0) == 0 || arg == "-n" || arg == "-h" || arg == "--help" || arg == "--version")
      return false;
  return true;
}

bool RunWithProgress(CommandRunner& runner, CommandRequest command, const fs::path& plan_file,
                     const std::vector<std::string>& ninja_args, CommandResult* result,
                     std::string* err) {
  RealDisk disk;
  Plan plan;
  RunPrediction prediction;
  std::string ignored;
  if (!LoadPlan(disk, plan_file, &plan, &ignored) ||
      !PredictRuns(disk, plan_file, &prediction, &ignored))
    return runner.Run(command, result, err);  // no display rather than no build
  KeepTargets(plan, ninja_args, &prediction);
  // dbt threads the profile sets are unknown here: assume what explain assumes.
  for (auto& [batch, threads] : prediction.threads)
    if (threads <= 0) threads = kAssumedProfileThreads;
  fs::path project = (fs::absolute(plan_file).parent_path() / plan.project_dir).lexically_normal();
  const char* started = std::getenv(kBuildStartedEnv);
  long long build_us = started ? std::atoll(started) : NowNs() / 1000;
  RemoveFinishedProgress(disk, project, ProcessRunning);
  fs::path dir = ProgressDir(project, std::to_string(build_us) + "-" + std::to_string(getpid()));
  // Held while this build runs: the next build removes the folder when a
  // kill -9 left it behind (RemoveFinishedProgress).
  FileLock running;
  if (!disk.MakeDirs(dir, &ignored) ||
      !disk.Lock(ProgressLockFile(dir), &running, [](const std::string&) {}, &ignored))
    return runner.Run(command, result, err);
  setenv(kProgressDirEnv, dir.c_str(), 1);
  bool terminal = isatty(STDOUT_FILENO) && std::getenv("TERM") && std::string(std::getenv("TERM")) != "dumb";
  command.output = dir / "ninja.out";
  // Ninja's status lines are left out in a terminal: know them by their form.
  if (terminal) command.env.push_back({"NINJA_STATUS", "[%f/%t] "});
  signal(SIGPIPE, SIG_IGN);  // a closed stdout ends the display, not pa-gen

  Watch watch(dir, project, prediction, build_us, terminal);
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
  // The signals the runner passes on to Ninja stay with this thread: the
  // display's thread starts with them blocked.
  sigset_t held, old;
  sigemptyset(&held);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&held, sig);
  pthread_sigmask(SIG_BLOCK, &held, &old);
  std::thread display([&] {
    std::unique_lock<std::mutex> lock(mutex);
    while (!stop) {
      lock.unlock();
      watch.Poll(false);
      lock.lock();
      wake.wait_for(lock, std::chrono::milliseconds(kPollMs), [&] { return stop; });
    }
  });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  bool ran = runner.Run(command, result, err);
  {
    std::lock_guard<std::mutex> lock(mutex);
    stop = true;
  }
  wake.notify_all();
  display.join();
  watch.Poll(true);
  disk.RemoveTree(dir);
  unsetenv(kProgressDirEnv);
  return ran;
}
