#include "util/hash.h"

#include <cstring>

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

// What fmt::format("{:016x}") gives, without its cost (a generation makes
// one per node and member).
std::string Hasher::Hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(16, '0');
  uint64_t value = state_;
  for (int i = 15; i >= 0; --i, value >>= 4) hex[i] = kDigits[value & 15];
  return hex;
}

uint64_t HashLarge(std::string_view text) {
  constexpr uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  const size_t len = text.size();
  uint64_t h = 0x8445d61a4e774912ULL ^ (len * m);
  const char* p = text.data();
  for (const char* end = p + len / 8 * 8; p != end; p += 8) {
    uint64_t k;
    std::memcpy(&k, p, 8);  // little-endian on the machines pa-gen runs on
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  switch (len & 7) {
    case 7: h ^= uint64_t(static_cast<unsigned char>(p[6])) << 48; [[fallthrough]];
    case 6: h ^= uint64_t(static_cast<unsigned char>(p[5])) << 40; [[fallthrough]];
    case 5: h ^= uint64_t(static_cast<unsigned char>(p[4])) << 32; [[fallthrough]];
    case 4: h ^= uint64_t(static_cast<unsigned char>(p[3])) << 24; [[fallthrough]];
    case 3: h ^= uint64_t(static_cast<unsigned char>(p[2])) << 16; [[fallthrough]];
    case 2: h ^= uint64_t(static_cast<unsigned char>(p[1])) << 8; [[fallthrough]];
    case 1:
      h ^= uint64_t(static_cast<unsigned char>(p[0]));
      h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}
