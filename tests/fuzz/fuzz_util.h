#pragma once

// What every harness checks besides the sanitizers: a rejected input gets
// one line naming the file (the promise of "bad input"), never a throw.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "util/fs.h"

inline void ExpectOneLine(const std::string& err, std::string_view file) {
  if (err.empty() || err.find('\n') != std::string::npos || err.find(file) == std::string::npos) {
    std::fprintf(stderr, "bad error message: [%s]\n", err.c_str());
    std::abort();
  }
}

// The loaders of plan and state read a path: the input goes to a file of
// this process's own (in /dev/shm when there is one: no disk traffic).
inline fs::path InputFile(const char* name) {
  static const fs::path dir = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  return dir / (std::string("pa-fuzz-") + name + "-" + std::to_string(getpid()));
}

inline void WriteInput(const fs::path& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}
