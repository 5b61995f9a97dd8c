#pragma once

#include <string>

#include "group/policy.h"
#include "util/fs.h"

// Reads a policy file (YAML, or JSON, which YAML reads too) into `policy`,
// on top of what --policy set:
//
//   defaults:            # all optional
//     policy: folder     # the --policy for nodes no rule matches
//     max_batch_size: 20
//     threads: 4         # dbt --threads per batch
//     pool: warehouse    # Ninja pool of every batch
//   pools: {warehouse: 4}
//   rules:               # the first rule that matches a node names its group
//     - match: {path: "models/marts/**", tag: x, resource_type: model,
//               package: p, materialized: table, meta: {team: finance}}
//       group: "marts_{folder}"
//       threads: 2
//       pool: warehouse
//
// On failure *err is one line naming the file, the line and the field.
bool LoadPolicyFile(const fs::path& file, Policy* policy, std::string* err);

// The same for text already read: the fuzzer's entry point. Never throws.
bool ParsePolicyFile(const std::string& text, const std::string& filename, Policy* policy,
                     std::string* err);
