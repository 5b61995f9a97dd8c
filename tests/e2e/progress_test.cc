// End to end: `pa-gen build`'s live progress (exec/progress.h) with the real
// pa-gen, dbt and ninja, under a real pseudo-terminal (script(1)) and under
// a pipe. A small project: staging (two Python models) and marts (a Python
// model on staging and a SQL model that fails). Under the terminal each
// Python model waits, before it ends, until the line it should be seen
// under has been drawn ($PA_TEST_SHOWN: the terminal's output as script(1)
// writes it), so the line's states are asserted whatever the machine's load.
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
  // Waits (at most a minute: then the test fails on what it did not see)
  // until the terminal shows `text`; no wait without $PA_TEST_SHOWN.
  auto waiting_model = [](const std::string& text, const std::string& result) {
    return "import os\nimport time\n\n\n"
           "def shown(text):\n"
           "    path = os.environ.get('PA_TEST_SHOWN')\n"
           "    deadline = time.time() + 60\n"
           "    while path and time.time() < deadline:\n"
           "        try:\n"
           "            with open(path, 'rb') as f:\n"
           "                if text in f.read():\n"
           "                    return\n"
           "        except OSError:\n"
           "            pass\n"
           "        time.sleep(0.05)\n\n\n"
           "def model(dbt, session):\n"
           "    shown(b'" + text + "')\n"
           "    return " + result + "\n";
  };
  // stg_a ends once its batch is seen running with nothing done, stg_slow
  // once stg_a is seen done (the profile's 2 threads run them side by
  // side), mart_c once marts is seen running.
  Write(dir / "models" / "staging" / "stg_a.py",
        waiting_model("running: staging 0/2", "session.sql('select 1 as id')"));
  Write(dir / "models" / "staging" / "stg_slow.py",
        waiting_model("running: staging 1/2", "session.sql('select 1 as id')"));
  Write(dir / "models" / "marts" / "mart_c.py", waiting_model("running: marts", "dbt.ref('stg_a')"));
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
  fs::path shown = root_ / "shown.txt";  // what the terminal received so far (-f: flushed)
  Result build = Shell(project_, "TERM=xterm PA_TEST_SHOWN='" + shown.string() + "' script -qfec \"'" +
                                     kPaGen.string() + "' --policy folder build\" '" + shown.string() +
                                     "' < /dev/null; echo \"exit $?\"");
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
  EXPECT_TRUE(std::regex_search(out, std::regex("(\n|\r\x1b\\[K)pa-gen: 4 nodes in "))) << out;
  EXPECT_NE(out.find(": 3 succeeded, 1 failed\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("exit 1"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "progress") && !fs::is_empty(project_ / ".pa" / "progress"))
      << "the progress folder is removed at the end";

  // Fixed: the next build runs the failed node only.
  Write(project_ / "models" / "marts" / "mart_bad.sql", "select id from {{ ref('stg_a') }}\n");
  Result fixed = Shell(project_, "TERM=xterm script -qfec \"'" + kPaGen.string() +
                                     "' --policy folder build\" /dev/null < /dev/null; echo \"exit $?\"");
  EXPECT_NE(fixed.out.find("\r\x1b[K[0/1 nodes]"), std::string::npos) << fixed.out;
  // On a line of its own: after the last batch's line, or over the status line
  // when a poll drew it between that line and the end (timing decides which).
  EXPECT_TRUE(std::regex_search(fixed.out, std::regex("(\n|\r\x1b\\[K)pa-gen: 1 node in ")))
      << fixed.out;
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
