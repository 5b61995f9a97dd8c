#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// A stable 64-bit content hash (FNV-1a), for fingerprints that must not
// change between runs or machines. Not for security.
class Hasher {
 public:
  // Each part is length-prefixed, so ("ab", "c") and ("a", "bc") differ.
  Hasher& Add(std::string_view part);
  std::string Hex() const;

 private:
  void Bytes(const void* data, size_t size);
  uint64_t state_ = 14695981039346656037ULL;
};
