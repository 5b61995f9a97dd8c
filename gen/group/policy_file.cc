#include "group/policy_file.h"

#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "util/escape.h"
#include "util/glob.h"

namespace {

bool ParsePolicyText(const std::string& text, const std::string& filename, Policy* policy,
                     std::string* err);

// A mapping's key as text; "" (with *problem set) for a key that is not a
// scalar, such as `[a]: 1`, which as<std::string>() would throw for.
std::string KeyText(const YAML::Node& key, const std::string& where, std::string* problem);

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
      std::string key = KeyText(entry.first, where_, problem_);
      if (key.empty() || known_.count(key)) continue;
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

std::string KeyText(const YAML::Node& key, const std::string& where, std::string* problem) {
  if (key.IsScalar()) return key.Scalar();
  if (problem->empty())
    *problem = fmt::format("{}: a key in {} should be a name, not a list or mapping",
                           key.Mark().is_null() ? 1 : key.Mark().line + 1, where);
  return "";
}

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
          std::string key = KeyText(entry.first, where + " match meta", problem);
          if (key.empty()) continue;
          if (!entry.second.IsScalar()) {
            m.Fail(entry.second, fmt::format("meta '{}' in {} match should be a string", key, where));
            continue;
          }
          rule.meta.emplace_back(key, entry.second.Scalar());
        }
      }
    }
  }
  policy->rules.push_back(std::move(rule));
}

// The policy file's text, already read; throws what yaml-cpp throws.
bool ReadPolicyText(const std::string& text, const std::string& filename, Policy* policy,
                     std::string* err) {
  YAML::Node root = YAML::Load(text);
  const fs::path file = filename;
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
      std::string name = KeyText(entry.first, "pools", &problem);
      if (name.empty()) continue;
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

}  // namespace

bool LoadPolicyFile(const fs::path& file, Policy* policy, std::string* err) {
  // Read by pa-gen, not by yaml-cpp's LoadFile: a folder or an unreadable
  // file is then "<file>: cannot read: <reason>" instead of an empty document.
  std::string text;
  if (!ReadFile(file, &text, err)) return false;
  return ParsePolicyFile(text, file.string(), policy, err);
}

bool ParsePolicyFile(const std::string& text, const std::string& filename, Policy* policy,
                     std::string* err) {
  if (ParsePolicyText(text, filename, policy, err)) return true;
  // yaml-cpp's messages and the quoted keys can hold the newline they
  // complain about (the fuzzer's find): the error stays one line.
  NewlinesToSpaces(err);
  return false;
}

namespace {

bool ParsePolicyText(const std::string& text, const std::string& filename, Policy* policy,
                     std::string* err) {
  try {
    return ReadPolicyText(text, filename, policy, err);
  } catch (const YAML::ParserException& e) {
    *err = fmt::format("{}:{}: malformed YAML: {}", filename, e.mark.line + 1, e.msg);
    return false;
  } catch (const YAML::Exception& e) {
    // What the readers above do not foresee (a conversion yaml-cpp refuses)
    // is still one line naming the file, never an uncaught exception.
    *err = fmt::format("{}:{}: {}", filename, e.mark.is_null() ? 1 : e.mark.line + 1, e.msg);
    return false;
  }
}

}  // namespace
