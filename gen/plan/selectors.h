#pragma once

#include <string>
#include <unordered_map>
#include <vector>


// Few `dbt --select` values that select exactly a set of nodes.
//
// One selector per member makes dbt's selection cost selectors x nodes (80-98 s
// for 1,000 members of a 4,001-node project). This picks a fqn prefix for every
// folder or package whose selectable nodes are all wanted, a pattern
// `fqn:<folder>.<start>*` for each run of two or more members of a folder
// whose names share a start that no other node there has (a folder cut in
// parts: base_00000 ... base_00031 are `fqn:pkg.base.base_0000*`, `..._0001*`,
// `..._0002*`, `fqn:pkg.base.base_00030` and `..._00031`),
// and one exact selector for each other member, so selection costs about what
// a folder selector costs. Computing them costs O(members x depth), plus a scan of the
// few nodes near a member whose name dbt cannot read literally.
//
// What dbt-core 1.12 does with a `--select` value (dbt/graph/cli.py,
// selector_spec.py, selector_methods.py, selector.py), which this relies on:
// - Every argument after `--select` up to one that begins with `-` is a value;
//   each value is split at every " " (so no selector may hold a space), each
//   part at every "," into an intersection (so none may hold a comma).
// - Each part is matched by `\A(@)?(\d*\+)?(([\w.]+):)?(.*?)(\+\d*)?\Z`: a
//   leading `@`/`N+`, a `method:` and a trailing `+`/`+N` are operators, and a
//   newline makes it invalid. Without a method, a value holding `/` is a path
//   and one ending in .sql/.py/.csv a file. So every selector here starts with
//   `fqn:` and never ends in `+` followed by digits.
// - The fqn method tries every node of `manifest.nodes` (all resource types:
//   ephemeral models, analyses, ...), unit tests, exposures, metrics, semantic
//   models, saved queries and functions, with the node's fqn and with the fqn
//   without its package (fqn[1:]). A node matches selector S when
//     * it is not versioned and fqn[-1] == S (the whole string), or
//     * it is versioned (fqn ends in "v<version>") and fqn[-2] == S, or
//       "_".join(fqn[-2:]) == "_".join(S.split(".")[-2:]), or
//     * with the fqn flattened (each part split at "."), S.split(".") has no
//       more parts than it and, part by part, equals its first parts (a prefix
//       match: "pkg.folder" selects everything under the folder), except
//       that from the first part of S holding any of `*?[]` on, the rest of S
//       must fnmatch the rest of the fqn joined by "." (anchored at the end;
//       `*` and `?` match "." too; `[[]`, `[*]`, `[?]` match those characters).
// - `--indirect-selection cautious` then adds every test and unit test whose
//   parents (depends_on.nodes) are all directly selected. So the direct
//   selection may include extra nodes only if dbt build does not run them and
//   no test depends on them ("neutral" nodes).
// - `dbt build` runs models (not ephemeral ones), seeds, snapshots, tests, unit
//   tests, and also exposures, saved queries and functions.

struct SelectableNode {
  std::string unique_id;
  std::vector<std::string> fqn;
  bool versioned = false;  // a versioned model: fqn ends in "v<version>"
  // dbt build does not run it and no test depends on it (an analysis, an
  // ephemeral model without tests): selecting it changes nothing.
  bool neutral = false;
};

class SelectorIndex {
 public:
  // `nodes`: every node a fqn selector can match in the project.
  explicit SelectorIndex(std::vector<SelectableNode> nodes);

  // Sorted `--select` values whose direct selection is exactly `wanted`
  // (unique_ids of the index, none neutral) plus possibly neutral nodes. Fails
  // only for a node that no fqn selector can tell apart from another one.
  bool Select(const std::vector<std::string>& wanted, std::vector<std::string>* selectors,
              std::string* err) const;

 private:
  std::vector<int> KeysMatching(int node) const;
  bool ExactSelector(int node, const std::vector<char>& wanted, std::string* selector,
                     std::string* err) const;
  bool PatternSelector(const std::vector<std::string>& flat, bool force_last,
                       const std::vector<char>& wanted, std::string* selector,
                       std::string* twin) const;
  std::vector<int> Matched(const std::string& value) const;
  // A folder's nodes by the rest of their flattened fqn, sorted, with how
  // many unwanted and wanted come before each; built once per Select.
  struct FolderRests {
    std::vector<std::pair<std::string, int>> rests;
    std::vector<int> unwanted_before, wanted_before;
  };
  using FolderCache = std::unordered_map<std::string, FolderRests>;
  bool RunSelector(int node, const std::vector<char>& wanted, FolderCache* folders,
                   std::string* selector, std::vector<int>* covered) const;

  std::vector<SelectableNode> nodes_;
  std::vector<std::vector<std::string>> flat_;  // fqn with every part split at "."
  std::unordered_map<std::string, int> by_id_;
  // Every dotted prefix of every node's flattened fqn ("keys"): the literal
  // selectors this may choose; and how many not neutral nodes each selects.
  std::unordered_map<std::string, int> key_;
  std::vector<int> key_total_;
  std::unordered_map<std::string, std::vector<int>> keys_by_last_two_;  // versioned rule
  // For checking a wildcard selector against the nodes it could reach.
  std::unordered_map<std::string, std::vector<int>> by_prefix_;  // flat prefix (fqn or fqn[1:])
  std::unordered_map<std::string, std::vector<int>> by_name_;    // fqn[-1], fqn[-2] if versioned
  std::unordered_map<std::string, std::vector<int>> by_version_join_;  // "_".join(fqn[-2:])
};

