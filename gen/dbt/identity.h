#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/fs.h"

// Where the warehouse is decides whether a node is up to date, but its
// description may be secret (a host, an environment variable's value).
// pa-gen writes only keyed digests of it: SipHash-2-4 under a random key
// kept in .pa/identity.key (0600), so that a digest in the plan, the state
// or build.ninja says nothing of the value without the key.
using IdentityKey = std::array<uint8_t, 16>;

// Reads the project's key, or makes one (16 bytes from getrandom, mode
// 0600) when there is none or it is not one.
bool LoadOrCreateIdentityKey(const fs::path& file, IdentityKey* key, std::string* err);

// The keyed digest of `text`, 16 hex digits.
std::string KeyedDigest(const IdentityKey& key, std::string_view text);

// `pa-gen check-env` (build.ninja's check_env edge): writes
// EnvironmentDigest of `names` to `out` when it differs from what is there.
// Returns the exit code.
int CheckEnvironment(const fs::path& key_file, const fs::path& out,
                     const std::vector<std::string>& names);

// The keyed digest of the current values of the environment variables
// `names` (unset and empty differ).
std::string EnvironmentDigest(const IdentityKey& key, const std::vector<std::string>& names);
