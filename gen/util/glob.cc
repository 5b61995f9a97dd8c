#include "util/glob.h"

namespace {

// Matches one bracket expression at pattern[p] against c; sets *end past
// its ']'. False when c does not match.
bool MatchClass(const std::string& pattern, size_t p, char c, size_t* end) {
  size_t i = p + 1;
  bool negate = i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^');
  if (negate) ++i;
  bool hit = false;
  for (bool first = true; i < pattern.size() && (first || pattern[i] != ']'); first = false) {
    char lo = pattern[i];
    char hi = lo;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      hi = pattern[i + 2];
      i += 2;
    }
    hit = hit || (lo <= c && c <= hi);
    ++i;
  }
  *end = i + 1;
  return hit != negate && c != '/';
}

bool Match(const std::string& pattern, size_t p, const std::string& path, size_t s) {
  while (p < pattern.size()) {
    char c = pattern[p];
    if (c == '*' && p + 1 < pattern.size() && pattern[p + 1] == '*') {
      size_t rest = p + 2;
      // "**/" may match no folder at all.
      if (rest < pattern.size() && pattern[rest] == '/' && Match(pattern, rest + 1, path, s)) return true;
      for (size_t k = s; k <= path.size(); ++k)
        if (Match(pattern, rest, path, k)) return true;
      return false;
    }
    if (c == '*') {
      for (size_t k = s;; ++k) {
        if (Match(pattern, p + 1, path, k)) return true;
        if (k == path.size() || path[k] == '/') return false;
      }
    }
    if (s == path.size()) return false;
    if (c == '?') {
      if (path[s] == '/') return false;
      ++p;
    } else if (c == '[') {
      size_t end = 0;
      if (!MatchClass(pattern, p, path[s], &end)) return false;
      p = end;
    } else {
      if (c != path[s]) return false;
      ++p;
    }
    ++s;
  }
  return s == path.size();
}

}  // namespace

bool GlobMatch(const std::string& pattern, const std::string& path) {
  return Match(pattern, 0, path, 0);
}

std::string GlobProblem(const std::string& pattern) {
  if (pattern.empty()) return "an empty glob";
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '[') continue;
    size_t close = pattern.find(']', i + 2);  // "[]]" holds a ']'
    if (close == std::string::npos) return "'[' without a closing ']'";
    i = close;
  }
  if (pattern.find("***") != std::string::npos) return "'***' (use '**')";
  return "";
}
