#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "util/disk.h"

// An in-memory Disk for unit tests, in the spirit of Ninja's
// VirtualFileSystem: files are strings, folders exist once made (or once a
// file is written in them), and every write or touch advances a clock by
// one, so mtimes are distinct and ordered.
class FakeDisk : public Disk {
 public:
  struct File {
    std::string content;
    long long mtime = 0;
  };
  std::map<std::string, File> files;  // by lexically normal path
  std::set<std::string> dirs;
  long long now = 1;
  int writes = 0;  // files written (unchanged ones do not count)
  std::map<std::string, int> reads;  // times each file was read, by key

  static std::string Key(const fs::path& path) { return path.lexically_normal().string(); }

  bool ReadFile(const fs::path& path, std::string* content, std::string* err) override {
    ++reads[Key(path)];
    auto it = files.find(Key(path));
    if (it == files.end()) {
      *err = path.string() + ": cannot read: No such file or directory";
      return false;
    }
    *content = it->second.content;
    return true;
  }
  bool WriteFileIfChanged(const fs::path& path, std::string_view content, bool* changed,
                          std::string* err) override {
    auto it = files.find(Key(path));
    *changed = it == files.end() || it->second.content != content;
    if (!*changed) return true;
    if (!MakeDirs(path.parent_path(), err)) return false;
    files[Key(path)] = {std::string(content), ++now};
    ++writes;
    return true;
  }
  long long Stat(const fs::path& path) override {
    auto it = files.find(Key(path));
    return it == files.end() ? 0 : it->second.mtime;
  }
  bool Exists(const fs::path& path) override {
    return files.count(Key(path)) || dirs.count(Key(path));
  }
  bool MakeDirs(const fs::path& dir, std::string*) override {
    for (fs::path d = dir.lexically_normal(); !d.empty() && d != d.parent_path(); d = d.parent_path())
      dirs.insert(d.string());
    return true;
  }
  void RemoveFile(const fs::path& path) override { files.erase(Key(path)); }
  std::vector<std::string> ListDir(const fs::path& dir) override {
    std::set<std::string> names;
    fs::path d = dir.lexically_normal();
    for (const auto& [name, file] : files)
      if (fs::path(name).parent_path() == d) names.insert(fs::path(name).filename().string());
    for (const std::string& name : dirs)
      if (fs::path(name).parent_path() == d) names.insert(fs::path(name).filename().string());
    return {names.begin(), names.end()};
  }
  // One process: nobody else can hold a lock, but those a test names here.
  std::set<std::string> held_elsewhere;
  bool Lock(const fs::path&, FileLock*, const std::function<void(const std::string&)>&,
            std::string*) override {
    return true;
  }
  bool TryLock(const fs::path& path, FileLock*, bool* held, std::string*) override {
    *held = !held_elsewhere.count(Key(path));
    return true;
  }
  void RemoveTree(const fs::path& dir) override {
    std::string base = Key(dir);
    auto under = [&](const std::string& key) {
      return key == base || (key.size() > base.size() && key.compare(0, base.size(), base) == 0 &&
                             key[base.size()] == '/');
    };
    for (auto it = files.begin(); it != files.end();) it = under(it->first) ? files.erase(it) : ++it;
    for (auto it = dirs.begin(); it != dirs.end();) it = under(*it) ? dirs.erase(it) : ++it;
  }
  bool Touch(const fs::path& path, std::string* err) override {
    if (!MakeDirs(path.parent_path(), err)) return false;
    files[Key(path)] = {"", ++now};
    ++writes;
    return true;
  }
  // /tmp/pa-gen-<name>.<n>, in memory like the rest.
  int temp_files = 0;
  bool WriteTempFile(std::string_view name, std::string_view content, fs::path* path,
                     std::string* err) override {
    *path = "/tmp/pa-gen-" + std::string(name) + "." + std::to_string(++temp_files);
    bool changed = false;
    return WriteFileIfChanged(*path, content, &changed, err);
  }
};
