#include "group/policy_file.h"

#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "util/glob.h"

namespace {

// Reads one YAML mapping, remembering the first problem with its line, so
// the loader reads as a list of fields.
class MapReader {
 public:
  MapReader(const YAML::Node& map, std::string where, std::set<std::string> known,
            std::string* problem)
      : map_(map), where_(std::move(where)), known_(std::move(known)), problem_(problem) {
    if (!map.IsMap()) {
      Fail(map, fmt::format("{} should be a mapping", where_));
      return;
    }
    for (const auto& entry : map) {
      std::string key = entry.first.as<std::string>();
      if (known_.count(key)) continue;
      std::string names;
      for (const std::string& k : known_) names += (names.empty() ? "" : ", ") + k;
      Fail(entry.first, fmt::format("unknown field '{}' in {} (known: {})", key, where_, names));
    }
  }

  std::string String(const char* key) {
    YAML::Node value = map_.IsMap() ? map_[key] : YAML::Node();
    if (!value) return "";
    if (!value.IsScalar()) {
      Fail(value, fmt::format("field '{}' in {} should be a string", key, where_));
      return "";
    }
    return value.as<std::string>();
  }

  int Positive(const char* key) {
    YAML::Node value = map_.IsMap() ? map_[key] : YAML::Node();
    if (!value) return 0;
    int n = 0;
    if (!value.IsScalar() || !YAML::convert<int>::decode(value, n) || n < 1) {
      Fail(value, fmt::format("field '{}' in {} should be a whole number >= 1", key, where_));
      return 0;
    }
    return n;
  }

  YAML::Node Get(const char* key) { return map_.IsMap() ? map_[key] : YAML::Node(); }

  void Fail(const YAML::Node& at, std::string message) {
    if (!problem_->empty()) return;
    *problem_ = fmt::format("{}: {}", at.Mark().is_null() ? 1 : at.Mark().line + 1, message);
  }

 private:
  YAML::Node map_;
  std::string where_;
  std::set<std::string> known_;
  std::string* problem_;
};

// What is wrong with a group name's placeholders, or "".
std::string GroupProblem(const std::string& group) {
  if (group.empty()) return "an empty group name";
  for (size_t open = group.find('{'); open != std::string::npos; open = group.find('{', open + 1)) {
    size_t close = group.find('}', open);
    if (close == std::string::npos) return "'{' without a closing '}'";
    std::string field = group.substr(open + 1, close - open - 1);
    static const std::set<std::string> known = {"folder", "name", "tag", "resource_type",
                                                "package", "materialized"};
    if (!known.count(field) && !(field.starts_with("meta.") && field.size() > 5))
      return fmt::format("unknown placeholder '{{{}}}' (known: {{folder}}, {{name}}, {{tag}}, "
                         "{{resource_type}}, {{package}}, {{materialized}}, {{meta.KEY}})", field);
  }
  return "";
}

void ReadRule(const YAML::Node& node, int index, Policy* policy, std::string* problem) {
  std::string where = fmt::format("rule {}", index + 1);
  MapReader r(node, where, {"match", "group", "threads", "pool"}, problem);
  PolicyRule rule;
  rule.line = node.Mark().line + 1;
  rule.group = r.String("group");
  if (!r.Get("group")) r.Fail(node, fmt::format("{} lacks 'group'", where));
  else if (std::string why = GroupProblem(rule.group); !why.empty())
    r.Fail(r.Get("group"), fmt::format("field 'group' in {}: {}", where, why));
  rule.threads = r.Positive("threads");
  rule.pool = r.String("pool");
  YAML::Node match = r.Get("match");
  if (!match) {
    r.Fail(node, fmt::format("{} lacks 'match' (use match: {{}} to match every node)", where));
  } else {
    MapReader m(match, where + " match",
                {"path", "tag", "resource_type", "package", "materialized", "meta"}, problem);
    rule.path = m.String("path");
    if (std::string why = rule.path.empty() ? "" : GlobProblem(rule.path); !why.empty())
      m.Fail(m.Get("path"), fmt::format("field 'path' in {} match: bad glob: {}", where, why));
    rule.tag = m.String("tag");
    rule.resource_type = m.String("resource_type");
    static const std::set<std::string> types = {"model", "seed", "snapshot"};
    if (!rule.resource_type.empty() && !types.count(rule.resource_type))
      m.Fail(m.Get("resource_type"),
             fmt::format("field 'resource_type' in {} match should be model, seed or snapshot", where));
    rule.package = m.String("package");
    rule.materialized = m.String("materialized");
    if (YAML::Node meta = m.Get("meta")) {
      if (!meta.IsMap()) {
        m.Fail(meta, fmt::format("field 'meta' in {} match should be a mapping", where));
      } else {
        for (const auto& entry : meta) {
          if (!entry.second.IsScalar()) {
            m.Fail(entry.second, fmt::format("meta '{}' in {} match should be a string",
                                             entry.first.as<std::string>(), where));
            continue;
          }
          rule.meta.emplace_back(entry.first.as<std::string>(), entry.second.as<std::string>());
        }
      }
    }
  }
  policy->rules.push_back(std::move(rule));
}

}  // namespace

bool LoadPolicyFile(const fs::path& file, Policy* policy, std::string* err) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    *err = fmt::format("{}: cannot read the policy file", file.string());
    return false;
  } catch (const YAML::ParserException& e) {
    *err = fmt::format("{}:{}: malformed YAML: {}", file.string(), e.mark.line + 1, e.msg);
    return false;
  }
  std::string problem;
  MapReader top(root, "the policy file", {"defaults", "pools", "rules"}, &problem);
  if (YAML::Node defaults = top.Get("defaults")) {
    MapReader d(defaults, "defaults", {"policy", "max_batch_size", "threads", "pool"}, &problem);
    if (std::string name = d.String("policy"); !name.empty()) {
      std::string why;
      if (!ParsePolicy(name, policy, &why)) d.Fail(d.Get("policy"), "field 'policy' in defaults: " + why);
    }
    policy->max_batch_size = d.Positive("max_batch_size");
    policy->defaults.threads = d.Positive("threads");
    policy->defaults.pool = d.String("pool");
  }
  if (YAML::Node pools = top.Get("pools")) {
    if (!pools.IsMap()) top.Fail(pools, "field 'pools' should map pool names to depths");
    for (const auto& entry : pools.IsMap() ? pools : YAML::Node()) {
      int depth = 0;
      std::string name = entry.first.as<std::string>();
      if (!entry.second.IsScalar() || !YAML::convert<int>::decode(entry.second, depth) || depth < 1)
        top.Fail(entry.second, fmt::format("pool '{}' should have a depth >= 1", name));
      policy->pools[name] = depth;
    }
  }
  if (YAML::Node rules = top.Get("rules")) {
    if (!rules.IsSequence()) top.Fail(rules, "field 'rules' should be a list");
    for (size_t i = 0; rules.IsSequence() && i < rules.size(); ++i)
      ReadRule(rules[i], static_cast<int>(i), policy, &problem);
  }
  // A pool must be declared, so that a typo is not a pool of depth 1... or none.
  auto check_pool = [&](const std::string& pool, const std::string& where, int line) {
    if (problem.empty() && !pool.empty() && !policy->pools.count(pool))
      problem = fmt::format("{}: {} names pool '{}', which 'pools' does not declare", line, where, pool);
  };
  check_pool(policy->defaults.pool, "defaults", 1);
  for (size_t i = 0; i < policy->rules.size(); ++i)
    check_pool(policy->rules[i].pool, fmt::format("rule {}", i + 1), policy->rules[i].line);
  if (!problem.empty()) {
    *err = fmt::format("{}:{}", file.string(), problem);
    return false;
  }
  return true;
}
