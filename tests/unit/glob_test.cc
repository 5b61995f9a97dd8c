#include "util/glob.h"

#include <gtest/gtest.h>

namespace {

TEST(GlobMatch, StarsQuestionMarksAndClasses) {
  EXPECT_TRUE(GlobMatch("models/*.sql", "models/a.sql"));
  EXPECT_FALSE(GlobMatch("models/*.sql", "models/staging/a.sql"));  // * stays in one folder
  EXPECT_TRUE(GlobMatch("models/**/*.sql", "models/staging/deep/a.sql"));
  EXPECT_TRUE(GlobMatch("models/**/*.sql", "models/a.sql"));  // **/ may match no folder
  EXPECT_TRUE(GlobMatch("models/**", "models/x/y.sql"));
  EXPECT_FALSE(GlobMatch("models/**", "seeds/x.csv"));
  EXPECT_TRUE(GlobMatch("models/stg_?.sql", "models/stg_a.sql"));
  EXPECT_FALSE(GlobMatch("models/stg_?.sql", "models/stg_ab.sql"));
  EXPECT_TRUE(GlobMatch("models/[a-c]*.sql", "models/b1.sql"));
  EXPECT_FALSE(GlobMatch("models/[!a-c]*.sql", "models/b1.sql"));
  EXPECT_TRUE(GlobMatch("models/[]x].sql", "models/].sql"));
  EXPECT_FALSE(GlobMatch("models/a.sql", "models/a.sqlx"));
}

TEST(GlobProblem, NamesWhatIsWrong) {
  EXPECT_EQ(GlobProblem("models/**/*.sql"), "");
  EXPECT_EQ(GlobProblem("models/[a-z.sql"), "'[' without a closing ']'");
  EXPECT_EQ(GlobProblem("models/***"), "'***' (use '**')");
  EXPECT_EQ(GlobProblem(""), "an empty glob");
}

}  // namespace
