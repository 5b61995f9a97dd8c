#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace fs = std::filesystem;

bool ReadFile(const fs::path& path, std::string* content, std::string* err);

// Writes `content` to a temporary file beside `path` and renames it into
// place, so a reader never sees half a file. When the file already holds
// exactly `content` it is left alone (its mtime too) and *changed is false.
bool WriteFileIfChanged(const fs::path& path, std::string_view content, bool* changed,
                        std::string* err);

// `target` relative to `base`, both made absolute first; "." for the same folder.
std::string RelativePath(const fs::path& target, const fs::path& base);

// Modification time in nanoseconds since the epoch; 0 when missing.
long long MtimeNs(const fs::path& path);

// Creates or truncates `path` so its mtime is now.
bool Touch(const fs::path& path, std::string* err);
