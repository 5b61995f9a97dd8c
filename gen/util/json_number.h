#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

// Numbers from the JSON files pa-gen reads back (state, plan, run results),
// which anyone can edit. nlohmann's get<long long>() of a float such as 1e20
// is a float-to-integer conversion out of range, undefined behaviour, and
// get<int>() of 1e12 wraps. These check the type and the range first and
// throw std::out_of_range naming the field; the loaders report it as they
// report any other malformed file.
template <typename Int>
Int WholeNumber(const nlohmann::json& value, const char* field,
                Int min = std::numeric_limits<Int>::min(),
                Int max = std::numeric_limits<Int>::max()) {
  static_assert(std::is_signed_v<Int>);
  if (value.is_number_unsigned()) {
    uint64_t u = value.get<uint64_t>();
    if (max >= 0 && u <= static_cast<uint64_t>(max) && static_cast<Int>(u) >= min)
      return static_cast<Int>(u);
  } else if (value.is_number_integer()) {
    int64_t i = value.get<int64_t>();
    if (i >= static_cast<int64_t>(min) && i <= static_cast<int64_t>(max))
      return static_cast<Int>(i);
  } else {
    throw std::out_of_range(fmt::format("'{}' should be a whole number", field));
  }
  throw std::out_of_range(fmt::format("'{}' is out of range ({} to {})", field, min, max));
}

// An optional field of `object`: `fallback` when absent or null.
template <typename Int>
Int WholeNumberOr(const nlohmann::json& object, const char* field, Int fallback,
                  Int min = std::numeric_limits<Int>::min(),
                  Int max = std::numeric_limits<Int>::max()) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return fallback;
  return WholeNumber<Int>(*it, field, min, max);
}

// A finite number >= 0 (seconds), or `fallback` when absent or null.
inline double SecondsOr(const nlohmann::json& object, const char* field, double fallback) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_number()) throw std::out_of_range(fmt::format("'{}' should be a number", field));
  double d = it->get<double>();
  if (!std::isfinite(d) || d < 0)
    throw std::out_of_range(fmt::format("'{}' should be a finite number >= 0", field));
  return d;
}
