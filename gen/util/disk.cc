#include "util/disk.h"

#include <algorithm>

bool RealDisk::ReadFile(const fs::path& path, std::string* content, std::string* err) {
  return ::ReadFile(path, content, err);
}

bool RealDisk::WriteFileIfChanged(const fs::path& path, std::string_view content, bool* changed,
                                  std::string* err) {
  return ::WriteFileIfChanged(path, content, changed, err);
}

long long RealDisk::Stat(const fs::path& path) { return MtimeNs(path); }

bool RealDisk::Exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

bool RealDisk::MakeDirs(const fs::path& dir, std::string* err) {
  return CreateDirectories(dir, err);
}

void RealDisk::RemoveFile(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
}

std::vector<std::string> RealDisk::ListDir(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    names.push_back(it->path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

bool RealDisk::Touch(const fs::path& path, std::string* err) { return ::Touch(path, err); }

bool RealDisk::Lock(const fs::path& path, FileLock* lock,
                    const std::function<void(const std::string& holder)>& waiting,
                    std::string* err) {
  return lock->Acquire(path, waiting, err);
}
