#include "cli/explain.h"

#include <gtest/gtest.h>

namespace {

TEST(DescribeBounds, NamesTheLargerBound) {
  Prediction p;
  p.critical_path_seconds = 12.34;
  p.cpu_bound_seconds = 20;
  EXPECT_EQ(DescribeBounds(p, 2),
            "bounds: critical path alone 12.3 s, the batches' dbt CPU over 2 cores 20.0 s; the CPU "
            "limits this build (the database server's own CPU is not counted)");
  p.cpu_bound_seconds = 6;
  EXPECT_EQ(DescribeBounds(p, 1),
            "bounds: critical path alone 12.3 s, the batches' dbt CPU over 1 core 6.0 s; the critical "
            "path limits this build (the database server's own CPU is not counted)");
  EXPECT_EQ(DescribeBounds(p, 0),
            "bounds: critical path alone 12.3 s, no cores limit; the critical path limits this build "
            "(the database server's own CPU is not counted)");
}

}  // namespace
