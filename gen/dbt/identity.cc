#include "dbt/identity.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace {

uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

uint64_t Load64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// SipHash-2-4 (Aumasson and Bernstein): a keyed pseudo-random function, so
// a digest of a short value (a port, a path) cannot be searched for
// without the key.
uint64_t SipHash24(const IdentityKey& key, std::string_view text) {
  uint64_t k0 = Load64(key.data()), k1 = Load64(key.data() + 8);
  uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
  auto round = [&] {
    v0 += v1; v1 = Rotl(v1, 13); v1 ^= v0; v0 = Rotl(v0, 32);
    v2 += v3; v3 = Rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = Rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = Rotl(v1, 17); v1 ^= v2; v2 = Rotl(v2, 32);
  };
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  size_t n = text.size();
  size_t full = n - n % 8;
  for (size_t i = 0; i < full; i += 8) {
    uint64_t m = Load64(p + i);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  uint64_t last = static_cast<uint64_t>(n & 0xff) << 56;
  for (size_t i = 0; i < n % 8; ++i) last |= static_cast<uint64_t>(p[full + i]) << (8 * i);
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

bool ReadKey(const fs::path& file, IdentityKey* key) {
  std::string text, ignored;
  if (!ReadFile(file, &text, &ignored) || text.size() != 33 || text[32] != '\n') return false;
  for (size_t i = 0; i < key->size(); ++i) {
    unsigned value = 0;
    if (std::sscanf(text.c_str() + 2 * i, "%2x", &value) != 1) return false;
    (*key)[i] = static_cast<uint8_t>(value);
  }
  return true;
}

}  // namespace

bool LoadOrCreateIdentityKey(const fs::path& file, IdentityKey* key, std::string* err) {
  if (ReadKey(file, key)) return true;
  if (!CreateDirectories(file.parent_path(), err)) return false;
  if (getrandom(key->data(), key->size(), 0) != static_cast<ssize_t>(key->size())) {
    *err = fmt::format("{}: cannot make a key: {}", file.string(), std::strerror(errno));
    return false;
  }
  std::string text;
  for (uint8_t byte : *key) text += fmt::format("{:02x}", byte);
  text += "\n";
  // Written to a temporary of mode 0600 and renamed: never readable by others, never half there.
  fs::path tmp = file;
  tmp += fmt::format(".{}.tmp", getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (fd >= 0) ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp.c_str(), file.c_str()) != 0) {
    *err = fmt::format("{}: cannot write: {}", file.string(), std::strerror(errno));
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::string KeyedDigest(const IdentityKey& key, std::string_view text) {
  return fmt::format("{:016x}", SipHash24(key, text));
}

std::string EnvironmentDigest(const IdentityKey& key, const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) {
    const char* value = std::getenv(name.c_str());
    // Length-prefixed: no value can pass for another name's.
    text += fmt::format("{}:{}{}:{}", name.size(), name, value ? "=" : "-",
                        value ? std::to_string(std::strlen(value)) + ":" + value : "");
  }
  return KeyedDigest(key, text);
}

int CheckEnvironment(const fs::path& key_file, const fs::path& out,
                     const std::vector<std::string>& names) {
  IdentityKey key;
  std::string err;
  bool changed = false;
  if (!LoadOrCreateIdentityKey(key_file, &key, &err) ||
      !WriteFileIfChanged(out, EnvironmentDigest(key, names) + "\n", &changed, &err)) {
    fmt::print(stderr, "pa-gen: error: {}\n", err);
    return 2;
  }
  return 0;
}
