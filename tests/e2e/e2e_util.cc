#include "e2e_util.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

Result Shell(const fs::path& dir, const std::string& command) {
  static int count = 0;
  fs::path log = fs::temp_directory_path() / ("pa-e2e-" + std::to_string(getpid()) + "-" +
                                              std::to_string(++count) + ".out");
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

fs::path TestRoot(const std::string& name) {
  setenv("DO_NOT_TRACK", "1", 1);
  setenv("PA_DBT", (kVenv / "dbt").c_str(), 1);
  fs::path root = fs::temp_directory_path() / ("pa-e2e-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  return root;
}

void RemoveUnlessFailed(const fs::path& root) {
  if (!::testing::UnitTest::GetInstance()->Failed()) fs::remove_all(root);
}

// A fresh copy of the example: its source files only, nothing a build left.
void CopyExample(const fs::path& to) {
  fs::remove_all(to);
  fs::create_directories(to);
  fs::path from = kSource / "examples" / "planalign";
  for (auto it = fs::recursive_directory_iterator(from); it != fs::recursive_directory_iterator(); ++it) {
    std::string name = it->path().filename().string();
    if (name == ".pa" || name == "target" || name == "logs" || name.starts_with("planalign.duckdb") ||
        name == "build.ninja" || name.starts_with(".ninja") || name == ".pa-plan.json") {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    fs::path dest = to / fs::relative(it->path(), from);
    if (it->is_directory()) fs::create_directories(dest);
    else fs::copy_file(it->path(), dest);
  }
}

std::string WarehouseDigest(const fs::path& project) {
  Result r = Shell(project, "'" + (kVenv / "python").string() + "' '" +
                                (kSource / "tests" / "e2e" / "warehouse_digest.py").string() +
                                "' planalign.duckdb");
  EXPECT_EQ(r.code, 0) << r.out;
  return r.out;
}

std::string DbtBuildReference(const fs::path& dir) {
  CopyExample(dir);
  Result dbt = Shell(dir, "'" + (kVenv / "dbt").string() + "' build --profiles-dir .");
  EXPECT_EQ(dbt.code, 0) << dbt.out;
  return dbt.code == 0 ? WarehouseDigest(dir) : "";
}
