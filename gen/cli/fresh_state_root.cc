#include "cli/fresh_state_root.h"

FreshStateRoot::~FreshStateRoot() {
  if (succeeded_ && !read_only_) return;
  if (!succeeded_) KeepNamedOutput();
  disk_.RemoveTree(dir_);
}

// The error, with a "(full output: <file under .pa>)" it names copied to
// the temporary folder and named there instead. Left as it is when the copy
// cannot be made: the error still says what went wrong.
void FreshStateRoot::KeepNamedOutput() {
  std::string& err = *err_;
  const std::string mark = "(full output: ";
  size_t at = err.rfind(mark);
  if (at == std::string::npos || err.back() != ')') return;
  size_t from = at + mark.size();
  fs::path named = err.substr(from, err.size() - 1 - from);
  if (named.string().rfind((dir_ / "").string(), 0) != 0) return;
  std::string content, ignored;
  fs::path kept;
  if (!disk_.ReadFile(named, &content, &ignored) ||
      !disk_.WriteTempFile(named.filename().string(), content, &kept, &ignored))
    return;
  err.replace(from, err.size() - 1 - from, kept.string());
}
