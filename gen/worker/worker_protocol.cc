#include "worker/worker_protocol.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include <fmt/format.h>

#include "util/hash.h"

bool IsWorkerCommand(const std::string& command) {
  static const char* const kCommands[] = {"build", "run", "test", "seed", "snapshot",
                                          "compile", "parse", "ls", "list", "run-operation"};
  for (const char* c : kCommands)
    if (command == c) return true;
  return false;
}

std::string ShebangInterpreter(std::string_view line) {
  if (line.substr(0, 2) != "#!") return "";
  line.remove_prefix(2);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  size_t end = line.find_first_of(" \t\r\n");
  return std::string(line.substr(0, end));
}

fs::path PythonFor(const fs::path& script) {
  std::ifstream in(script);
  std::string first;
  if (!in || !std::getline(in, first)) return {};
  std::string interpreter = ShebangInterpreter(first);
  if (interpreter.empty()) return {};  // not a script: a binary dbt has no worker
  fs::path named(interpreter);
  if (named.filename().string().rfind("python", 0) == 0 && access(named.c_str(), X_OK) == 0)
    return named;
  for (const char* name : {"python3", "python"}) {
    fs::path beside = script.parent_path() / name;
    if (access(beside.c_str(), X_OK) == 0) return beside;
  }
  return {};
}

// `path` against `cwd`, made absolute and normal, without a trailing '/':
// "--project-dir /p" and "--project-dir /p/" are the same worker.
static std::string NormalPath(const fs::path& cwd, const std::string& path) {
  std::string s = (fs::absolute(cwd) / path).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::map<std::string, std::string> FlagValues(const std::vector<std::string>& argv, size_t from) {
  std::map<std::string, std::string> values;
  for (size_t i = from; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0) continue;
    if (size_t eq = a.find('='); eq != std::string::npos)
      values[a.substr(0, eq)] = a.substr(eq + 1);
    else if (i + 1 < argv.size())
      values[a] = argv[i + 1];
  }
  return values;
}

std::optional<WorkerKey> KeyFor(const CommandRequest& request) {
  if (request.argv.size() < 2 || request.cwd.empty() || !IsWorkerCommand(request.argv[1]))
    return std::nullopt;
  const fs::path dbt = request.argv[0];
  struct stat st;
  if (stat(dbt.c_str(), &st) != 0) return std::nullopt;
  // The flags that dbt's partial parse and adapter set-up depend on; their
  // last value wins, as with click.
  std::map<std::string, std::string> shared;
  for (const auto& [a, value] : FlagValues(request.argv, 2)) {
    if (a == "--profiles-dir" || a == "--profile" || a == "--target" || a == "--vars" ||
        a == "--project-dir")
      shared[a] = (a == "--profiles-dir" || a == "--project-dir") ? NormalPath(request.cwd, value)
                                                                 : value;
  }
  Hasher h;
  h.Add("pa-worker").Add(std::to_string(kWorkerProtocol));
  h.Add(NormalPath(request.cwd, "."));
  h.Add(dbt.string());
  h.Add(fmt::format("{}:{}:{}:{}", st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec));
  std::string text = fmt::format("v{}\n{}\n{}\n", kWorkerProtocol,
                                 NormalPath(request.cwd, "."),
                                 dbt.string());
  for (const auto& [flag, value] : shared) {
    h.Add(flag).Add(value);
    text += flag + "=" + value + "\n";
  }
  // An environment variable that changes the profile or project dbt reads.
  for (const char* var : {"DBT_PROFILES_DIR", "DBT_TARGET", "DBT_PROFILE", "DBT_PROJECT_DIR"}) {
    std::string value;
    if (const char* v = std::getenv(var)) value = v;
    for (const auto& [k, v] : request.env)
      if (k == var) value = v;
    h.Add(var).Add(value);
    text += std::string(var) + "=" + value + "\n";
  }
  text += fmt::format("dbt-file={}:{}:{}:{}\n", st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec);
  return WorkerKey{text, h.Hex()};
}

WorkerPaths PathsFor(const fs::path& project, const std::string& hash,
                     const std::string& runtime_dir, unsigned uid) {
  WorkerPaths p;
  p.dir = project / ".pa" / "worker";
  p.entry = p.dir / (hash + ".sock");
  p.lock = p.dir / (hash + ".lock");
  p.log = p.dir / (hash + ".log");
  fs::path base = runtime_dir.empty() ? fs::path(fmt::format("/tmp/pa-gen-{}", uid))
                                      : fs::path(runtime_dir) / "pa-gen";
  // Outside the project: the worker's command line names no project.
  p.script = base / fmt::format("pa_worker-{}.py", Hasher().Add(kWorkerSource).Hex());
  // The worker's temporary name is <socket>.<pid>.tmp: that must fit too.
  if (p.entry.string().size() + 16 <= kMaxSocketPath) {
    p.socket = p.entry;
  } else {
    p.socket = base / (hash + ".sock");
  }
  return p;
}

std::string EncodeMessage(const nlohmann::json& message) {
  std::string body = message.dump();
  uint32_t n = static_cast<uint32_t>(body.size());
  std::string out;
  out.push_back(static_cast<char>((n >> 24) & 0xFF));
  out.push_back(static_cast<char>((n >> 16) & 0xFF));
  out.push_back(static_cast<char>((n >> 8) & 0xFF));
  out.push_back(static_cast<char>(n & 0xFF));
  return out + body;
}

bool DecodeMessage(std::string* buffer, nlohmann::json* message, bool* bad) {
  *bad = false;
  if (buffer->size() < 4) return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>((*buffer)[i]);
  if (n > (64u << 20)) {
    *bad = true;
    return false;
  }
  if (buffer->size() < 4 + static_cast<size_t>(n)) return false;
  nlohmann::json parsed = nlohmann::json::parse(buffer->begin() + 4, buffer->begin() + 4 + n,
                                                nullptr, /*allow_exceptions=*/false);
  buffer->erase(0, 4 + n);
  if (parsed.is_discarded() || !parsed.is_object()) {
    *bad = true;
    return false;
  }
  *message = std::move(parsed);
  return true;
}

nlohmann::json RunMessage(const CommandRequest& request, const WorkerKey& key,
                          char** environ_list) {
  std::map<std::string, std::string> env;
  for (char** e = environ_list; e && *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : request.env) env[k] = v;
  nlohmann::json envs = nlohmann::json::array();
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  return {{"v", kWorkerProtocol}, {"op", "run"},          {"key", key.text},
          {"argv", request.argv}, {"cwd", fs::absolute(request.cwd).string()}, {"env", envs}};
}

int ExitCodeFromStatus(int status) {
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return -1;
}

std::string StatusLine(const std::string& hash, const nlohmann::json& reply, double now,
                       const fs::path& socket) {
  std::string preload = "no preloaded manifest";
  if (reply.contains("preload") && reply["preload"].is_object()) {
    const nlohmann::json& p = reply["preload"];
    preload = fmt::format("preloaded {} ({} nodes, sha256 {}, loaded in {:.2f} s)",
                          p.value("path", "?"), p.value("nodes", 0),
                          p.value("sha256", "?").substr(0, 16), p.value("load_seconds", 0.0));
  }
  // The warm-up runs while the zygote is idle (protocol.md, "Warm-up"): a
  // child forked before it ends builds what is missing itself.
  std::string warming = reply.value("warm_pending", false) ? "warming up, " : "";
  return fmt::format("{}: pid {}, dbt {}, started {:.0f} s ago, rss {} kB, idle timeout {:.0f} s, {}, {}{}",
                     hash, reply.value("pid", 0), reply.value("dbt_version", "?"),
                     now - reply.value("started", 0.0), reply.value("rss_kb", 0),
                     reply.value("idle_seconds", 0.0), preload, warming, socket.string());
}
