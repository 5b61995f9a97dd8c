#include "manifest/target.h"

#include <algorithm>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

namespace {

// The output fields that say which warehouse, database and schema a target
// writes, across the common adapters. Credentials and tuning (threads,
// settings) are left out: they change how, not where.
const char* const kIdentityFields[] = {
    "type",    "path",     "host",      "port",    "database", "dbname",   "schema",
    "catalog", "account",  "project",   "dataset", "server",   "cluster",  "http_path",
    "warehouse", "method", "extensions", "attach", "location"};

std::string Scalars(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

}  // namespace

std::vector<std::string> EnvVarsRead(const std::string& text) {
  static const std::regex call(R"(env_var\s*\(\s*['"]([^'"]+)['"])");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), call); it != std::sregex_iterator(); ++it) {
    std::string name = (*it)[1].str();
    if (name.rfind("DBT_ENV_SECRET_", 0) != 0) names.insert(name);
  }
  return {names.begin(), names.end()};
}

TargetIdentity ReadTargetIdentity(const DbtProject& project, const fs::path& profiles_dir,
                                  const std::string& target) {
  TargetIdentity identity;
  std::string profiles, project_text, ignored;
  ReadFile(profiles_dir / "profiles.yml", &profiles, &ignored);
  ReadFile(project.dir / "dbt_project.yml", &project_text, &ignored);
  try {
    YAML::Node profile = YAML::Load(profiles)[project.profile];
    std::string name = !target.empty() ? target : profile["target"].as<std::string>("");
    YAML::Node output = profile["outputs"][name];
    if (!output.IsMap()) throw YAML::Exception(YAML::Mark(), "no such output");
    // dbt renders the profile's `target` and the one output it picks, not
    // the other outputs: a variable only another target reads changes
    // nothing here (and costs no always-run edge).
    std::string rendered = project_text + "\n" + Scalars(output);
    if (target.empty() && profile["target"].IsDefined()) rendered += "\n" + Scalars(profile["target"]);
    identity.env_vars = EnvVarsRead(rendered);
    identity.text = "target=" + name + "\n";
    for (const char* field : kIdentityFields)
      if (YAML::Node value = output[field]; value.IsDefined() && !value.IsNull())
        identity.text += std::string(field) + "=" + Scalars(value) + "\n";
  } catch (const std::exception&) {
    identity.text = profiles;  // whatever changes in it counts
    identity.env_vars = EnvVarsRead(profiles + "\n" + project_text);
  }
  return identity;
}
