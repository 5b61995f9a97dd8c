// End to end: `pa-gen build`'s live progress (exec/progress.h) with the real
// pa-gen, dbt and ninja, under a real pseudo-terminal (script(1)) and under
// a pipe. A small project: staging (a SQL model and a Python model that
// sleeps $PA_TEST_SLEEP seconds, so the line is redrawn while dbt runs)
// and marts (a model on staging and one that fails).
#include <regex>

#include "e2e_util.h"

namespace {

void WriteProject(const fs::path& dir) {
  fs::create_directories(dir / "models" / "staging");
  fs::create_directories(dir / "models" / "marts");
  Write(dir / "dbt_project.yml", "name: prog\nprofile: prog\nconfig-version: 2\nmodel-paths: [models]\n");
  Write(dir / "profiles.yml",
        "prog:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: prog.duckdb\n"
        "      threads: 2\n");
  Write(dir / "models" / "staging" / "stg_a.sql", "select 1 as id\n");
  Write(dir / "models" / "staging" / "stg_slow.py",
        "import os\nimport time\n\n\ndef model(dbt, session):\n"
        "    time.sleep(float(os.environ.get('PA_TEST_SLEEP', '0')))\n"
        "    return session.sql('select 1 as id')\n");
  Write(dir / "models" / "marts" / "mart_c.sql", "select id from {{ ref('stg_a') }}\n");
  Write(dir / "models" / "marts" / "mart_bad.sql", "select * from {{ ref('stg_a') }} join no_such_table using (id)\n");
}

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// The project's two folders, staging and marts, are two batches (--policy
// folder; the DuckDB default is one batch): the line shows them in turn.
class ProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TestRoot();
    project_ = root_ / "prog";
    WriteProject(project_);
  }
  void TearDown() override { RemoveUnlessFailed(root_); }
  fs::path root_, project_;
};

TEST_F(ProgressTest, TerminalShowsOneLineRedrawnInPlace) {
  // script(1) gives pa-gen a real pseudo-terminal; its output is what a
  // terminal would receive (\r\n line ends).
  if (Shell(project_, "command -v script").code != 0) GTEST_SKIP() << "no script(1) (util-linux)";
  Result build = Shell(project_, "TERM=xterm PA_TEST_SLEEP=4 script -qfec \"'" + kPaGen.string() +
                                     "' --policy folder build\" /dev/null < /dev/null; echo \"exit $?\"");
  const std::string& out = build.out;
  // The status line, redrawn in place: erase, then counts of this build's 4 nodes.
  EXPECT_NE(out.find("\r\x1b[K[0/4 nodes]"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\x1b[K[0/4 nodes] running: staging 0/2"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\x1b[K[1/4 nodes] running: staging 1/2"), std::string::npos) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("\r\x1b\\[K\\[[23]/4 nodes\\] running: marts [01]/2")))
      << out;
  // The failure as a line of its own, once (exec's own line for it is not
  // repeated), and again in the list of failures after the summary.
  EXPECT_EQ(Count(out, "pa-gen: FAILED model.prog.mart_bad"), 1u) << out;
  EXPECT_EQ(Count(out, "  FAILED model.prog.mart_bad (error) in batch marts"), 1u) << out;
  EXPECT_LT(out.find("pa-gen: 4 nodes in "), out.find("  FAILED model.prog.mart_bad")) << out;
  EXPECT_NE(out.find("\r\x1b[Kpa-gen: FAILED model.prog.mart_bad (error) in batch marts: "),
            std::string::npos) << out;
  // Ninja's own status lines ("[1/4] ...") are left out: the line stands for them.
  EXPECT_FALSE(std::regex_search(out, std::regex("\\[[0-9]+/[0-9]+\\] dbt build"))) << out;
  // Ninja's other lines arrive whole, each on a line of its own (the status
  // line is erased before the first of them and drawn again after the last).
  EXPECT_NE(out.find("\r\nninja: build stopped: subcommand failed.\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\npa-gen: build failed: 1 node failed or not built"), std::string::npos)
      << out;
  // It ends with the summary, on a line of its own.
  EXPECT_NE(out.find("\npa-gen: 4 nodes in "), std::string::npos) << out;
  EXPECT_NE(out.find(": 3 succeeded, 1 failed\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("exit 1"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "progress") && !fs::is_empty(project_ / ".pa" / "progress"))
      << "the progress folder is removed at the end";

  // Fixed: the next build runs the failed node only.
  Write(project_ / "models" / "marts" / "mart_bad.sql", "select id from {{ ref('stg_a') }}\n");
  Result fixed = Shell(project_, "TERM=xterm script -qfec \"'" + kPaGen.string() +
                                     "' --policy folder build\" /dev/null < /dev/null; echo \"exit $?\"");
  EXPECT_NE(fixed.out.find("\r\x1b[K[0/1 nodes]"), std::string::npos) << fixed.out;
  EXPECT_NE(fixed.out.find("\npa-gen: 1 node in "), std::string::npos) << fixed.out;
  EXPECT_NE(fixed.out.find(": 1 succeeded\r\n"), std::string::npos) << fixed.out;
  EXPECT_NE(fixed.out.find("exit 0"), std::string::npos) << fixed.out;
}

TEST_F(ProgressTest, PipeGetsPlainLines) {
  Result build = Shell(project_, "'" + kPaGen.string() + "' --policy folder build -j1 | cat; echo \"exit $?\"");
  const std::string& out = build.out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
  EXPECT_EQ(out.find("\x1b["), std::string::npos) << out;
  // Ninja's own lines, as in any log, with the description that says what runs.
  EXPECT_NE(out.find("] dbt build staging (those of its 2 nodes that need work)\n"), std::string::npos)
      << out;
  // One line per finished batch and per failure, then the summary.
  EXPECT_TRUE(std::regex_search(out, std::regex("(^|\n)pa-gen: batch staging done: 2 nodes in [0-9]+ s \\[2/4 nodes\\]\n")))
      << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("\npa-gen: batch marts done: 2 nodes in [0-9]+ s \\[4/4 nodes\\]\n")))
      << out;
  EXPECT_EQ(Count(out, "pa-gen: FAILED model.prog.mart_bad"), 1u) << out;
  EXPECT_NE(out.find("\npa-gen: FAILED model.prog.mart_bad (error) in batch marts: "), std::string::npos)
      << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("\npa-gen: 4 nodes in [0-9]+ s: 3 succeeded, 1 failed\n")))
      << out;
}

}  // namespace
