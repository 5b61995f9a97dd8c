#include "util/file_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace {

// The pid a holder wrote, digits only; "" when none can be read.
std::string ReadHolder(int fd) {
  char buf[32];
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  std::string pid;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) pid.push_back(buf[i]);
  return pid.size() <= 9 ? pid : "";  // a pid, never more than stoi reads
}

}  // namespace

FileLock::~FileLock() {
  if (fd_ < 0) return;
  (void)!ftruncate(fd_, 0);  // no pid of a finished holder left to name
  close(fd_);                // releases the lock
}

bool FileLock::Open(const fs::path& path, std::string* err) {
  if (fd_ >= 0) {
    *err = fmt::format("{}: already locked by this process", path.string());
    return false;
  }
  if (path.has_parent_path() && !CreateDirectories(path.parent_path(), err)) return false;
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, NewFileMode(path));
  if (fd_ < 0) {
    *err = fmt::format("{}: cannot lock: {}", path.string(), std::strerror(errno));
    return false;
  }
  path_ = path;
  return true;
}

// A holder may remove the lock file before it lets go (a failed first
// generation removes the .pa/ it made, lock included). A waiter that then
// gets the lock holds it on a file nobody else can open any more, so it
// must lock the file at the path again.
bool FileLock::StillAtPath() const {
  struct stat held, now;
  return fstat(fd_, &held) == 0 && stat(path_.c_str(), &now) == 0 && held.st_dev == now.st_dev &&
         held.st_ino == now.st_ino;
}

void FileLock::Reopen() {
  close(fd_);
  fd_ = -1;
}

void FileLock::RecordHolder() {
  std::string pid = fmt::format("{}\n", getpid());
  if (ftruncate(fd_, 0) == 0) (void)!pwrite(fd_, pid.data(), pid.size(), 0);
}

bool FileLock::TryAcquire(const fs::path& path, bool* held, std::string* err) {
  *held = false;
  if (!Open(path, err)) return false;
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(fd_);
    fd_ = -1;
    if (e == EWOULDBLOCK) return true;
    *err = fmt::format("{}: cannot lock: {}", path.string(), std::strerror(e));
    return false;
  }
  if (!StillAtPath()) {
    Reopen();
    return TryAcquire(path, held, err);
  }
  RecordHolder();
  *held = true;
  return true;
}

bool FileLock::Acquire(const fs::path& path,
                       const std::function<void(const std::string& holder)>& waiting,
                       std::string* err) {
  if (!Open(path, err)) return false;
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      *err = fmt::format("{}: cannot lock: {}", path.string(), std::strerror(errno));
      close(fd_);
      fd_ = -1;
      return false;
    }
    // A new holder writes its pid just after it locks: give it a moment,
    // and skip the message when the lock comes free meanwhile.
    std::string holder;
    bool free = false;
    for (int i = 0; i < 20 && !free; ++i) {
      holder = ReadHolder(fd_);
      if (!holder.empty() && kill(std::stoi(holder), 0) == 0) break;
      holder.clear();
      usleep(5000);
      free = flock(fd_, LOCK_EX | LOCK_NB) == 0;
    }
    if (!free) waiting(holder);
    while (!free && flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      *err = fmt::format("{}: cannot lock: {}", path.string(), std::strerror(errno));
      close(fd_);
      fd_ = -1;
      return false;
    }
  }
  if (!StillAtPath()) {
    Reopen();
    return Acquire(path, [](const std::string&) {}, err);  // already said whom it waited for
  }
  RecordHolder();
  return true;
}
