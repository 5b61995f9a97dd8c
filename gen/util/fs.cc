#include "util/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

bool ReadFile(const fs::path& path, std::string* content, std::string* err) {
  auto fail = [&] {
    *err = fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno));
    return false;
  };
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail();
  // The size it has now in one read (no copy through a stream), then
  // whatever a growing file or /proc adds.
  struct stat st;
  std::string text(fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0,
                   '\0');
  size_t size = 0;
  char buffer[65536];
  for (;;) {
    bool direct = size < text.size();
    ssize_t n = direct ? read(fd, text.data() + size, text.size() - size)
                       : read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      errno = saved;
      return fail();
    }
    if (direct) {
      size += static_cast<size_t>(n);
    } else {
      text.append(buffer, static_cast<size_t>(n));
      size = text.size();
    }
  }
  text.resize(size);
  close(fd);
  *content = std::move(text);
  return true;
}

bool WriteFileIfChanged(const fs::path& path, std::string_view content, bool* changed,
                        std::string* err) {
  std::string old;
  std::string ignored;
  if (fs::exists(path) && ReadFile(path, &old, &ignored) && old == content) {
    *changed = false;
    return true;
  }
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  fs::path tmp = path;
  tmp += fmt::format(".tmp{}", getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *err = fmt::format("{}: cannot write: {}", tmp.string(), std::strerror(errno));
    return false;
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      *err = fmt::format("{}: cannot write: {}", tmp.string(), std::strerror(errno));
      close(fd);
      unlink(tmp.c_str());
      return false;
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    *err = fmt::format("{}: cannot write: {}", path.string(), std::strerror(errno));
    unlink(tmp.c_str());
    return false;
  }
  *changed = true;
  return true;
}

std::string RelativePath(const fs::path& target, const fs::path& base) {
  fs::path rel = fs::absolute(target).lexically_normal().lexically_relative(
      fs::absolute(base).lexically_normal());
  std::string s = rel.generic_string();
  if (s.empty()) return ".";
  if (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

long long MtimeNs(const fs::path& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return 0;
  return static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
}

bool Touch(const fs::path& path, std::string* err) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || close(fd) != 0) {
    *err = fmt::format("{}: cannot write: {}", path.string(), std::strerror(errno));
    return false;
  }
  return true;
}
