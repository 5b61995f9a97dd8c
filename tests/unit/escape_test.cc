#include "util/escape.h"

#include <gtest/gtest.h>

namespace {

std::string Escaped(std::string_view in, NinjaContext context) {
  std::string out, err;
  EXPECT_TRUE(NinjaEscape(in, context, &out, &err)) << err;
  return out;
}

TEST(NinjaEscape, PathSpecials) {
  EXPECT_EQ(Escaped("models/a b.sql", NinjaContext::kPath), "models/a$ b.sql");
  EXPECT_EQ(Escaped("c:/x", NinjaContext::kPath), "c$:/x");
  EXPECT_EQ(Escaped("$cost.sql", NinjaContext::kPath), "$$cost.sql");
  EXPECT_EQ(Escaped("a$ :", NinjaContext::kPath), "a$$$ $:");
}

TEST(NinjaEscape, ValueOnlyDollar) {
  EXPECT_EQ(Escaped("a b:c $d", NinjaContext::kValue), "a b:c $$d");
}

TEST(NinjaEscape, RejectsWhatNinjaCannotExpress) {
  std::string out, err;
  EXPECT_FALSE(NinjaEscape("a|b", NinjaContext::kPath, &out, &err));
  EXPECT_NE(err.find("'|'"), std::string::npos);
  EXPECT_FALSE(NinjaEscape("a\nb", NinjaContext::kPath, &out, &err));
  EXPECT_NE(err.find("newline"), std::string::npos);
  EXPECT_FALSE(NinjaEscape("a\nb", NinjaContext::kValue, &out, &err));
}

TEST(ShellQuote, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(ShellQuote("/usr/bin/pa-gen"), "/usr/bin/pa-gen");
  EXPECT_EQ(ShellQuote("a b"), "'a b'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("{\"x\": 1}"), "'{\"x\": 1}'");
}

}  // namespace
