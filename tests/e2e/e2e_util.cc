#include "e2e_util.h"

#include "exec/state.h"
#include "util/disk.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>

Result Shell(const fs::path& dir, const std::string& command) {
  static int count = 0;
  fs::path log = fs::temp_directory_path() / ("pa-e2e-" + std::to_string(getpid()) + "-" +
                                              std::to_string(++count) + ".out");
  // Which command a test was in shows in CTest's output when it times out.
  std::printf("[shell] %s: %.200s\n", dir.filename().c_str(), command.c_str());
  std::fflush(stdout);
  std::string full = "cd '" + dir.string() + "' && (" + command + ") > '" + log.string() + "' 2>&1";
  int status = std::system(full.c_str());
  Result result;
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  std::string err;
  ReadFile(log, &result.out, &err);
  fs::remove(log);
  return result;
}

std::string Read(const fs::path& path) {
  std::string text, err;
  EXPECT_TRUE(ReadFile(path, &text, &err)) << err;
  return text;
}

void Write(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

namespace {

void SetEnvironment() {
  setenv("DO_NOT_TRACK", "1", 1);
  setenv("PA_DBT", (kVenv / "dbt").c_str(), 1);
  // Every test project starts a resident dbt worker of its own: let an idle
  // one go after a minute, not ten, so a suite run does not keep dozens.
  setenv("PA_WORKER_IDLE_SECONDS", "60", 0);
}

// Folder names from test names: "EveryPolicy/PoliciesTest.X/3" -> "EveryPolicy_PoliciesTest_X_3".
std::string FolderName(std::string name) {
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

bool Excluded(const std::string& name) {
  return name == ".pa" || name == "target" || name == "logs" || name.starts_with("planalign.duckdb") ||
         name == "build.ninja" || name.starts_with(".ninja") || name == ".pa-plan.json";
}

fs::file_time_type NewestExampleSource() {
  fs::path from = kSource / "examples" / "planalign";
  fs::file_time_type newest = fs::last_write_time(from);
  for (auto it = fs::recursive_directory_iterator(from); it != fs::recursive_directory_iterator(); ++it) {
    if (Excluded(it->path().filename().string())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    newest = std::max(newest, fs::last_write_time(it->path()));
  }
  return newest;
}

void ReplaceAllKeepingMtime(const fs::path& file, const std::string& from, const std::string& to) {
  if (!fs::exists(file)) return;
  auto mtime = fs::last_write_time(file);
  std::string text = Read(file);
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  Write(file, text);
  fs::last_write_time(file, mtime);
}

}  // namespace

fs::path TestRoot(const std::string& part) {
  SetEnvironment();
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = test ? std::string(test->test_suite_name()) + "." + test->name() : "suite";
  if (!part.empty()) name += "-" + part;
  fs::path root = fs::temp_directory_path() /
                  ("pa-e2e-" + FolderName(name) + "-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  return root;
}

void RemoveUnlessFailed(const fs::path& root) {
  if (!::testing::Test::HasFailure()) fs::remove_all(root);
}

// A fresh copy of the example: its source files only, nothing a build left.
void CopyExample(const fs::path& to) {
  fs::remove_all(to);
  fs::create_directories(to);
  fs::path from = kSource / "examples" / "planalign";
  for (auto it = fs::recursive_directory_iterator(from); it != fs::recursive_directory_iterator(); ++it) {
    if (Excluded(it->path().filename().string())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    fs::path dest = to / fs::relative(it->path(), from);
    if (it->is_directory()) fs::create_directories(dest);
    else fs::copy_file(it->path(), dest);
  }
}

void CopyBuiltProject(const fs::path& from, const fs::path& to) {
  fs::remove_all(to);
  fs::create_directories(to.parent_path());
  // cp -a keeps mtimes to the nanosecond; std::filesystem::copy does not.
  Result cp = Shell(to.parent_path(), "cp -a '" + from.string() + "' '" + to.string() + "'");
  ASSERT_EQ(cp.code, 0) << cp.out;
  // The files whose absolute paths pa-gen reads back. dbt's own outputs
  // under .pa/run and its partial-parse file also name the old folder; dbt
  // only uses them to report and to parse faster (partial parsing still
  // works in the copy: checked by hand).
  for (const char* file : {"build.ninja", ".pa-plan.json", ".pa/parse/settings", ".pa/parse/manifest.json"})
    ReplaceAllKeepingMtime(to / file, from.string(), to.string());
  // Nothing else pa-gen writes may name the old folder, or the copy is not exact.
  for (const char* file : {"build.ninja", ".pa-plan.json", ".pa/parse/settings"}) {
    if (fs::exists(to / file)) {
      EXPECT_EQ(Read(to / file).find(from.string()), std::string::npos) << file;
    }
  }
  for (const char* dir : {".pa/state", ".pa/stamps", ".pa/split"}) {
    if (!fs::exists(to / dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(to / dir)) {
      if (entry.is_regular_file()) {
        EXPECT_EQ(Read(entry.path()).find(from.string()), std::string::npos) << entry.path();
      }
    }
  }
}

std::string WarehouseDigest(const fs::path& project, const std::string& database) {
  Result r = Shell(project, "'" + (kVenv / "python").string() + "' '" +
                                (kSource / "tests" / "e2e" / "warehouse_digest.py").string() +
                                "' '" + database + "'");
  EXPECT_EQ(r.code, 0) << r.out;
  return r.out;
}

bool CachedBuild::Rebuild() const {
  SetEnvironment();
  fs::path done = kCache / (name + ".done");
  fs::remove(done);
  fs::remove_all(Dir());
  fs::create_directories(Dir());
  if (!build(Dir()) || ::testing::Test::HasFailure()) return false;
  Write(done, "");
  return true;
}

bool CachedBuild::Cached() const {
  SetEnvironment();
  fs::path done = kCache / (name + ".done");
  std::error_code ec;
  bool fresh = fs::exists(done) && fs::exists(Dir());
  if (fresh) {
    auto made = fs::last_write_time(done);
    fresh = made >= fs::last_write_time(kPaGen) &&
            made >= fs::last_write_time(fs::read_symlink("/proc/self/exe", ec)) &&
            made >= NewestExampleSource();
  }
  return fresh || Rebuild();
}

const CachedBuild& DbtBuildReference() {
  static const CachedBuild reference{"reference", [](const fs::path& dir) {
    CopyExample(dir);
    Result dbt = Shell(dir, "'" + (kVenv / "dbt").string() + "' build --profiles-dir .");
    EXPECT_EQ(dbt.code, 0) << dbt.out;
    if (dbt.code != 0) return false;
    Write(dir.parent_path() / "reference.digest", WarehouseDigest(dir));
    return !::testing::Test::HasFailure();
  }};
  return reference;
}

std::string ReferenceDigest() {
  if (!DbtBuildReference().Cached()) return "";
  return Read(kCache / "reference.digest");
}

std::set<std::string> BatchesRun(const std::string& ninja_output) {
  std::set<std::string> batches;
  std::regex line(R"(dbt build (\S+) \()");
  for (std::sregex_iterator it(ninja_output.begin(), ninja_output.end(), line), end; it != end; ++it)
    batches.insert((*it)[1]);
  return batches;
}

int DbtProcessesIn(const fs::path& project) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline, err;
    if (!ReadFile(entry.path() / "cmdline", &cmdline, &err)) continue;
    if (cmdline.find(project.string()) != std::string::npos && cmdline.find("dbt") != std::string::npos)
      ++count;
  }
  return count;
}

std::string WaitUntilNodeFinished(const std::string& log, const std::string& unique_id, int seconds) {
  return "for i in $(seq " + std::to_string(seconds * 5) + "); do grep NodeFinished " + log +
         " 2>/dev/null | grep -q " + unique_id + " && break; sleep 0.2; done; ";
}

long long Now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::set<std::string> RanSince(const fs::path& project, long long since) {
  RealDisk disk;
  BatchState all;
  std::string err;
  EXPECT_TRUE(LoadAllState(disk, project, &all, &err)) << err;
  std::set<std::string> ids;
  for (const auto& [id, s] : all)
    if (s.ran_at >= since) ids.insert(id);
  return ids;
}
