#include "util/hash.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace {

// Digests are kept in .pa/state: they must not change between builds.
TEST(Hasher, IsStable) {
  EXPECT_EQ(Hasher().Hex(), "cbf29ce484222325");
  EXPECT_EQ(Hasher().Add("ab").Add("c").Hex(), Hasher().Add("ab").Add("c").Hex());
  EXPECT_NE(Hasher().Add("ab").Add("c").Hex(), Hasher().Add("a").Add("bc").Hex());
}

TEST(HashLarge, IsStable) {
  EXPECT_EQ(HashLarge(""), 0x409820713d71ee3dULL);
  EXPECT_EQ(HashLarge("a"), 0x172d1a1c63ac4fa0ULL);
  EXPECT_EQ(HashLarge("select 1"), 0xaaacba2440473a4bULL);
  EXPECT_EQ(HashLarge("0123456789abcdef0"), 0xf1c830c9054f835eULL);
}

TEST(HashLarge, EveryByteCounts) {
  std::set<uint64_t> seen;
  std::string text;
  for (int length = 0; length < 40; ++length) {
    EXPECT_TRUE(seen.insert(HashLarge(text)).second) << length;
    for (int i = 0; i < length; ++i) {
      std::string changed = text;
      changed[i] ^= 1;
      EXPECT_TRUE(seen.insert(HashLarge(changed)).second) << length << " " << i;
    }
    text += static_cast<char>('a' + length % 26);
  }
}

}  // namespace
