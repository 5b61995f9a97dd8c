#include "worker/worker_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "util/process.h"

extern char** environ;

namespace {

std::atomic<pid_t> g_group{0};
std::atomic<int> g_received{0};
bool g_disabled = false;

std::atomic<int> g_signals{0};  // a second one stops the request now (util/process.h)

void PassOn(int sig) {
  g_received = sig;
  ++g_signals;
  pid_t group = g_group;
  if (group > 0) kill(-group, sig);
}

constexpr int kPollMs = 20;
constexpr int kStartTimeoutMs = 120000;  // importing dbt on a loaded machine
constexpr int kReplyTimeoutMs = 30000;


// Closes an fd when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

bool SendAll(int fd, const std::string& data, const int* fds, int nfds) {
  size_t sent = 0;
  while (sent < data.size()) {
    msghdr msg = {};
    iovec iov = {const_cast<char*>(data.data() + sent), data.size() - sent};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 3)] = {};
    if (sent == 0 && nfds > 0) {
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
      std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads one message. 1: got it; 0: the peer closed; -1: timeout or garbage.
// A timeout of -1 waits forever; `stop` (polled between reads) ends the
// wait early with -2.
int ReadMessage(int fd, std::string* buffer, nlohmann::json* message, int timeout_ms) {
  long long deadline = timeout_ms < 0 ? -1 : MonotonicMs() + timeout_ms;
  for (;;) {
    bool bad = false;
    if (DecodeMessage(buffer, message, &bad)) return 1;
    if (bad) return -1;
    int wait = deadline < 0 ? 1000 : static_cast<int>(deadline - MonotonicMs());
    if (deadline >= 0 && wait <= 0) return -1;
    pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, wait);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char chunk[65536];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    buffer->append(chunk, static_cast<size_t>(n));
  }
}

// One request/answer exchange on a fresh connection (hello, status, stop).
bool Ask(const fs::path& socket, const nlohmann::json& request, nlohmann::json* reply,
         std::string* why) {
  Fd fd(ConnectWorker(socket, why));
  if (fd.fd < 0) return false;
  if (!SendAll(fd.fd, EncodeMessage(request), nullptr, 0)) {
    *why = "cannot send to the worker";
    return false;
  }
  std::string buffer;
  if (ReadMessage(fd.fd, &buffer, reply, kReplyTimeoutMs) != 1) {
    *why = fmt::format("{} does not answer as a pa-gen worker", socket.string());
    return false;
  }
  return true;
}

// Whether a pa-gen worker for `key` serves `socket`.
bool Hello(const fs::path& socket, const WorkerKey& key, std::string* why) {
  nlohmann::json reply;
  if (!Ask(socket, {{"v", kWorkerProtocol}, {"op", "hello"}}, &reply, why)) return false;
  if (!reply.value("ok", false)) {
    *why = fmt::format("{} does not answer as a pa-gen worker", socket.string());
    return false;
  }
  if (reply.value("key", "") != key.text) {
    *why = fmt::format("{} serves another dbt, profile or vars", socket.string());
    return false;
  }
  return true;
}

// The adapter type of the project's profile, to import it once in the
// worker. Best effort: empty when anything is unusual (the child imports
// it anyway).
std::string AdapterFor(const CommandRequest& request) {
  try {
    fs::path project = request.cwd;
    fs::path profiles = fs::path(std::getenv("HOME") ? std::getenv("HOME") : "") / ".dbt";
    std::string target;
    std::string profile;
    for (const auto& [a, value] : FlagValues(request.argv, 2)) {
      if (a == "--project-dir") project = value;
      if (a == "--profiles-dir") profiles = value;
      if (a == "--target") target = value;
      if (a == "--profile") profile = value;
    }
    if (profile.empty()) profile = YAML::LoadFile((project / "dbt_project.yml").string())["profile"].as<std::string>();
    YAML::Node p = YAML::LoadFile((profiles / "profiles.yml").string())[profile];
    if (target.empty()) target = p["target"].as<std::string>();
    std::string type = p["outputs"][target]["type"].as<std::string>();
    for (char c : type)
      if (!isalnum(static_cast<unsigned char>(c)) && c != '_') return "";
    return type;
  } catch (...) {
    return "";
  }
}

// Starts a worker detached from us (its own session, not our child).
// Returns the read end of a pipe the worker writes "ready" to once it
// serves (EOF first: it failed), or -1.
int SpawnWorker(const fs::path& python, const WorkerPaths& paths, const WorkerKey& key,
                const CommandRequest& request, std::string* why) {
  bool changed = false;
  if (!WriteFileIfChanged(paths.script, kWorkerSource, &changed, why)) return -1;
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) {
    *why = fmt::format("pipe: {}", std::strerror(errno));
    return -1;
  }
  std::vector<std::string> args = {python.string(), paths.script.string()};
  std::string config = nlohmann::json{{"socket", paths.socket.string()},
                                      {"entry", paths.entry.string()},
                                      {"key", key.text},
                                      {"idle", WorkerRunner::IdleSeconds()},
                                      {"adapter", AdapterFor(request)},
                                      {"ready_fd", 3}}
                           .dump();
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    *why = fmt::format("fork: {}", std::strerror(errno));
    close(ready[0]);
    close(ready[1]);
    return -1;
  }
  if (pid == 0) {
    setsid();
    if (fork() != 0) _exit(0);
    int null = open("/dev/null", O_RDONLY);
    int log = open(paths.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    dup2(null, 0);
    dup2(log, 1);
    dup2(log, 2);
    dup2(ready[1], 3);  // without CLOEXEC
    for (int fd = 4; fd < 1024; ++fd) close(fd);
    for (const auto& [k, v] : request.env) setenv(k.c_str(), v.c_str(), 1);
    setenv("PA_WORKER_CONFIG", config.c_str(), 1);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    if (chdir(request.cwd.c_str()) != 0) _exit(127);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  close(ready[1]);
  return ready[0];
}

// Makes sure a worker for `key` serves paths.socket: the one there, or a
// new one started under the lock (so concurrent pa-gen share one).
bool EnsureWorker(const fs::path& python, const WorkerPaths& paths, const WorkerKey& key,
                  const CommandRequest& request, std::string* why) {
  if (Hello(paths.socket, key, why)) return true;
  // .pa/worker holds sockets and locks: ours alone, under a .pa/ that is no
  // more open than the project (util/fs.h).
  std::error_code ec;
  std::string ignored;
  CreateDirectories(paths.dir.parent_path(), &ignored);
  mkdir(paths.dir.c_str(), 0700);
  // The runtime folder holds the script (and maybe the socket): ours alone.
  fs::path runtime = paths.script.parent_path();
  mkdir(runtime.c_str(), 0700);
  struct stat st;
  if (lstat(runtime.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
      (st.st_mode & 077) != 0) {
    *why = fmt::format("{} is not a folder of ours with mode 0700", runtime.string());
    return false;
  }
  Fd lock(open(paths.lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.fd < 0) {
    *why = fmt::format("{}: {}", paths.lock.string(), std::strerror(errno));
    return false;
  }
  long long deadline = MonotonicMs() + kStartTimeoutMs;
  while (flock(lock.fd, LOCK_EX | LOCK_NB) != 0) {
    if (MonotonicMs() > deadline) {
      *why = "timed out waiting for another pa-gen to start the worker";
      return false;
    }
    usleep(50 * 1000);
  }
  // Another pa-gen may have started it while we waited for the lock.
  if (Hello(paths.socket, key, why)) return true;
  std::string stale = *why;
  // Under the lock nothing else binds here: what is there is stale (no
  // process, not a worker, or another key). The new worker renames its
  // socket over it; remove it anyway so that a dead one is not reported.
  fs::remove(paths.socket, ec);
  if (paths.socket != paths.entry) {
    fs::remove(paths.entry, ec);
    fs::create_symlink(paths.socket, paths.entry, ec);
  }
  Fd ready(SpawnWorker(python, paths, key, request, why));
  if (ready.fd < 0) return false;
  std::string said;
  while (MonotonicMs() < deadline) {
    pollfd p = {ready.fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(deadline - MonotonicMs()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char chunk[64];
    ssize_t n = read(ready.fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    said.append(chunk, static_cast<size_t>(n));
    if (said.find("ready") != std::string::npos) return Hello(paths.socket, key, why);
  }
  *why = fmt::format("the worker did not start (see {})", paths.log.string());
  return false;
}

std::string NormalProject(const fs::path& cwd) {
  std::string s = fs::absolute(cwd).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

int ConnectWorker(const fs::path& path, std::string* why) {
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof addr.sun_path) {
    *why = fmt::format("{}: socket path too long", path.string());
    return -1;
  }
  std::strcpy(addr.sun_path, path.c_str());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *why = fmt::format("socket: {}", std::strerror(errno));
    return -1;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *why = fmt::format("{}: {}", path.string(), std::strerror(errno));
    close(fd);
    return -1;
  }
  ucred cred = {};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != getuid()) {
    *why = fmt::format("{} belongs to another user", path.string());
    close(fd);
    return -1;
  }
  return fd;
}

int WorkerRunner::IdleSeconds() {
  if (const char* v = std::getenv("PA_WORKER_IDLE_SECONDS"); v && *v) {
    int n = std::atoi(v);
    if (n > 0) return n;
  }
  return 600;
}

bool WorkerEnabled() {
  if (g_disabled) return false;
  const char* v = std::getenv("PA_NO_WORKER");
  return !v || !*v || std::string(v) == "0";
}

void SetWorkerDisabled() { g_disabled = true; }

CommandRunner& DbtCommandRunner() {
  static SubprocessRunner process;
  static WorkerRunner worker(process);
  if (!WorkerEnabled()) return process;
  return worker;
}

bool WorkerRunner::Fallback(const CommandRequest& request, CommandResult* result,
                            std::string* err, const std::string& why) {
  fmt::print(stderr, "pa-gen: warning: dbt worker: {}; running dbt as a fresh process\n", why);
  return fallback_.Run(request, result, err);
}

bool WorkerRunner::Run(const CommandRequest& request, CommandResult* result, std::string* err) {
  std::optional<WorkerKey> key = KeyFor(request);
  if (!key || !WorkerEnabled()) return fallback_.Run(request, result, err);
  std::string why;
  if (TryWorker(request, *key, result, &why) == Outcome::kDone) return true;
  return Fallback(request, result, err, why);
}

WorkerRunner::Outcome WorkerRunner::TryWorker(const CommandRequest& request, const WorkerKey& key,
                                              CommandResult* result, std::string* why) {
  *result = CommandResult();
  fs::path python = PythonFor(request.argv[0]);
  if (python.empty()) {
    *why = fmt::format("no Python interpreter found for {}", request.argv[0]);
    return Outcome::kFallback;
  }
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  WorkerPaths paths = PathsFor(fs::path(NormalProject(request.cwd)), key.hash,
                               runtime ? runtime : "", getuid());
  if (paths.socket.string().size() + 16 > kMaxSocketPath) {
    *why = fmt::format("{}: socket path too long", paths.socket.string());
    return Outcome::kFallback;
  }
  // The run request carries the key, and a worker refuses another key's
  // request before it starts anything, so a worker already serving here
  // needs no hello first (one round trip, a fork in the worker, less per
  // batch). Only a refusal makes sure of a worker (starting one) and tries
  // once more.
  Outcome outcome = RunOnWorker(request, key, paths, result, why);
  if (outcome != Outcome::kRefused) return outcome;
  if (!EnsureWorker(python, paths, key, request, why)) return Outcome::kFallback;
  outcome = RunOnWorker(request, key, paths, result, why);
  return outcome == Outcome::kRefused ? Outcome::kFallback : outcome;
}

WorkerRunner::Outcome WorkerRunner::RunOnWorker(const CommandRequest& request, const WorkerKey& key,
                                                const WorkerPaths& paths, CommandResult* result,
                                                std::string* why) {
  *result = CommandResult();
  nlohmann::json message;
  std::string encoded;
  try {
    encoded = EncodeMessage(RunMessage(request, key, environ));
  } catch (const std::exception& e) {  // an environment that is not UTF-8
    *why = fmt::format("cannot encode the request: {}", e.what());
    return Outcome::kFallback;
  }
  Fd out;
  if (!request.output.empty()) {
    out.fd = open(request.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out.fd < 0) {
      *why = fmt::format("{}: cannot write: {}", request.output.string(), std::strerror(errno));
      return Outcome::kFallback;
    }
  }
  int fds[3] = {0, out.fd >= 0 ? out.fd : 1, out.fd >= 0 ? out.fd : 2};
  Fd sock(ConnectWorker(paths.socket, why));
  if (sock.fd < 0) return Outcome::kRefused;

  // From here on a signal is passed to the child's group once we know it.
  g_group = 0;
  g_received = 0;
  g_signals = 0;
  struct sigaction pass_on = {};
  pass_on.sa_handler = PassOn;
  sigemptyset(&pass_on.sa_mask);
  struct sigaction old_int, old_term, old_hup;
  sigaction(SIGINT, &pass_on, &old_int);
  sigaction(SIGTERM, &pass_on, &old_term);
  sigaction(SIGHUP, &pass_on, &old_hup);
  auto restore = [&] {
    g_group = 0;
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    sigaction(SIGHUP, &old_hup, nullptr);
    result->interrupted_by = g_received;
  };

  if (!SendAll(sock.fd, encoded, fds, 3)) {
    restore();
    *why = "cannot send the request to the worker";
    return Outcome::kRefused;
  }
  if (out.fd >= 0) {
    close(out.fd);
    out.fd = -1;
  }
  std::string buffer;
  nlohmann::json reply;
  if (ReadMessage(sock.fd, &buffer, &reply, kReplyTimeoutMs) != 1 || !reply.contains("pid") ||
      !reply["pid"].is_number_integer() || reply["pid"].get<long long>() <= 1) {
    restore();
    *why = reply.contains("error") ? fmt::format("the worker refused the request ({})",
                                                 reply["error"].dump())
                                   : "the worker did not start the request";
    if (g_received) {  // we were asked to stop: no fresh process either
      result->exit_code = 128 + result->interrupted_by;
      return Outcome::kDone;
    }
    return Outcome::kRefused;
  }
  pid_t pid = static_cast<pid_t>(reply["pid"].get<long long>());
  g_group = pid;
  if (int sig = g_received) kill(-pid, sig);  // arrived before we knew the group

  GroupStopper stopper(pid, request.timeout_seconds, request.stop_grace_seconds,
                       !request.second_signal_to_children);  // as for a fresh process
  int status = -1;
  bool have_status = false;
  for (;;) {
    int r = ReadMessage(sock.fd, &buffer, &reply, kPollMs);
    if (r == 1 && reply.contains("status") && reply["status"].is_number_integer()) {
      status = reply["status"].get<int>();
      if (reply.contains("cpu_seconds") && reply["cpu_seconds"].is_number())
        result->cpu_seconds = reply["cpu_seconds"].get<double>();
      have_status = true;
      break;
    }
    if (r == 0 || r == 1) break;  // the worker went away, or said something else
    stopper.Step(g_signals, result);
  }
  kill(-pid, SIGKILL);  // what the child left in its group goes too
  restore();
  if (!have_status) {
    if (result->timed_out || result->interrupted_by) {
      result->exit_code = 128 + SIGKILL;
      result->ran_by = "worker";
      return Outcome::kDone;
    }
    *why = "the worker died before the request finished";
    return Outcome::kFallback;
  }
  result->exit_code = ExitCodeFromStatus(status);
  result->ran_by = "worker";
  return Outcome::kDone;
}

int WorkerCommand(const fs::path& project, const std::string& action) {
  fs::path dir = project / ".pa" / "worker";
  std::error_code ec;
  int found = 0;
  if (fs::is_directory(dir, ec)) {
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() != ".sock") continue;
      std::string hash = entry.path().stem().string();
      fs::path socket = entry.path();
      if (fs::is_symlink(socket, ec)) socket = fs::read_symlink(socket, ec);
      std::string why;
      nlohmann::json reply;
      if (!Ask(socket, {{"v", kWorkerProtocol}, {"op", action == "stop" ? "stop" : "status"}},
               &reply, &why)) {
        fmt::print("{}: not running ({})\n", hash, why);
        continue;
      }
      ++found;
      if (action == "stop") {
        for (int i = 0; i < 100 && fs::exists(socket, ec); ++i) usleep(50 * 1000);
        if (socket != entry.path()) fs::remove(entry.path(), ec);
        fmt::print("{}: stopped\n", hash);
        continue;
      }
      fmt::print("{}\n", StatusLine(hash, reply, static_cast<double>(time(nullptr)), socket));
    }
  }
  if (found == 0 && action != "stop") fmt::print("no pa-gen worker running for {}\n", project.string());
  return 0;
}
