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
