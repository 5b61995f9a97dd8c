#pragma once

#include <functional>
#include <string>

#include "util/fs.h"

// An exclusive flock(2) on a file, held until this object goes out of
// scope or the process ends: a killed holder releases it. The holder's pid
// is written into the file, so a process that waits can say who it waits
// for. The descriptor is close-on-exec: children (dbt) never hold it.
class FileLock {
 public:
  FileLock() = default;
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  // Creates `path` (and its folder) when missing and locks it. When another
  // process holds it, calls `waiting` once with the holder's pid ("" when
  // unknown), then blocks until the lock is free. The lock is always on the
  // file at `path`: when the holder removed that file before letting go,
  // the file there now (created if missing) is locked instead.
  bool Acquire(const fs::path& path, const std::function<void(const std::string& holder)>& waiting,
               std::string* err);
  // Locks only when free; *held says whether it did.
  bool TryAcquire(const fs::path& path, bool* held, std::string* err);

 private:
  bool Open(const fs::path& path, std::string* err);
  bool StillAtPath() const;
  void Reopen();
  void RecordHolder();
  fs::path path_;
  int fd_ = -1;
};
