#pragma once

#include <string>

// Shell-style globs on '/'-separated paths: `*` and `?` stay within one
// path component, `**` spans components (`a/**/b` also matches `a/b`),
// `[abc]`, `[a-z]` and `[!a]` match one character.
bool GlobMatch(const std::string& pattern, const std::string& path);

// Empty when `pattern` is well formed; otherwise what is wrong with it.
std::string GlobProblem(const std::string& pattern);
