#include "util/hash.h"

#include <fmt/format.h>

void Hasher::Bytes(const void* data, size_t size) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    state_ ^= p[i];
    state_ *= 1099511628211ULL;
  }
}

Hasher& Hasher::Add(std::string_view part) {
  uint64_t size = part.size();
  Bytes(&size, sizeof size);
  Bytes(part.data(), part.size());
  return *this;
}

std::string Hasher::Hex() const { return fmt::format("{:016x}", state_); }
