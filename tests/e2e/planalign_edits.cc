#include "planalign_edits.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>

namespace {
using nlohmann::json;
}  // namespace

// Nodes dbt executed since `marker` was written, from every batch's run results.
Ids ExecutedSince(const fs::path& project, const fs::path& marker) {
  Ids ids;
  for (const auto& run : fs::directory_iterator(project / ".pa" / "run")) {
    fs::path results = run.path() / "target" / "run_results.json";
    if (!fs::exists(results) || fs::last_write_time(results) < fs::last_write_time(marker)) continue;
    json doc = json::parse(Read(results));  // a named object: the loop must not outlive it
    for (const auto& r : doc["results"])
      if (r["status"] != "skipped") ids.insert(r["unique_id"].get<std::string>());
  }
  return ids;
}

void Replace(const fs::path& file, const std::string& from, const std::string& to) {
  std::string text = Read(file);
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from << " not in " << file;
  Write(file, text.replace(at, from.size(), to));
}

std::vector<Edit> PlanalignEdits() {
  auto none = [](const ManifestView&) { return Ids{}; };
  auto node = [](std::string id) { return [id](const ManifestView&) { return Ids{id}; }; };
  auto plan_design = std::make_shared<std::string>();
  return {
      {"body edit", [plan_design](const fs::path& p) {
         fs::path f = p / "models/staging/stg_plan_design.sql";
         *plan_design = Read(f);
         Replace(f, "    vesting_years,", "    vesting_years,\n    vesting_years * 12 as vesting_months,");
       }, node("model.planalign.stg_plan_design")},
      {"comment-only edit", [](const fs::path& p) {
         fs::path f = p / "models/intermediate/int_employer_match.sql";
         Write(f, Read(f) + "-- reviewed\n");
       }, node("model.planalign.int_employer_match")},
      {"touch only", [](const fs::path& p) {
         fs::path f = p / "models/staging/stg_census.sql";
         fs::last_write_time(f, fs::file_time_type::clock::now());
       }, none},
      {"revert an edit", [plan_design](const fs::path& p) {
         Write(p / "models/staging/stg_plan_design.sql", *plan_design);
       }, node("model.planalign.stg_plan_design")},
      {"yml description change", [](const fs::path& p) {
         Replace(p / "models/staging/_staging.yml", "One row per employee in the starting census.",
                 "One row per employee in the census the simulation starts from.");
       }, none},
      {"yml test change", [](const fs::path& p) {
         Replace(p / "models/staging/_staging.yml",
                 "  - name: stg_departments\n    columns:\n",
                 "  - name: stg_departments\n    columns:\n      - name: department_name\n"
                 "        data_tests:\n          - not_null\n");
       }, none},
      {"config change in dbt_project.yml", [](const fs::path& p) {
         Replace(p / "dbt_project.yml", "    audit:\n      +materialized: table",
                 "    audit:\n      +materialized: view");
       }, node("model.planalign.audit_seed_coverage")},
      {"macro body change", [](const fs::path& p) {
         Replace(p / "macros/money.sql", "decimal(14, 2)", "decimal(16, 2)");
       }, [](const ManifestView& m) { return m.UsersOfMacro("macro.planalign.round_money"); }},
      {"seed CSV change", [](const fs::path& p) {
         Replace(p / "seeds/job_levels.csv", "1,Associate,40000.00", "1,Associate,41000.00");
       }, node("seed.planalign.job_levels")},
      {"var change", [](const fs::path&) {},
       [](const ManifestView& m) { return m.AllExecutable(); }, "{simulation_year: 2026}"},
      {"add a model with a new ref", [](const fs::path& p) {
         Write(p / "models/marts/mart_level_summary.sql",
               "select level_id, count(*) as employees from {{ ref('stg_census') }} group by 1\n");
       }, none},
      {"rename a model", [](const fs::path& p) {
         fs::rename(p / "models/marts/mart_level_summary.sql", p / "models/marts/mart_levels.sql");
       }, none},
      {"delete a leaf model", [](const fs::path& p) {
         fs::remove(p / "models/audit/audit_seed_coverage.sql");
         fs::remove(p / "models/audit/_audit.yml");
       }, none},
  };

}

void RunEditSequence(const EditTarget& t) {
  const fs::path& project_ = t.project;
  const fs::path& reference = t.reference;
  // Both copies start from the same sources (when the tests shared one copy,
  // the earlier tests had edited ours).
  for (const char* dir : {"models", "seeds", "macros", "tests"}) {
    fs::remove_all(reference / dir);
    fs::copy(project_ / dir, reference / dir, fs::copy_options::recursive);
  }
  fs::copy_file(project_ / "dbt_project.yml", reference / "dbt_project.yml",
                fs::copy_options::overwrite_existing);
  const std::string& dbt = t.dbt_build;
  ASSERT_EQ(Shell(reference, dbt).code, 0);
  ASSERT_EQ(Shell(project_, "ninja").code, 0);
  ASSERT_EQ(t.ours(), t.theirs());

  std::string vars;
  Ids before = ManifestView(project_ / ".pa" / "parse" / "manifest.json").AllExecutable();
  for (const Edit& edit : PlanalignEdits()) {
    SCOPED_TRACE(edit.name);
    edit.apply(project_);
    edit.apply(reference);
    const fs::path& marker = t.marker;
    Write(marker, "");
    std::string gen;
    if (!edit.vars.empty()) {
      vars = edit.vars;
      gen = "'" + kPaGen.string() + "' " + t.pa_gen_args + " --vars '" + vars + "' && ";
    }
    Result build = Shell(project_, gen + "ninja");
    ASSERT_EQ(build.code, 0) << build.out;

    ManifestView manifest(project_ / ".pa" / "parse" / "manifest.json");
    Ids now = manifest.AllExecutable();
    Ids expected = manifest.Affected(edit.changed(manifest));
    for (const std::string& id : now)
      if (!before.count(id)) expected.insert(id);  // new nodes were never built
    before = now;
    EXPECT_EQ(ExecutedSince(project_, marker), expected) << build.out;

    Result ref = Shell(reference, dbt + (vars.empty() ? "" : " --vars '" + vars + "'"));
    ASSERT_EQ(ref.code, 0) << ref.out;
    EXPECT_EQ(t.ours(), t.theirs());
    EXPECT_NE(Shell(project_, "ninja").out.find("no work to do"), std::string::npos);
  }
  // The deleted model is forgotten, whatever batch held it.
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "stamps" / "audit.stamp"));
  EXPECT_FALSE(fs::exists(project_ / ".pa" / "state" / "audit.json"));
  for (const auto& entry : fs::directory_iterator(project_ / ".pa" / "state"))
    EXPECT_EQ(Read(entry.path()).find("audit_seed_coverage"), std::string::npos) << entry.path();
}
