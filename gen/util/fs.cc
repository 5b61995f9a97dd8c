#include "util/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/format.h>

FileReader::FileReader(const fs::path& path)
    : path_(path), fd_(open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}

FileReader::~FileReader() {
  if (fd_ >= 0) close(fd_);
}

bool FileReader::Fail(std::string* err) const {
  *err = fmt::format("{}: cannot read: {}", path_.string(), std::strerror(errno));
  return false;
}

bool FileReader::Open(std::string* err) const { return fd_ >= 0 || Fail(err); }

size_t FileReader::Size() const {
  struct stat st;
  return fstat(fd_, &st) == 0 && st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0;
}

bool FileReader::ReadUpTo(char* data, size_t capacity, size_t* size, std::string* err) const {
  *size = 0;
  while (*size < capacity) {
    ssize_t n = read(fd_, data + *size, capacity - *size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(err);
    if (n == 0) break;
    *size += static_cast<size_t>(n);
  }
  return true;
}

bool ReadFile(const fs::path& path, std::string* content, std::string* err) {
  FileReader file(path);
  if (!file.Open(err)) return false;
  // The size it has now in one read (no copy through a stream), then
  // whatever a growing file or /proc adds.
  std::string text(file.Size(), '\0');
  size_t size = 0;
  for (;;) {
    size_t got = 0;
    if (!file.ReadUpTo(text.data() + size, text.size() - size, &got, err)) return false;
    size += got;
    if (size < text.size()) break;
    text.resize(size + 65536);
  }
  text.resize(size);
  *content = std::move(text);
  return true;
}

namespace {

// The permission bits of `dir`; 0777 when it cannot be read (then the
// umask alone decides, as before).
mode_t FolderMode(const fs::path& dir) {
  struct stat st;
  return stat(dir.empty() ? "." : dir.c_str(), &st) == 0 ? (st.st_mode & 0777) : 0777;
}

}  // namespace

int NewFileMode(const fs::path& file) {
  return static_cast<int>(0666 & FolderMode(file.parent_path()));
}

bool CreateDirectories(const fs::path& dir, std::string* err) {
  std::error_code ec;
  if (dir.empty() || fs::is_directory(dir, ec)) return true;
  fs::path parent = dir.parent_path();
  if (parent != dir && !CreateDirectories(parent, err)) return false;
  if (mkdir(dir.c_str(), FolderMode(parent)) != 0 && errno != EEXIST) {
    *err = fmt::format("{}: cannot create: {}", dir.string(), std::strerror(errno));
    return false;
  }
  return true;
}

namespace {

// Writes `content` to a new temporary file beside `path`; its name in *tmp.
bool WriteTemporary(const fs::path& path, std::string_view content, fs::path* tmp,
                    std::string* err) {
  if (path.has_parent_path() && !CreateDirectories(path.parent_path(), err)) return false;
  *tmp = path;
  *tmp += fmt::format(".tmp{}", getpid());
  int fd = open(tmp->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, NewFileMode(path));
  if (fd < 0) {
    *err = fmt::format("{}: cannot write: {}", tmp->string(), std::strerror(errno));
    return false;
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      *err = fmt::format("{}: cannot write: {}", tmp->string(), std::strerror(errno));
      close(fd);
      unlink(tmp->c_str());
      return false;
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) != 0) {
    *err = fmt::format("{}: cannot write: {}", tmp->string(), std::strerror(errno));
    unlink(tmp->c_str());
    return false;
  }
  return true;
}

// Whether the file at `path` holds exactly `content`: its size first, then
// its bytes a block at a time. Reading a 15 MB plan whole into fresh memory
// to compare it cost as much as making it.
bool HoldsExactly(const fs::path& path, std::string_view content) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  bool same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
              static_cast<uint64_t>(st.st_size) == content.size();
  std::vector<char> block(same ? std::min<size_t>(content.size() + 1, size_t{1} << 18) : 0);
  size_t at = 0;
  while (same) {
    // One byte more than is left: a file that grew since fstat is not the same.
    ssize_t n = read(fd, block.data(), std::min(block.size(), content.size() - at + 1));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t got = static_cast<size_t>(n);
    same = got <= content.size() - at && std::memcmp(block.data(), content.data() + at, got) == 0;
    at += got;
  }
  close(fd);
  return same && at == content.size();
}

}  // namespace

bool WriteFileIfChanged(const fs::path& path, std::string_view content, bool* changed,
                        std::string* err) {
  *changed = false;
  return WriteFilesIfChanged({{path, content}}, changed, err);
}

bool WriteFilesIfChanged(const std::vector<FileContent>& files, bool* changed, std::string* err) {
  std::vector<std::pair<fs::path, fs::path>> renames;  // temporary -> final
  auto discard = [&] {
    for (const auto& [tmp, path] : renames) unlink(tmp.c_str());
  };
  for (const FileContent& file : files) {
    if (HoldsExactly(file.path, file.content)) continue;
    fs::path tmp;
    if (!WriteTemporary(file.path, file.content, &tmp, err)) {
      discard();
      return false;
    }
    renames.emplace_back(tmp, file.path);
  }
  // Every file is ready: only now does any of them change.
  for (size_t i = 0; i < renames.size(); ++i) {
    if (rename(renames[i].first.c_str(), renames[i].second.c_str()) != 0) {
      *err = fmt::format("{}: cannot write: {}", renames[i].second.string(), std::strerror(errno));
      for (size_t j = i; j < renames.size(); ++j) unlink(renames[j].first.c_str());
      return false;
    }
  }
  *changed = *changed || !renames.empty();
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

long long NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Touch(const fs::path& path, std::string* err) {
  if (path.has_parent_path() && !CreateDirectories(path.parent_path(), err)) return false;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, NewFileMode(path));
  if (fd < 0 || close(fd) != 0) {
    *err = fmt::format("{}: cannot write: {}", path.string(), std::strerror(errno));
    return false;
  }
  return true;
}

bool WriteTempFile(std::string_view name, std::string_view content, fs::path* path,
                   std::string* err) {
  std::error_code ec;
  fs::path dir = fs::temp_directory_path(ec);
  if (ec) dir = "/tmp";
  std::string pattern = (dir / fmt::format("pa-gen-{}.XXXXXX", name)).string();
  int fd = mkstemp(pattern.data());
  if (fd < 0) {
    *err = fmt::format("{}: cannot write: {}", pattern, std::strerror(errno));
    return false;
  }
  size_t done = 0;
  bool ok = true;
  while (ok && done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n >= 0;
    if (ok) done += static_cast<size_t>(n);
  }
  if (!ok) *err = fmt::format("{}: cannot write: {}", pattern, std::strerror(errno));
  if (close(fd) != 0 && ok) {
    *err = fmt::format("{}: cannot write: {}", pattern, std::strerror(errno));
    ok = false;
  }
  if (!ok) {
    unlink(pattern.c_str());
    return false;
  }
  *path = pattern;
  return true;
}
