#include "util/canonical_json.h"

#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "util/hash.h"

namespace {

TEST(CanonicalJsonHash, KeyOrderAndSpacingDoNotCount) {
  EXPECT_EQ(CanonicalJsonHash(R"({"a": 1, "b": {"c": [1, 2], "d": null}})"),
            CanonicalJsonHash(R"({ "b" : {"d":null,"c":[1,2]} , "a":1 })"));
}

TEST(CanonicalJsonHash, NumbersCountByValue) {
  EXPECT_EQ(CanonicalJsonHash(R"({"x": 1})"), CanonicalJsonHash(R"({"x": 1.0})"));
  EXPECT_EQ(CanonicalJsonHash(R"({"x": 100})"), CanonicalJsonHash(R"({"x": 1e2})"));
  EXPECT_EQ(CanonicalJsonHash(R"([0])"), CanonicalJsonHash(R"([-0.0])"));
  EXPECT_NE(CanonicalJsonHash(R"({"x": 1})"), CanonicalJsonHash(R"({"x": 2})"));
}

TEST(CanonicalJsonHash, ValuesKindsAndListOrderCount) {
  const char* texts[] = {R"({"x": 1})",  R"({"x": "1"})", R"({"x": true})", R"({"x": false})",
                         R"({"x": null})", R"({"x": [1]})", R"({"x": {}})",  R"({"y": 1})",
                         R"([1, 2])",    R"([2, 1])",    R"([[1], 2])",    R"([1, [2]])",
                         R"({"x": "a\"b"})", R"({"x": "a\\"})", R"({})", R"([])"};
  for (const char* a : texts)
    for (const char* b : texts)
      if (a != b) EXPECT_NE(CanonicalJsonHash(a), CanonicalJsonHash(b)) << a << " vs " << b;
}

TEST(CanonicalJsonHash, StringsAndMalformedTextAreDigestedAsWritten) {
  EXPECT_EQ(CanonicalJsonHash(R"("select 1")"), HashLarge(R"("select 1")"));
  EXPECT_EQ(CanonicalJsonHash(R"({"a": )"), HashLarge(R"({"a": )"));
  EXPECT_EQ(CanonicalJsonHash(R"({"a": 1} x)"), HashLarge(R"({"a": 1} x)"));
  std::string deep(1000, '[');
  EXPECT_EQ(CanonicalJsonHash(deep), HashLarge(deep));  // no stack overflow on hostile input
}

}  // namespace

// Objects with the keys of one seen before reuse its order (a manifest's
// configs): the digest must be the one a first sight gives.
TEST(CanonicalJsonHash, RepeatedKeySetsDigestAsAtFirstSight) {
  const char* texts[] = {
      R"({"b": 1, "a": {"y": 2, "x": [3]}, "c": "s"})",
      R"({"b": 9, "a": {"y": 2, "x": [4]}, "c": "t"})",
      R"({"a": {"x": 1, "y": 2}, "b": 1, "c": "s"})",
      R"({"k": 1, "k": 2})",
      R"({"k": 2, "k": 1})",
      R"({"b": 1, "a": {"y": 2, "x": [3]}, "c": "s"})",
  };
  std::vector<uint64_t> first;
  for (const char* text : texts) first.push_back(CanonicalJsonHash(text));
  // Many other key sets in between push the early ones out of what is kept.
  for (int i = 0; i < 40; ++i)
    CanonicalJsonHash("{\"k" + std::to_string(i) + "\": {\"z\": 1}, \"a\": 2}");
  for (int round = 0; round < 3; ++round)
    for (size_t i = 0; i < std::size(texts); ++i) EXPECT_EQ(CanonicalJsonHash(texts[i]), first[i]) << texts[i];
  EXPECT_EQ(first[0], first[5]);
  EXPECT_NE(first[0], first[1]);
  EXPECT_EQ(first[3], first[4]);  // duplicate keys sort by value, whatever their order
  EXPECT_EQ(CanonicalJsonHash(R"({"b": 1, "a": 2})"), CanonicalJsonHash(R"({"a": 2, "b": 1})"));
}
