#include "exec/trace.h"

#include <gtest/gtest.h>

#include "fake_disk.h"
#include "plan/layout.h"

namespace {

// run_results.json as dbt 1.12 writes it, with the fields the trace reads.
std::string RunResults(const std::string& started, const std::string& generated, const std::string& results) {
  return R"({"metadata": {"dbt_version": "1.12.0", "invocation_started_at": ")" + started +
         R"(", "generated_at": ")" + generated + R"("}, "elapsed_time": 1.0, "results": [)" + results + "]}";
}

std::string Result(const std::string& id, const std::string& status, const std::string& thread,
                   const std::string& start, const std::string& middle, const std::string& end) {
  return R"({"unique_id": ")" + id + R"(", "status": ")" + status + R"(", "thread_id": ")" + thread +
         R"(", "timing": [{"name": "compile", "started_at": ")" + start + R"(", "completed_at": ")" + middle +
         R"("}, {"name": "execute", "started_at": ")" + middle + R"(", "completed_at": ")" + end + R"("}]})";
}

const std::string kStaging = RunResults(
    "2026-12-01T10:00:00.000000Z", "2026-12-01T10:00:04.500000Z",
    Result("model.p.stg_a", "success", "Thread-1 (worker)", "2026-12-01T10:00:02.000000Z",
           "2026-12-01T10:00:02.100000Z", "2026-12-01T10:00:03.000000Z") +
        "," +
        Result("model.p.stg_b", "error", "Thread-2 (worker)", "2026-12-01T10:00:02.000000Z",
               "2026-12-01T10:00:02.200000Z", "2026-12-01T10:00:02.500000Z") +
        R"x(, {"unique_id": "test.p.not_null_stg_b_id.abc123", "status": "skipped", "thread_id": "Thread-2 (worker)", "timing": []})x");
const std::string kMarts = RunResults(
    "2026-12-01T10:00:05.000000Z", "2026-12-01T10:00:08.000000Z",
    Result("model.p.orders", "success", "Thread-1 (worker)", "2026-12-01T10:00:07.000000Z",
           "2026-12-01T10:00:07.250000Z", "2026-12-01T10:00:07.750000Z"));

TEST(Trace, DbtTimestampsInMicroseconds) {
  std::int64_t us = 0;
  ASSERT_TRUE(ParseDbtTimestamp("1970-01-01T00:00:01.000002Z", &us));
  EXPECT_EQ(us, 1000002);
  ASSERT_TRUE(ParseDbtTimestamp("2026-12-01T13:03:32.505988Z", &us));
  EXPECT_EQ(us, 1796130212505988);  // date -d 2026-12-01T13:03:32Z +%s
  ASSERT_TRUE(ParseDbtTimestamp("2026-12-01T13:03:32Z", &us));
  EXPECT_EQ(us, 1796130212000000);
  ASSERT_TRUE(ParseDbtTimestamp("2026-12-01T13:03:32.5", &us));
  EXPECT_EQ(us, 1796130212500000);
  EXPECT_FALSE(ParseDbtTimestamp("", &us));
  EXPECT_FALSE(ParseDbtTimestamp("2026-12-01 13:03:32", &us));
  EXPECT_FALSE(ParseDbtTimestamp("2026-13-01T13:03:32Z", &us));
  EXPECT_FALSE(ParseDbtTimestamp("2026-12-01T13:03:32.Z", &us));
  EXPECT_FALSE(ParseDbtTimestamp("2026-12-01T13:03:32Zjunk", &us));
}

TEST(Trace, ARunIsItsTimedNodes) {
  TraceRun run;
  std::string err;
  ASSERT_TRUE(ParseTraceRun("staging", kStaging, "staging.json", &run, &err)) << err;
  EXPECT_EQ(run.batch, "staging");
  EXPECT_EQ(run.ended_us - run.started_us, 4500000);
  ASSERT_EQ(run.slices.size(), 2u);
  EXPECT_EQ(run.slices[1].unique_id, "model.p.stg_b");
  EXPECT_EQ(run.slices[1].status, "error");
  EXPECT_EQ(run.slices[1].thread, "Thread-2 (worker)");
  EXPECT_EQ(run.slices[1].end_us - run.slices[1].start_us, 500000);  // compile + execute
  EXPECT_EQ(run.untimed, 1);  // the skipped test
  EXPECT_FALSE(ParseTraceRun("x", "{\"results\": []}", "x.json", &run, &err));
  EXPECT_EQ(err, "x.json: not dbt run results");
  EXPECT_FALSE(ParseTraceRun("x", "not json", "x.json", &run, &err));
}

TEST(Trace, ExactTraceOfTwoBatches) {
  TraceRun staging, marts;
  std::string err;
  ASSERT_TRUE(ParseTraceRun("staging", kStaging, "s", &staging, &err));
  ASSERT_TRUE(ParseTraceRun("marts", kMarts, "m", &marts, &err));
  // Ordered by start whatever the order given; times from the first start.
  EXPECT_EQ(TraceJson({marts, staging}),
            R"x({"displayTimeUnit":"ms","traceEvents":[
{"args":{"name":"staging"},"name":"process_name","ph":"M","pid":1,"tid":0},
{"args":{"sort_index":1},"name":"process_sort_index","ph":"M","pid":1,"tid":0},
{"args":{"name":"dbt build"},"name":"thread_name","ph":"M","pid":1,"tid":0},
{"args":{"name":"Thread-1 (worker)"},"name":"thread_name","ph":"M","pid":1,"tid":1},
{"args":{"name":"Thread-2 (worker)"},"name":"thread_name","ph":"M","pid":1,"tid":2},
{"args":{"timed nodes":2,"untimed nodes":1},"cat":"batch","dur":4500000,"name":"dbt build staging","ph":"X","pid":1,"tid":0,"ts":0},
{"args":{"status":"success","unique_id":"model.p.stg_a"},"cat":"model","cname":"good","dur":1000000,"name":"stg_a","ph":"X","pid":1,"tid":1,"ts":2000000},
{"args":{"status":"error","unique_id":"model.p.stg_b"},"cat":"model","cname":"terrible","dur":500000,"name":"stg_b","ph":"X","pid":1,"tid":2,"ts":2000000},
{"args":{"name":"marts"},"name":"process_name","ph":"M","pid":2,"tid":0},
{"args":{"sort_index":2},"name":"process_sort_index","ph":"M","pid":2,"tid":0},
{"args":{"name":"dbt build"},"name":"thread_name","ph":"M","pid":2,"tid":0},
{"args":{"name":"Thread-1 (worker)"},"name":"thread_name","ph":"M","pid":2,"tid":1},
{"args":{"timed nodes":1,"untimed nodes":0},"cat":"batch","dur":3000000,"name":"dbt build marts","ph":"X","pid":2,"tid":0,"ts":5000000},
{"args":{"status":"success","unique_id":"model.p.orders"},"cat":"model","cname":"good","dur":750000,"name":"orders","ph":"X","pid":2,"tid":1,"ts":7000000}
]}
)x");
  EXPECT_EQ(TraceJson({}), "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n]}\n");
}

TEST(Trace, ThreadsInTheirNumbersOrder) {
  TraceRun run{"b", 0, 10, {{"model.p.x", "success", "Thread-10 (worker)", 1, 2},
                            {"model.p.y", "success", "Thread-2 (worker)", 1, 2}}};
  std::string json = TraceJson({run});
  EXPECT_LT(json.find("Thread-2 (worker)"), json.find("Thread-10 (worker)"));
}

TEST(Trace, WritesTheLastRunOfEachBatchSinceTheBuildStarted) {
  FakeDisk disk;
  std::string err;
  bool changed;
  ASSERT_TRUE(disk.WriteFileIfChanged(RunResultsFile("/p" / RunDir("staging")), kStaging, &changed, &err));
  ASSERT_TRUE(disk.WriteFileIfChanged(RunResultsFile("/p" / RunDir("marts")), kMarts, &changed, &err));
  ASSERT_TRUE(disk.WriteFileIfChanged(RunResultsFile("/p" / RunDir("broken")), "{", &changed, &err));
  ASSERT_TRUE(WriteTrace(disk, "/p", 0, &err)) << err;
  TraceRun staging, marts;
  ParseTraceRun("staging", kStaging, "s", &staging, &err);
  ParseTraceRun("marts", kMarts, "m", &marts, &err);
  std::string trace;
  ASSERT_TRUE(disk.ReadFile(TraceFile("/p"), &trace, &err));
  EXPECT_EQ(trace, TraceJson({staging, marts}));  // the unreadable one left out
  // A build that started after staging's run: only marts ran in it.
  ASSERT_TRUE(WriteTrace(disk, "/p", marts.started_us, &err)) << err;
  ASSERT_TRUE(disk.ReadFile(TraceFile("/p"), &trace, &err));
  EXPECT_EQ(trace, TraceJson({marts}));
  EXPECT_EQ(TraceFile("/p"), fs::path("/p/.pa/trace.json"));
}

TEST(Trace, ExactSvgOfOneBatch) {
  TraceRun marts;
  std::string err, svg;
  ASSERT_TRUE(ParseTraceRun("marts", kMarts, "m", &marts, &err));
  ASSERT_TRUE(TraceToSvg(TraceJson({marts}), &svg, &err)) << err;
  // The run spans 3 s: a tick each half second, the batch's row across the
  // whole plot, orders from 2 s to 2.75 s.
  EXPECT_EQ(svg, R"x(<svg xmlns="http://www.w3.org/2000/svg" width="1220" height="80" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<line x1="240.0" y1="30" x2="240.0" y2="70" stroke="#e0e0e0"/><text x="240.0" y="24" text-anchor="middle">0 s</text>
<line x1="400.0" y1="30" x2="400.0" y2="70" stroke="#e0e0e0"/><text x="400.0" y="24" text-anchor="middle">0.5 s</text>
<line x1="560.0" y1="30" x2="560.0" y2="70" stroke="#e0e0e0"/><text x="560.0" y="24" text-anchor="middle">1 s</text>
<line x1="720.0" y1="30" x2="720.0" y2="70" stroke="#e0e0e0"/><text x="720.0" y="24" text-anchor="middle">1.5 s</text>
<line x1="880.0" y1="30" x2="880.0" y2="70" stroke="#e0e0e0"/><text x="880.0" y="24" text-anchor="middle">2 s</text>
<line x1="1040.0" y1="30" x2="1040.0" y2="70" stroke="#e0e0e0"/><text x="1040.0" y="24" text-anchor="middle">2.5 s</text>
<line x1="1200.0" y1="30" x2="1200.0" y2="70" stroke="#e0e0e0"/><text x="1200.0" y="24" text-anchor="middle">3 s</text>
<text x="4" y="47" font-weight="bold">marts</text>
<rect x="240.0" y="35" width="960.0" height="16" fill="#cfd8dc" stroke="white"><title>dbt build marts (3.00 s)</title></rect>
<text x="242.0" y="47" pointer-events="none">dbt build marts</text>
<text x="4" y="65">  Thread-1 (worker)</text>
<rect x="880.0" y="53" width="240.0" height="16" fill="#66bb6a" stroke="white"><title>orders: success (0.75 s)</title></rect>
<text x="882.0" y="65" pointer-events="none">orders</text>
</svg>
)x");
}

TEST(Trace, SvgOfSomethingElseIsAnError) {
  std::string err, svg;
  EXPECT_FALSE(TraceToSvg("[]", &svg, &err));
  EXPECT_EQ(err, "not a trace: no traceEvents");
}

}  // namespace
