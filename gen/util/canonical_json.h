#pragma once

#include <cstdint>
#include <string_view>

// A digest of what a JSON text means rather than how it was written: object
// keys in any order, numbers however spelled (1, 1.0, 1e0) give the same
// digest. dbt writes some config maps (e.g. `indexes` entries) with their
// keys in a different order from one full parse to the next; a node's
// fingerprint must not see that as a change. Strings and arrays keep their
// order. Text that is not well-formed JSON (or nests deeper than 256) is
// digested as it is written.
uint64_t CanonicalJsonHash(std::string_view json);
