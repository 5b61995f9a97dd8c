#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;

// A file open for reading, closed when this goes out of scope. On any
// failure *err is "<path>: cannot read: <reason>".
class FileReader {
 public:
  explicit FileReader(const fs::path& path);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  bool Open(std::string* err) const;
  // Its size when asked; 0 when unknown (/proc files say 0).
  size_t Size() const;
  // Reads until the end of the file or `capacity` bytes; *size is what was read.
  bool ReadUpTo(char* data, size_t capacity, size_t* size, std::string* err) const;
  // The open descriptor (for mmap), or -1.
  int fd() const { return fd_; }
  const fs::path& path() const { return path_; }

 private:
  bool Fail(std::string* err) const;
  fs::path path_;
  int fd_;
};

bool ReadFile(const fs::path& path, std::string* content, std::string* err);

// Writes `content` to a temporary file beside `path` and renames it into
// place, so a reader never sees half a file. When the file already holds
// exactly `content` it is left alone (its mtime too) and *changed is false.
bool WriteFileIfChanged(const fs::path& path, std::string_view content, bool* changed,
                        std::string* err);

// The files that must change together (build.ninja and its plan).
struct FileContent {
  fs::path path;
  std::string_view content;
};
// Writes every file that changes to a temporary beside it and renames them,
// in order, only once all are written: a failure while writing leaves every
// file as it was. Put the file readers look at first (build.ninja) last.
// *changed becomes true when any file changed (it is never reset).
bool WriteFilesIfChanged(const std::vector<FileContent>& files, bool* changed, std::string* err);

// `target` relative to `base`, both made absolute first; "." for the same folder.
std::string RelativePath(const fs::path& target, const fs::path& base);

// Modification time in nanoseconds since the epoch; 0 when missing.
long long MtimeNs(const fs::path& path);

// The wall clock, in the same unit.
long long NowNs();

// Modes: pa-gen writes build.ninja, the plan and .pa/ with the user's umask,
// but never more open than the folder they are written in: a file gets
// 0666 less the umask, less what its folder denies (a project folder of
// 0700 makes every file 0600); a folder pa-gen creates gets its parent's
// mode, less the umask. So nothing under .pa/ is more open than the
// project folder, which may hold --vars or data dbt writes.
int NewFileMode(const fs::path& file);
// Creates `dir` and its missing parents in that way; false on failure.
bool CreateDirectories(const fs::path& dir, std::string* err);

// Creates or truncates `path` so its mtime is now.
bool Touch(const fs::path& path, std::string* err);

// A new file of its own in the temporary folder ($TMPDIR, else /tmp), never
// in a project: `pa-gen-<name>.XXXXXX` made by mkstemp(3) (mode 0600),
// holding `content`; its path in *path. On failure nothing is left.
bool WriteTempFile(std::string_view name, std::string_view content, fs::path* path,
                   std::string* err);
