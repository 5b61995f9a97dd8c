#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "util/file_lock.h"
#include "util/fs.h"

// The files pa-gen's runtime reads and writes, behind one small interface
// in the spirit of Ninja's DiskInterface: RealDisk for pa-gen, an in-memory
// fake (tests/unit/fake_disk.h) so that unit tests of state, stamps, split
// markers and the plan run in milliseconds without a temporary folder.
class Disk {
 public:
  virtual ~Disk() = default;
  // On failure *err is "<path>: cannot read: <reason>".
  virtual bool ReadFile(const fs::path& path, std::string* content, std::string* err) = 0;
  // Atomic (a reader never sees half a file); creates the folder first;
  // leaves a file that already holds `content` alone, mtime too
  // (*changed false).
  virtual bool WriteFileIfChanged(const fs::path& path, std::string_view content, bool* changed,
                                  std::string* err) = 0;
  // Several files that change together (build.ninja and its plan), in
  // order; RealDisk renames them only once all are written (util/fs.h).
  virtual bool WriteFilesIfChanged(const std::vector<FileContent>& files, bool* changed,
                                   std::string* err);
  // Modification time in nanoseconds since the epoch; 0 when missing.
  virtual long long Stat(const fs::path& path) = 0;
  // Whether a file or folder is there.
  virtual bool Exists(const fs::path& path) = 0;
  // Creates `dir` and its missing parents, no more open than their parent.
  virtual bool MakeDirs(const fs::path& dir, std::string* err) = 0;
  // Removes a file; a missing one is no error.
  virtual void RemoveFile(const fs::path& path) = 0;
  // The names in `dir`, sorted; none when it is missing or unreadable.
  virtual std::vector<std::string> ListDir(const fs::path& dir) = 0;
  // Creates or truncates `path` (and its folder) so its mtime is now.
  virtual bool Touch(const fs::path& path, std::string* err) = 0;
  // Holds an exclusive lock on `path` in *lock until it goes out of scope
  // (util/file_lock.h); when another process holds it, calls `waiting` once
  // with its pid first, then blocks.
  virtual bool Lock(const fs::path& path, FileLock* lock,
                    const std::function<void(const std::string& holder)>& waiting,
                    std::string* err) = 0;
  // Locks `path` in *lock only when no other process holds it; *held says
  // whether it did.
  virtual bool TryLock(const fs::path& path, FileLock* lock, bool* held, std::string* err) = 0;
  // Removes a folder and everything in it; a missing one is no error.
  virtual void RemoveTree(const fs::path& dir) = 0;
  // A new file of its own in the temporary folder, outside every project,
  // for another program to read or a message to name (util/fs.h).
  virtual bool WriteTempFile(std::string_view name, std::string_view content, fs::path* path,
                             std::string* err) = 0;
  // The disk beneath this one: where the programs pa-gen starts (dbt, the
  // worker, dot) and its locks read and write. This one itself, but for an
  // overlay, whose own writes stay in memory while theirs are real: a .pa/
  // they made is removed there.
  virtual Disk& Beneath() { return *this; }
};

// The real file system, through util/fs.h (its file modes included).
class RealDisk : public Disk {
 public:
  bool ReadFile(const fs::path& path, std::string* content, std::string* err) override;
  bool WriteFileIfChanged(const fs::path& path, std::string_view content, bool* changed,
                          std::string* err) override;
  bool WriteFilesIfChanged(const std::vector<FileContent>& files, bool* changed,
                           std::string* err) override;
  long long Stat(const fs::path& path) override;
  bool Exists(const fs::path& path) override;
  bool MakeDirs(const fs::path& dir, std::string* err) override;
  void RemoveFile(const fs::path& path) override;
  std::vector<std::string> ListDir(const fs::path& dir) override;
  bool Touch(const fs::path& path, std::string* err) override;
  bool Lock(const fs::path& path, FileLock* lock,
            const std::function<void(const std::string& holder)>& waiting,
            std::string* err) override;
  bool TryLock(const fs::path& path, FileLock* lock, bool* held, std::string* err) override;
  void RemoveTree(const fs::path& dir) override;
  bool WriteTempFile(std::string_view name, std::string_view content, fs::path* path,
                     std::string* err) override;
};

// Reads the real files and keeps every write in memory: what `pa-gen
// status`, `explain` and `graph` generate on, so that they show the build
// their options describe and never change what the next `ninja` does.
class OverlayDisk : public Disk {
 public:
  bool ReadFile(const fs::path& path, std::string* content, std::string* err) override;
  bool WriteFileIfChanged(const fs::path& path, std::string_view content, bool* changed,
                          std::string* err) override;
  long long Stat(const fs::path& path) override;
  bool Exists(const fs::path& path) override;
  bool MakeDirs(const fs::path& dir, std::string* err) override;
  void RemoveFile(const fs::path& path) override;
  std::vector<std::string> ListDir(const fs::path& dir) override;
  bool Touch(const fs::path& path, std::string* err) override;
  bool Lock(const fs::path& path, FileLock* lock,
            const std::function<void(const std::string& holder)>& waiting,
            std::string* err) override;
  bool TryLock(const fs::path& path, FileLock* lock, bool* held, std::string* err) override;
  void RemoveTree(const fs::path& dir) override;
  // Real: the temporary folder is no project's, and another program reads it.
  bool WriteTempFile(std::string_view name, std::string_view content, fs::path* path,
                     std::string* err) override;
  Disk& Beneath() override { return real_; }

 private:
  struct File {
    std::string content;
    long long mtime = 0;
  };
  static std::string Key(const fs::path& path);
  RealDisk real_;
  std::map<std::string, File> written_;  // by lexically normal absolute path
  std::set<std::string> removed_;
  std::set<std::string> dirs_;
};
