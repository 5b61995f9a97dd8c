#include "plan/selectors.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <fmt/format.h>

namespace {

using Parts = std::vector<std::string>;

// Python's str.split("."): "a." is ["a", ""], "" is [""].
Parts SplitDots(std::string_view s) {
  Parts parts;
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    parts.emplace_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

std::string Join(const Parts& parts, size_t begin, size_t end, char sep) {
  std::string s;
  for (size_t i = begin; i < end; ++i) {
    if (i > begin) s.push_back(sep);
    s += parts[i];
  }
  return s;
}

Parts Flatten(const Parts& fqn, size_t begin) {
  Parts flat;
  for (size_t i = begin; i < fqn.size(); ++i)
    for (std::string& part : SplitDots(fqn[i])) flat.push_back(std::move(part));
  return flat;
}

// "_".join(S.split(".")[-2:]), dbt's versioned-model rule.
std::string LastTwoJoined(std::string_view value) {
  Parts parts = SplitDots(value);
  size_t begin = parts.size() >= 2 ? parts.size() - 2 : 0;
  return Join(parts, begin, parts.size(), '_');
}

bool HasWildcard(std::string_view part) { return part.find_first_of("*?[]") != std::string_view::npos; }

// Python's fnmatch.fnmatchcase (fnmatch.translate): `*`, `?`, `[...]` with a
// leading `!` for negation, a `]` right after `[` or `[!` taken literally, an
// unclosed `[` literal, everything else literal; anchored at both ends.
bool FnMatch(std::string_view name, std::string_view pat) {
  if (pat.empty()) return name.empty();
  char c = pat[0];
  if (c == '*') {
    for (size_t skip = 0; skip <= name.size(); ++skip)
      if (FnMatch(name.substr(skip), pat.substr(1))) return true;
    return false;
  }
  if (name.empty()) return false;
  if (c == '?') return FnMatch(name.substr(1), pat.substr(1));
  if (c == '[') {
    size_t j = 1;
    if (j < pat.size() && pat[j] == '!') ++j;
    if (j < pat.size() && pat[j] == ']') ++j;
    while (j < pat.size() && pat[j] != ']') ++j;
    if (j < pat.size()) {
      std::string_view set = pat.substr(1, j - 1);
      bool negate = !set.empty() && set[0] == '!';
      if (negate) set.remove_prefix(1);
      bool in = false;
      for (size_t k = 0; k < set.size(); ++k) {
        if (k + 2 < set.size() && set[k + 1] == '-') {
          in = in || (set[k] <= name[0] && name[0] <= set[k + 2]);
          k += 2;
        } else {
          in = in || set[k] == name[0];
        }
      }
      if (in == negate) return false;
      return FnMatch(name.substr(1), pat.substr(j + 1));
    }
  }
  return c == name[0] && FnMatch(name.substr(1), pat.substr(1));
}

// dbt's is_selected_node.
bool IsSelectedNode(const Parts& fqn, const std::string& value, bool versioned) {
  if (fqn.empty()) return false;
  if (versioned) {
    if (fqn.size() >= 2 && fqn[fqn.size() - 2] == value) return true;
    if (fqn.size() >= 2 && fqn[fqn.size() - 2] + "_" + fqn.back() == LastTwoJoined(value))
      return true;
  } else if (fqn.back() == value) {
    return true;
  }
  Parts flat = Flatten(fqn, 0);
  Parts wanted = SplitDots(value);
  if (flat.size() < wanted.size()) return false;
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (HasWildcard(wanted[i]))
      return FnMatch(Join(flat, i, flat.size(), '.'), Join(wanted, i, wanted.size(), '.'));
    if (flat[i] != wanted[i]) return false;
  }
  return true;
}

// dbt's QualifiedNameSelectorMethod.node_is_match: with and without the package.
bool DbtMatches(const std::string& value, const SelectableNode& node) {
  if (IsSelectedNode(node.fqn, value, node.versioned)) return true;
  if (node.fqn.size() < (node.versioned ? 3u : 2u)) return false;  // dbt would index past fqn[1:]
  Parts unscoped(node.fqn.begin() + 1, node.fqn.end());
  return IsSelectedNode(unscoped, value, node.versioned);
}

// Whether dbt reads `key` (after "fqn:") as the literal dotted prefix it is:
// no space or comma (split), newline (invalid), wildcard, or trailing `+N`.
bool IsLiteralSafe(std::string_view key) {
  if (key.find_first_of(" ,\n\r*?[]") != std::string_view::npos) return false;
  size_t plus = key.rfind('+');
  if (plus == std::string_view::npos) return true;
  return !std::all_of(key.begin() + plus + 1, key.end(),
                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

bool IsClassSafe(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

void AddUnique(std::vector<int>* list, int i) {
  if (list->empty() || list->back() != i) list->push_back(i);
}

}  // namespace

SelectorIndex::SelectorIndex(std::vector<SelectableNode> nodes) : nodes_(std::move(nodes)) {
  flat_.reserve(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const SelectableNode& node = nodes_[i];
    int n = static_cast<int>(i);
    by_id_.emplace(node.unique_id, n);
    flat_.push_back(Flatten(node.fqn, 0));
    const Parts& flat = flat_.back();
    std::string prefix;
    for (size_t len = 1; len <= flat.size(); ++len) {
      prefix += (len > 1 ? "." : "") + flat[len - 1];
      key_.emplace(prefix, static_cast<int>(key_.size()));
      AddUnique(&by_prefix_[prefix], n);
    }
    if (node.fqn.size() >= 2) {
      Parts unscoped = Flatten(node.fqn, 1);
      prefix.clear();
      for (size_t len = 1; len <= unscoped.size(); ++len) {
        prefix += (len > 1 ? "." : "") + unscoped[len - 1];
        AddUnique(&by_prefix_[prefix], n);
      }
    }
    if (node.fqn.empty()) continue;
    if (!node.versioned) {
      AddUnique(&by_name_[node.fqn.back()], n);
    } else if (node.fqn.size() >= 2) {
      const std::string& name = node.fqn[node.fqn.size() - 2];
      AddUnique(&by_name_[name], n);
      AddUnique(&by_version_join_[name + "_" + node.fqn.back()], n);
    }
  }
  for (const auto& [key, id] : key_) keys_by_last_two_[LastTwoJoined(key)].push_back(id);
  key_total_.assign(key_.size(), 0);
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (!nodes_[i].neutral)
      for (int k : KeysMatching(static_cast<int>(i))) ++key_total_[k];
}

// The keys (literal selectors) that select `node` by any of dbt's rules.
std::vector<int> SelectorIndex::KeysMatching(int n) const {
  const SelectableNode& node = nodes_[n];
  std::vector<int> keys;
  auto add = [&](const std::string& key) {
    if (auto it = key_.find(key); it != key_.end()) keys.push_back(it->second);
  };
  std::string prefix;
  const Parts& flat = flat_[n];
  for (size_t len = 1; len <= flat.size(); ++len) {
    prefix += (len > 1 ? "." : "") + flat[len - 1];
    add(prefix);
  }
  if (node.fqn.size() >= (node.versioned ? 3u : 2u)) {
    Parts unscoped = Flatten(node.fqn, 1);
    prefix.clear();
    for (size_t len = 1; len <= unscoped.size(); ++len) {
      prefix += (len > 1 ? "." : "") + unscoped[len - 1];
      add(prefix);
    }
  }
  if (!node.fqn.empty() && !node.versioned) {
    add(node.fqn.back());
  } else if (node.fqn.size() >= 2) {
    add(node.fqn[node.fqn.size() - 2]);
    if (auto it = keys_by_last_two_.find(node.fqn[node.fqn.size() - 2] + "_" + node.fqn.back());
        it != keys_by_last_two_.end())
      keys.insert(keys.end(), it->second.begin(), it->second.end());
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

// Every node the selector `value` (after "fqn:") selects: only the nodes
// that share its literal start, its name, or its versioned name are tried.
std::vector<int> SelectorIndex::Matched(const std::string& value) const {
  Parts parts = SplitDots(value);
  size_t literal = 0;
  while (literal < parts.size() && !HasWildcard(parts[literal])) ++literal;
  std::vector<int> candidates;
  if (literal == 0) {
    for (size_t i = 0; i < nodes_.size(); ++i) candidates.push_back(static_cast<int>(i));
  } else if (auto it = by_prefix_.find(Join(parts, 0, literal, '.')); it != by_prefix_.end()) {
    candidates = it->second;
  }
  for (const auto* map : {&by_name_, &by_version_join_}) {
    const std::string& key = map == &by_name_ ? value : LastTwoJoined(value);
    if (auto it = map->find(key); it != map->end())
      candidates.insert(candidates.end(), it->second.begin(), it->second.end());
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  std::vector<int> matched;
  for (int c : candidates)
    if (DbtMatches(value, nodes_[c])) matched.push_back(c);
  return matched;
}

// A selector for `n` alone, for a node no literal prefix selects exactly: its
// flattened fqn (or, failing that, its fqn without the package, which dbt
// also tries) as an fnmatch pattern anchored at the end (so not a prefix),
// with `*?[+` escaped as one-character classes and a space, comma or newline
// as `?` (or a `[!...]` class that excludes what other nodes have there).
// One character of the last part may also become a class, so that dbt's
// versioned-model rule ("_".join of the last two parts) matches no real name.
bool SelectorIndex::ExactSelector(int n, const std::vector<char>& wanted, std::string* selector,
                                  std::string* err) const {
  const SelectableNode& node = nodes_[n];
  std::string twin;
  for (size_t skip : {size_t{0}, size_t{1}}) {
    if (skip == 1 && node.fqn.size() < (node.versioned ? 3u : 2u)) break;
    Parts flat = Flatten(node.fqn, skip);
    for (bool force_last : {false, true})
      if (PatternSelector(flat, force_last, wanted, selector, &twin)) return true;
  }
  *err = twin.empty() ? fmt::format("{}: no fqn selector selects it alone", node.unique_id)
                      : fmt::format("{}: no fqn selector tells it apart from {}", node.unique_id,
                                    twin);
  return false;
}

bool SelectorIndex::PatternSelector(const std::vector<std::string>& flat, bool force_last,
                                    const std::vector<char>& wanted, std::string* selector,
                                    std::string* twin) const {
  std::vector<std::string> atoms;  // one per character of the dotted flat fqn
  std::vector<size_t> part_of;     // its part
  std::vector<char> any;           // an atom that matches more than its character
  bool wildcard = false;
  for (size_t p = 0; p < flat.size(); ++p) {
    if (p > 0) {
      atoms.push_back(".");
      part_of.push_back(p - 1);
      any.push_back(0);
    }
    for (char c : flat[p]) {
      std::string atom(1, c);
      bool is_any = false;
      if (c == '*' || c == '?' || c == '[' || c == '+') atom = fmt::format("[{}]", c);
      if (c == ' ' || c == ',' || c == '\n' || c == '\r') atom = "?", is_any = true;
      wildcard = wildcard || HasWildcard(atom);
      atoms.push_back(atom);
      part_of.push_back(p);
      any.push_back(is_any);
    }
  }
  bool last_has_class = false;
  for (size_t a = 0; a < atoms.size(); ++a)
    last_has_class = last_has_class || (part_of[a] + 1 == flat.size() && atoms[a] != "." &&
                                        atoms[a].size() > 1);
  if (force_last && last_has_class) return false;  // the same as without
  if (!wildcard || force_last) {
    // One character becomes a class: dbt then matches the whole rest, not a
    // prefix. The last part's if it can, else any character as `?`.
    size_t pick = atoms.size();
    for (size_t a = atoms.size(); a-- > 0 && pick == atoms.size();)
      if (atoms[a].size() == 1 && IsClassSafe(atoms[a][0]) && (!force_last || part_of[a] + 1 == flat.size()))
        pick = a;
    if (pick == atoms.size() && force_last) return false;
    for (size_t a = atoms.size(); a-- > 0 && pick == atoms.size();)
      if (atoms[a] != "." && !any[a]) pick = a, any[a] = 1;
    if (pick == atoms.size()) return false;
    atoms[pick] = any[pick] ? "?" : fmt::format("[{}]", atoms[pick]);
  }
  // The first part dbt reads as a pattern: from there on, atom a matches
  // character a - offset of the rest of another node's flattened fqn.
  size_t first = 0;
  while (first < atoms.size() && (atoms[first] == "." || !HasWildcard(atoms[first]))) ++first;
  size_t offset = first;
  while (offset > 0 && atoms[offset - 1] != ".") --offset;
  size_t first_part = part_of[first];

  std::vector<std::string> excluded(atoms.size());
  for (int round = 0; round < 8; ++round) {
    std::string value;
    for (size_t a = 0; a < atoms.size(); ++a)
      value += any[a] && !excluded[a].empty() ? "[!" + excluded[a] + "]" : atoms[a];
    std::vector<int> others;
    for (int m : Matched(value))
      if (!wanted[m] && !nodes_[m].neutral) others.push_back(m);
    if (others.empty()) {
      *selector = "fqn:" + value;
      return true;
    }
    // Exclude, at each `?`, the characters the other nodes have there.
    bool progress = false;
    for (int m : others) {
      for (size_t skip : {size_t{0}, size_t{1}}) {
        if (skip == 1 && nodes_[m].fqn.size() < 2) continue;
        Parts rest = Flatten(nodes_[m].fqn, skip);
        if (rest.size() < first_part) continue;
        std::string tail = Join(rest, first_part, rest.size(), '.');
        if (tail.size() != atoms.size() - offset) continue;
        for (size_t a = offset; a < atoms.size(); ++a) {
          char c = tail[a - offset];
          if (!any[a] || !IsClassSafe(c) || excluded[a].find(c) != std::string::npos) continue;
          excluded[a].push_back(c);
          progress = true;
        }
      }
    }
    if (!progress) {
      if (twin->empty()) *twin = nodes_[others[0]].unique_id;
      return false;
    }
  }
  return false;
}

// A pattern `fqn:<folder>.<start>*` that selects `n` and at least one more
// wanted node, and nothing else but neutral nodes: the shortest start of
// n's name (alphanumerics and `_` only, shorter than the name) that no
// unwanted node of the folder has, checked against dbt's every rule by
// Matched. The folder is n's flattened fqn without its name, at least a
// package and a folder (a whole package's pattern could select what the
// index lacks) and literal. `*` matches "." too, so nodes in subfolders
// whose path starts so count as well.
bool SelectorIndex::RunSelector(int n, const std::vector<char>& wanted, FolderCache* folders,
                                std::string* selector, std::vector<int>* covered) const {
  const Parts& flat = flat_[n];
  if (flat.size() < 3) return false;
  size_t depth = flat.size() - 1;
  std::string folder = Join(flat, 0, depth, '.');
  if (!IsLiteralSafe(folder)) return false;
  auto it = by_prefix_.find(folder);
  if (it == by_prefix_.end()) return false;
  auto [entry, added] = folders->try_emplace(folder);
  FolderRests& f = entry->second;
  if (added) {
    // The rest of each node under the folder (by its own fqn), sorted, and
    // how many unwanted and wanted ones come before each: a start's nodes
    // are a range.
    for (int s : it->second) {
      const Parts& other = flat_[s];
      if (other.size() <= depth || !std::equal(flat.begin(), flat.begin() + depth, other.begin())) continue;
      f.rests.emplace_back(Join(other, depth, other.size(), '.'), s);
    }
    std::sort(f.rests.begin(), f.rests.end());
    f.unwanted_before.assign(f.rests.size() + 1, 0);
    f.wanted_before.assign(f.rests.size() + 1, 0);
    for (size_t i = 0; i < f.rests.size(); ++i) {
      int s = f.rests[i].second;
      f.unwanted_before[i + 1] = f.unwanted_before[i] + (!wanted[s] && !nodes_[s].neutral);
      f.wanted_before[i + 1] = f.wanted_before[i] + (wanted[s] != 0);
    }
  }
  const auto& rests = f.rests;
  const auto& unwanted_before = f.unwanted_before;
  const auto& wanted_before = f.wanted_before;
  const std::string& name = flat.back();
  for (size_t len = 1; len < name.size() && IsClassSafe(name[len - 1]); ++len) {
    std::string start = name.substr(0, len);
    auto starts = [&](const std::pair<std::string, int>& r) { return r.first.compare(0, len, start) == 0; };
    auto lo = std::lower_bound(rests.begin(), rests.end(), std::make_pair(start, -1));
    auto hi = std::partition_point(lo, rests.end(), starts);
    size_t a = lo - rests.begin(), b = hi - rests.begin();
    if (unwanted_before[b] - unwanted_before[a] > 0) continue;
    if (wanted_before[b] - wanted_before[a] < 2) return false;  // longer starts select fewer
    std::string value = folder + "." + start + "*";
    std::vector<int> matched = Matched(value);
    if (!std::all_of(matched.begin(), matched.end(), [&](int m) { return wanted[m] || nodes_[m].neutral; }))
      continue;
    covered->clear();
    for (int m : matched)
      if (wanted[m]) covered->push_back(m);
    *selector = "fqn:" + value;
    return true;
  }
  return false;
}

bool SelectorIndex::Select(const std::vector<std::string>& wanted_ids,
                           std::vector<std::string>* selectors, std::string* err) const {
  selectors->clear();
  std::vector<int> members;
  std::vector<char> wanted(nodes_.size(), 0);
  for (const std::string& id : wanted_ids) {
    auto it = by_id_.find(id);
    if (it == by_id_.end() || nodes_[it->second].neutral) {
      *err = fmt::format("{}: not a node that dbt build selects by fqn", id);
      return false;
    }
    if (!wanted[it->second]) members.push_back(it->second);
    wanted[it->second] = 1;
  }
  // How many wanted nodes each key selects, and which: O(members x depth).
  std::unordered_map<int, std::vector<int>> covered;
  for (int m : members)
    for (int k : KeysMatching(m)) covered[k].push_back(m);
  // Each member's shortest prefix (package, folder, ..., the node itself)
  // that selects nothing but wanted nodes.
  std::vector<std::pair<int, std::string>> chosen;  // (key, prefix)
  std::vector<int> alone;                           // members no literal key selects exactly
  std::unordered_map<int, std::string> own;         // ... but their own full name
  for (int m : members) {
    const Parts& flat = flat_[m];
    std::string prefix;
    bool found = false;
    for (size_t len = 1; len <= flat.size() && !found; ++len) {
      prefix += (len > 1 ? "." : "") + flat[len - 1];
      if (!IsLiteralSafe(prefix)) break;  // so is every longer one
      // Not a whole package: it would also select what the index lacks
      // (functions, which dbt build runs; exposures, saved queries).
      if (len == 1) continue;
      int k = key_.at(prefix);
      if (static_cast<int>(covered[k].size()) == key_total_[k]) {
        // The member's own name, selecting it alone: a run may take it first.
        if (len == flat.size() && covered[k].size() == 1) own.emplace(m, prefix);
        else chosen.emplace_back(k, prefix);
        found = true;
      }
    }
    if (!found || own.count(m)) alone.push_back(m);
  }
  // Keep the keys that select most first, and only those that add a member:
  // a key can select members of other folders (without their package, or by
  // name), so one member's key may make another's unneeded.
  std::sort(chosen.begin(), chosen.end(), [&](const auto& x, const auto& y) {
    size_t a = covered[x.first].size(), b = covered[y.first].size();
    return a != b ? a > b : x.second < y.second;
  });
  chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  std::vector<char> done(nodes_.size(), 0);
  for (const auto& [k, prefix] : chosen) {
    bool adds = false;
    for (int m : covered[k]) adds = adds || !done[m];
    if (!adds) continue;
    for (int m : covered[k]) done[m] = 1;
    selectors->push_back("fqn:" + prefix);
  }
  // Runs of the others, then one exact selector for each member left.
  FolderCache folders;
  for (int m : alone) {
    if (done[m]) continue;
    std::string selector;
    std::vector<int> covered_by_run;
    if (!RunSelector(m, wanted, &folders, &selector, &covered_by_run)) continue;
    for (int c : covered_by_run) done[c] = 1;
    selectors->push_back(std::move(selector));
  }
  for (int m : alone) {
    if (done[m]) continue;
    std::string selector;
    if (auto it = own.find(m); it != own.end()) {
      selectors->push_back("fqn:" + it->second);
      continue;
    }
    if (!ExactSelector(m, wanted, &selector, err)) return false;
    selectors->push_back(std::move(selector));
  }
  std::sort(selectors->begin(), selectors->end());
  selectors->erase(std::unique(selectors->begin(), selectors->end()), selectors->end());
  return true;
}
