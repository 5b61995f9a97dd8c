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

// MurmurHash64A (Austin Appleby, public domain): a stable 64-bit hash of a
// large text, 8 bytes at a time, for digests of big fields (a node's code)
// where Hasher's byte-wise FNV-1a would cost more than parsing them.
uint64_t HashLarge(std::string_view text);
