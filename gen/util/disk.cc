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

bool RealDisk::TryLock(const fs::path& path, FileLock* lock, bool* held, std::string* err) {
  return lock->TryAcquire(path, held, err);
}

void RealDisk::RemoveTree(const fs::path& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
}

bool RealDisk::WriteTempFile(std::string_view name, std::string_view content, fs::path* path,
                             std::string* err) {
  return ::WriteTempFile(name, content, path, err);
}

bool Disk::WriteFilesIfChanged(const std::vector<FileContent>& files, bool* changed,
                               std::string* err) {
  for (const FileContent& file : files) {
    bool this_changed = false;
    if (!WriteFileIfChanged(file.path, file.content, &this_changed, err)) return false;
    *changed = *changed || this_changed;
  }
  return true;
}

bool RealDisk::WriteFilesIfChanged(const std::vector<FileContent>& files, bool* changed,
                                   std::string* err) {
  return ::WriteFilesIfChanged(files, changed, err);
}

std::string OverlayDisk::Key(const fs::path& path) {
  return fs::absolute(path).lexically_normal().string();
}

bool OverlayDisk::ReadFile(const fs::path& path, std::string* content, std::string* err) {
  std::string key = Key(path);
  if (auto it = written_.find(key); it != written_.end()) {
    *content = it->second.content;
    return true;
  }
  if (removed_.count(key)) {
    *err = path.string() + ": cannot read: No such file or directory";
    return false;
  }
  return real_.ReadFile(path, content, err);
}

bool OverlayDisk::WriteFileIfChanged(const fs::path& path, std::string_view content, bool* changed,
                                     std::string* err) {
  std::string old;
  std::string ignored;
  *changed = !ReadFile(path, &old, &ignored) || old != content;
  if (!*changed) return true;
  std::string key = Key(path);
  written_[key] = File{std::string(content), NowNs()};
  removed_.erase(key);
  (void)err;
  return true;
}

long long OverlayDisk::Stat(const fs::path& path) {
  std::string key = Key(path);
  if (auto it = written_.find(key); it != written_.end()) return it->second.mtime;
  if (removed_.count(key)) return 0;
  return real_.Stat(path);
}

bool OverlayDisk::Exists(const fs::path& path) {
  std::string key = Key(path);
  if (written_.count(key) || dirs_.count(key)) return true;
  if (removed_.count(key)) return false;
  return real_.Exists(path);
}

bool OverlayDisk::MakeDirs(const fs::path& dir, std::string*) {
  dirs_.insert(Key(dir));
  return true;
}

void OverlayDisk::RemoveFile(const fs::path& path) {
  std::string key = Key(path);
  written_.erase(key);
  removed_.insert(key);
}

std::vector<std::string> OverlayDisk::ListDir(const fs::path& dir) {
  std::set<std::string> names;
  fs::path base = Key(dir);
  for (const std::string& name : real_.ListDir(dir))
    if (!removed_.count((base / name).string())) names.insert(name);
  for (const auto& [key, file] : written_)
    if (fs::path(key).parent_path() == base) names.insert(fs::path(key).filename().string());
  return {names.begin(), names.end()};
}

bool OverlayDisk::Touch(const fs::path& path, std::string*) {
  std::string key = Key(path);
  written_[key] = File{"", NowNs()};
  removed_.erase(key);
  return true;
}

bool OverlayDisk::Lock(const fs::path& path, FileLock* lock,
                       const std::function<void(const std::string& holder)>& waiting,
                       std::string* err) {
  return real_.Lock(path, lock, waiting, err);
}

bool OverlayDisk::TryLock(const fs::path& path, FileLock* lock, bool* held, std::string* err) {
  return real_.TryLock(path, lock, held, err);
}

void OverlayDisk::RemoveTree(const fs::path& dir) {
  std::string base = Key(dir);
  auto under = [&](const std::string& key) {
    return key == base || (key.size() > base.size() && key.compare(0, base.size(), base) == 0 &&
                           key[base.size()] == '/');
  };
  for (auto it = written_.begin(); it != written_.end();) it = under(it->first) ? written_.erase(it) : ++it;
  for (auto it = dirs_.begin(); it != dirs_.end();) it = under(*it) ? dirs_.erase(it) : ++it;
  removed_.insert(base);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    removed_.insert(Key(it->path()));
}

bool OverlayDisk::WriteTempFile(std::string_view name, std::string_view content, fs::path* path,
                                std::string* err) {
  return real_.WriteTempFile(name, content, path, err);
}
