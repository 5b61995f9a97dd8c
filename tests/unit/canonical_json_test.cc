#include "util/canonical_json.h"

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
