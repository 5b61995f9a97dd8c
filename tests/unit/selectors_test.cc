#include "plan/selectors.h"

#include <algorithm>
#include <map>
#include <random>
#include <regex>
#include <cctype>
#include <cstdio>
#include <set>

#include <gtest/gtest.h>

namespace {

// An independent model of dbt-core 1.12's selection (graph/cli.py,
// selector_spec.py, selector_methods.py), written from dbt's source and not
// from the module: fnmatch by translation to a regex as Python does it.
namespace dbt_model {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == sep) out.emplace_back();
    else out.back().push_back(c);
  }
  return out;
}

std::string JoinFrom(const std::vector<std::string>& v, size_t from) {
  std::string s;
  for (size_t i = from; i < v.size(); ++i) s += (i > from ? "." : "") + v[i];
  return s;
}

std::string Literal(char c) {
  if (c == '\\' || c == ']' || c == '^') return std::string("\\") + c;
  return std::string("[") + c + "]";
}

// fnmatch.translate, Python 3.11.
std::string Translate(const std::string& pat) {
  std::string re;
  size_t i = 0, n = pat.size();
  while (i < n) {
    char c = pat[i++];
    if (c == '*') {
      re += "[\\s\\S]*";
    } else if (c == '?') {
      re += "[\\s\\S]";
    } else if (c == '[') {
      size_t j = i;
      if (j < n && pat[j] == '!') ++j;
      if (j < n && pat[j] == ']') ++j;
      while (j < n && pat[j] != ']') ++j;
      if (j >= n) {
        re += Literal('[');
        continue;
      }
      std::string stuff = pat.substr(i, j - i);
      i = j + 1;
      std::string body;
      bool negate = !stuff.empty() && stuff[0] == '!';
      for (size_t k = negate ? 1 : 0; k < stuff.size(); ++k) {
        char s = stuff[k];
        body += (s == '\\' || s == ']' || s == '^' || s == '[') ? std::string("\\") + s
                                                                : std::string(1, s);
      }
      if (stuff.empty()) re += "(?!)";
      else if (stuff == "!") re += "[\\s\\S]";
      else re += std::string("[") + (negate ? "^" : "") + body + "]";
    } else {
      re += Literal(c);
    }
  }
  return re;
}

bool FnMatch(const std::string& name, const std::string& pat) {
  static std::map<std::string, std::regex> cache;
  auto it = cache.find(pat);
  if (it == cache.end()) it = cache.emplace(pat, std::regex(Translate(pat))).first;
  return std::regex_match(name, it->second);
}

bool SelectedNode(const std::vector<std::string>& fqn, const std::string& sel, bool versioned) {
  size_t n = fqn.size();
  if (versioned) {
    std::vector<std::string> s = Split(sel, '.');
    std::string tail = s.size() >= 2 ? s[s.size() - 2] + "_" + s.back() : s.back();
    if (fqn[n - 2] == sel || fqn[n - 2] + "_" + fqn[n - 1] == tail) return true;
  } else if (fqn[n - 1] == sel) {
    return true;
  }
  std::vector<std::string> flat;
  for (const std::string& part : fqn)
    for (const std::string& p : Split(part, '.')) flat.push_back(p);
  std::vector<std::string> parts = Split(sel, '.');
  if (flat.size() < parts.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].find_first_of("*?[]") != std::string::npos)
      return FnMatch(JoinFrom(flat, i), JoinFrom(parts, i));
    if (flat[i] != parts[i]) return false;
  }
  return true;
}

// The ids that `dbt build --select <args>` selects directly, or an error for
// anything the module must never produce (other methods, graph operators).
bool Select(const std::vector<SelectableNode>& nodes, const std::vector<std::string>& args,
            std::set<std::string>* out, std::string* err) {
  static const std::regex spec(R"(^(@)?((\d*)\+)?(([\w.]+):)?(.*?)(\+(\d*))?$)");
  out->clear();
  for (const std::string& arg : args) {
    if (!arg.empty() && arg[0] == '-') return *err = "'" + arg + "' ends --select", false;
    for (const std::string& union_part : Split(arg, ' ')) {
      std::set<std::string> inter;
      bool first = true;
      for (const std::string& part : Split(union_part, ',')) {
        std::smatch m;
        if (!std::regex_match(part, m, spec)) return *err = "invalid spec '" + part + "'", false;
        if (m[1].matched || m[2].matched || m[7].matched)
          return *err = "graph operator in '" + part + "'", false;
        std::string value = m[6];
        std::string method = m[5].matched ? m[5].str() : "";
        if (method.empty()) {
          std::string lower = value;
          for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          auto ends = [&](const std::string& e) {
            return lower.size() >= e.size() && lower.compare(lower.size() - e.size(), e.size(), e) == 0;
          };
          if (value.find('/') != std::string::npos) method = "path";
          else if (ends(".sql") || ends(".py") || ends(".csv")) method = "file";
          else method = "fqn";
        }
        if (method != "fqn") return *err = "method " + method + " in '" + part + "'", false;
        std::set<std::string> hit;
        for (const SelectableNode& node : nodes) {
          std::vector<std::string> unscoped(node.fqn.begin() + 1, node.fqn.end());
          if (SelectedNode(node.fqn, value, node.versioned) ||
              (unscoped.size() >= (node.versioned ? 2u : 1u) &&
               SelectedNode(unscoped, value, node.versioned)))
            hit.insert(node.unique_id);
        }
        if (first) inter = hit;
        else {
          std::set<std::string> both;
          std::set_intersection(inter.begin(), inter.end(), hit.begin(), hit.end(),
                                std::inserter(both, both.begin()));
          inter = both;
        }
        first = false;
      }
      out->insert(inter.begin(), inter.end());
    }
  }
  return true;
}

// Empty when `selectors` select exactly `wanted` apart from neutral nodes.
std::string Check(const std::vector<SelectableNode>& nodes, const std::vector<std::string>& selectors,
                  const std::set<std::string>& wanted) {
  std::set<std::string> got;
  std::string err;
  if (!Select(nodes, selectors, &got, &err)) return err;
  for (const SelectableNode& node : nodes) {
    bool in = got.count(node.unique_id) > 0;
    if (node.neutral) continue;
    if (in && !wanted.count(node.unique_id)) return "selects " + node.unique_id + " too";
    if (!in && wanted.count(node.unique_id)) return "misses " + node.unique_id;
  }
  return "";
}

}  // namespace dbt_model

SelectableNode N(std::string id, std::vector<std::string> fqn, bool versioned = false,
                 bool neutral = false) {
  return {std::move(id), std::move(fqn), versioned, neutral};
}

std::vector<SelectableNode> Shop() {
  return {
      N("stg_a", {"shop", "staging", "stg_a"}),
      N("stg_b", {"shop", "staging", "stg_b"}),
      N("nn_stg_a", {"shop", "staging", "not_null_stg_a_id"}),
      N("fct", {"shop", "marts", "core", "fct"}),
      N("dim", {"shop", "marts", "core", "dim"}),
      N("report", {"shop", "marts", "report"}),
      N("orders_v1", {"shop", "marts", "orders", "v1"}, true),
      N("orders_v2", {"shop", "marts", "orders", "v2"}, true),
      N("a", {"shop", "a"}),  // a model named like a folder
      N("a_x", {"shop", "a", "x"}),
      N("m1", {"shop", "my folder", "m1"}),
      N("m2", {"shop", "my folder", "m2"}),
      N("u_m1", {"shop", "my_folder", "m1"}),
      N("star", {"shop", "odd", "b*"}),
      N("plus", {"shop", "odd", "n+1"}),
      N("dash", {"shop", "odd", "-d"}),
      N("dotted", {"shop", "odd", "p.q"}),
      N("py", {"shop", "odd", "f.py"}),
      N("comma", {"shop", "odd", "c,d"}),
      N("an", {"shop", "analyses", "an"}, false, true),
      N("lib_a", {"lib", "staging", "stg_a"}),
      N("lib_shop", {"lib", "shop", "staging", "x"}),  // "shop.staging" matches it without its package
  };
}

std::vector<std::string> Select(const std::vector<SelectableNode>& nodes,
                                const std::vector<std::string>& wanted) {
  SelectorIndex index(nodes);
  std::vector<std::string> selectors;
  std::string err;
  EXPECT_TRUE(index.Select(wanted, &selectors, &err)) << err;
  EXPECT_EQ(dbt_model::Check(nodes, selectors, std::set<std::string>(wanted.begin(), wanted.end())),
            "");
  return selectors;
}

using V = std::vector<std::string>;

TEST(Selectors, WholeFolderIsOnePrefix) {
  EXPECT_EQ(Select(Shop(), {"stg_a", "stg_b", "nn_stg_a", "lib_shop"}), V{"fqn:shop.staging"});
  EXPECT_EQ(Select(Shop(), {"fct", "dim"}), V{"fqn:shop.marts.core"});
  EXPECT_EQ(Select(Shop(), {"fct", "dim", "report", "orders_v1", "orders_v2"}), V{"fqn:shop.marts"});
}

TEST(Selectors, PrefixMatchesWithoutThePackageToo) {
  // "shop.staging" also selects lib.shop.staging.x, so it is not used without it.
  // stg_a and stg_b are the folder's only names starting "s": one run.
  EXPECT_EQ(Select(Shop(), {"stg_a", "stg_b", "nn_stg_a"}),
            (V{"fqn:shop.staging.not_null_stg_a_id", "fqn:shop.staging.s*"}));
}

TEST(Selectors, PartOfAFolderIsOneSelectorPerNode) {
  EXPECT_EQ(Select(Shop(), {"stg_a"}), V{"fqn:shop.staging.stg_a"});
  EXPECT_EQ(Select(Shop(), {"fct", "report"}), (V{"fqn:shop.marts.core.fct", "fqn:shop.marts.report"}));
}

// A folder cut in parts (pa-gen --max-batch-size): runs of names that share
// a start no other node of the folder has are one pattern each, so dbt's
// selection costs a few selectors, not one per member.
TEST(Selectors, RunsOfAFolderArePatterns) {
  std::vector<SelectableNode> nodes;
  std::vector<std::string> wanted;
  for (int i = 0; i < 40; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "base_%05d", i);
    nodes.push_back(N(name, {"pkg", "base", name}));
    if (i < 32) wanted.push_back(name);
  }
  nodes.push_back(N("other", {"pkg", "other", "base_00000"}));  // same name, other folder
  EXPECT_EQ(Select(nodes, wanted),
            (V{"fqn:pkg.base.base_0000*", "fqn:pkg.base.base_0001*", "fqn:pkg.base.base_0002*",
               "fqn:pkg.base.base_00030", "fqn:pkg.base.base_00031"}));
  // Two members whose every shared start has unwanted nodes too: exact selectors.
  EXPECT_EQ(Select(nodes, {"base_00010", "base_00011"}),
            (V{"fqn:pkg.base.base_00010", "fqn:pkg.base.base_00011"}));
}

TEST(Selectors, WholePackageIgnoresNeutralNodes) {
  std::vector<std::string> all;
  for (const SelectableNode& n : Shop())
    if (!n.neutral && (n.fqn[0] == "shop" || n.unique_id == "lib_shop")) all.push_back(n.unique_id);
  // No package selector: it would select functions, which the index lacks.
  EXPECT_EQ(Select(Shop(), all),
            (V{"fqn:shop.a", "fqn:shop.marts", "fqn:shop.my?folder.m1",
               "fqn:shop.my?folder.m2", "fqn:shop.my_folder", "fqn:shop.odd", "fqn:shop.staging"}));
}

TEST(Selectors, ModelNamedLikeItsFolder) {
  EXPECT_EQ(Select(Shop(), {"a"}), V{"fqn:shop.[a]"});  // anchored: not a prefix of shop.a.x
  EXPECT_EQ(Select(Shop(), {"a_x"}), V{"fqn:shop.a.x"});
  EXPECT_EQ(Select(Shop(), {"a", "a_x"}), V{"fqn:shop.a"});
}

TEST(Selectors, FolderWithASpace) {
  EXPECT_EQ(Select(Shop(), {"m2"}), V{"fqn:shop.my?folder.m2"});
  // `?` would also match my_folder.m1: excluded by a class.
  EXPECT_EQ(Select(Shop(), {"m1"}), V{"fqn:shop.my[!_]folder.m1"});
  EXPECT_EQ(Select(Shop(), {"m1", "u_m1"}),
            (V{"fqn:shop.my?folder.m1", "fqn:shop.my_folder"}));
}

TEST(Selectors, NamesDbtWouldMisread) {
  EXPECT_EQ(Select(Shop(), {"star"}), V{"fqn:shop.odd.b[*]"});
  EXPECT_EQ(Select(Shop(), {"plus"}), V{"fqn:shop.odd.n[+]1"});
  EXPECT_EQ(Select(Shop(), {"dash"}), V{"fqn:shop.odd.-d"});
  EXPECT_EQ(Select(Shop(), {"dotted"}), V{"fqn:shop.odd.p"});  // flattened: a prefix
  EXPECT_EQ(Select(Shop(), {"py"}), V{"fqn:shop.odd.f"});  // "shop.odd.f.py" would be a file selector
  EXPECT_EQ(Select(Shop(), {"comma"}), V{"fqn:shop.odd.c?d"});
}

TEST(Selectors, VersionedModels) {
  EXPECT_EQ(Select(Shop(), {"orders_v1"}), V{"fqn:shop.marts.orders.v1"});
  EXPECT_EQ(Select(Shop(), {"orders_v1", "orders_v2"}), V{"fqn:shop.marts.orders"});
}

TEST(Selectors, UnknownOrNeutralIsAnError) {
  SelectorIndex index(Shop());
  std::vector<std::string> selectors;
  std::string err;
  EXPECT_FALSE(index.Select({"nope"}, &selectors, &err));
  EXPECT_EQ(err, "nope: not a node that dbt build selects by fqn");
  EXPECT_FALSE(index.Select({"an"}, &selectors, &err));
}

TEST(Selectors, IndistinguishableNodesAreAnError) {
  // Flattened, both are shop.a.b.c: no fqn selector selects one alone.
  std::vector<SelectableNode> nodes = {N("one", {"shop", "a.b", "c"}), N("two", {"shop", "a", "b", "c"})};
  SelectorIndex index(nodes);
  std::vector<std::string> selectors;
  std::string err;
  EXPECT_FALSE(index.Select({"one"}, &selectors, &err));
  EXPECT_EQ(err, "one: no fqn selector tells it apart from two");
  EXPECT_TRUE(index.Select({"one", "two"}, &selectors, &err)) << err;
  EXPECT_EQ(selectors, (V{"fqn:shop.a"}));
}

// The checker catches wrong answers.
TEST(SelectorsChecker, CatchesWrongSelections) {
  std::vector<SelectableNode> nodes = Shop();
  std::set<std::string> stg = {"stg_a", "stg_b", "nn_stg_a"};
  EXPECT_EQ(dbt_model::Check(nodes, {"fqn:shop.staging"}, stg), "selects lib_shop too");
  EXPECT_EQ(dbt_model::Check(nodes, {"fqn:shop.staging.stg_a", "fqn:shop.staging.stg_b"}, stg),
            "misses nn_stg_a");
  EXPECT_EQ(dbt_model::Check(nodes, {"shop.my folder.m2"}, {"m2"}), "misses m2");  // split at the space
  EXPECT_EQ(dbt_model::Check(nodes, {"fqn:shop.a"}, {"a"}), "selects a_x too");
  EXPECT_EQ(dbt_model::Check(nodes, {"shop.odd.n+1"}, {"plus"}), "graph operator in 'shop.odd.n+1'");
  EXPECT_EQ(dbt_model::Check(nodes, {"shop.odd.f.py"}, {"py"}), "method file in 'shop.odd.f.py'");
  EXPECT_EQ(dbt_model::Check(nodes, {"shop.odd.-d"}, {"dash"}), "");
  EXPECT_EQ(dbt_model::Check(nodes, {"-d"}, {"dash"}), "'-d' ends --select");
  EXPECT_EQ(dbt_model::Check(nodes, {"fqn:shop.odd.b*"}, {"star"}), "");  // no other b...
  EXPECT_EQ(dbt_model::Check(nodes, {"fqn:shop.odd.*"}, {"star"}).substr(0, 7), "selects");
  EXPECT_EQ(dbt_model::Check(nodes, {"fqn:shop.my?folder.m1"}, {"m1"}), "selects u_m1 too");
  EXPECT_EQ(dbt_model::Check(nodes, {"fqn:orders"}, {"orders_v1", "orders_v2"}), "");
  EXPECT_EQ(dbt_model::Check(nodes, {"fqn:x.orders.v1"}, {"orders_v1"}), "");  // dbt's versioned rule
  EXPECT_EQ(dbt_model::Check(nodes, {"fqn:stg_a"}, {"stg_a"}), "selects lib_a too");
}

// Random projects with awkward names: the selectors select exactly the
// wanted nodes by the independent model of dbt.
TEST(SelectorsProperty, RandomProjects) {
  const std::vector<std::string> folder_names = {"a", "b", "staging", "a b", "a_b", "a.b", "x*",
                                                 "q?", "[s]", "-d", "a+1", "c,d", "shop", "v1"};
  const std::vector<std::string> node_names = {"a", "b", "m", "a b", "a.b", "m*", "-m", "n+2",
                                               "x,y", "staging", "v2", "a_b", "[s]", "q?"};
  std::mt19937 rng(20261201);
  int selects = 0, failures = 0, folder_selectors = 0, patterns = 0, runs = 0;
  for (int round = 0; round < 200; ++round) {
    std::vector<SelectableNode> nodes;
    std::set<std::vector<std::string>> seen;
    int count = 5 + static_cast<int>(rng() % 40);
    for (int i = 0; i < count; ++i) {
      std::vector<std::string> fqn = {rng() % 4 == 0 ? "lib" : "shop"};
      int depth = static_cast<int>(rng() % 4);
      for (int d = 0; d < depth; ++d) fqn.push_back(folder_names[rng() % 5 == 0 ? rng() % folder_names.size() : rng() % 3]);
      fqn.push_back(node_names[rng() % node_names.size()]);
      bool versioned = rng() % 8 == 0;
      if (versioned) fqn.push_back(rng() % 2 ? "v1" : "v2");
      if (!seen.insert(fqn).second) continue;
      nodes.push_back(N("n" + std::to_string(i), fqn, versioned, rng() % 10 == 0));
    }
    SelectorIndex index(nodes);
    for (int trial = 0; trial < 10; ++trial) {
      std::vector<std::string> wanted;
      int p = static_cast<int>(rng() % 100);
      for (const SelectableNode& n : nodes)
        if (!n.neutral && static_cast<int>(rng() % 100) < p) wanted.push_back(n.unique_id);
      std::vector<std::string> selectors;
      std::string err;
      ++selects;
      if (!index.Select(wanted, &selectors, &err)) {
        // Only when dbt's flattening makes two nodes the same string.
        ++failures;
        // "<id>: no fqn selector tells it apart from <twin>": flattened and
        // dotted, the two are the same string except where the wanted node
        // has a character no selector can hold and the twin one no class can.
        size_t from = err.find(": no fqn selector tells it apart from ");
        ASSERT_NE(from, std::string::npos) << err;
        std::string one = err.substr(0, from), two = err.substr(err.rfind(' ') + 1);
        auto flat = [&](const std::string& id) {
          for (const SelectableNode& n : nodes) {
            if (n.unique_id != id) continue;
            std::string s;
            for (const std::string& part : n.fqn) s += (s.empty() ? "" : ".") + part;
            return s;
          }
          return std::string("?");
        };
        std::string a = flat(one), b = flat(two);
        bool twins = a.size() == b.size() || b.size() + 0 == a.size();
        for (size_t i = 0; twins && i < a.size(); ++i)
          twins = a[i] == b[i] || (std::string(" ,").find(a[i]) != std::string::npos &&
                                   !std::isalnum(static_cast<unsigned char>(b[i])) && b[i] != '_');
        EXPECT_TRUE(twins) << err << ": " << a << " / " << b;
        continue;
      }
      std::string problem =
          dbt_model::Check(nodes, selectors, std::set<std::string>(wanted.begin(), wanted.end()));
      ASSERT_EQ(problem, "") << "round " << round << " trial " << trial;
      ASSERT_LE(selectors.size(), wanted.size());
      for (const std::string& s : selectors) {
        folder_selectors += s.find_first_of("?[*") == std::string::npos;
        patterns += s.find_first_of("?[*") != std::string::npos;
        runs += s.back() == '*';
      }
    }
  }
  EXPECT_LT(failures * 10, selects);  // rare: only flattening collisions
  EXPECT_GT(folder_selectors, 0);
  EXPECT_GT(patterns, 0);
  EXPECT_GT(runs, 0);
  RecordProperty("failures", failures);
  std::printf("%d selections, %d without an exact selector, %d literal selectors, %d patterns\n", selects, failures, folder_selectors, patterns);
}

}  // namespace
