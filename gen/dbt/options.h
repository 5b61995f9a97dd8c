#pragma once

#include <string>
#include <variant>
#include <vector>

#include "dbt/dbt.h"

// Every dbt setting pa-gen takes on its command line, in one table. The
// table drives the CLI flag (cli/main.cc), the arguments that regenerate
// build.ninja (cli/generate.cc), the plan's fields (plan/plan_json.cc) and,
// for `shared` options, the flags of `dbt parse` and of every batch
// (SharedDbtArgs). Adding a dbt flag is one field in DbtSettings and one
// row here.
struct DbtOption {
  const char* flag;      // as pa-gen and dbt spell it: "--target"
  const char* help;
  std::variant<std::string DbtSettings::*, fs::path DbtSettings::*, int DbtSettings::*> field;
  const char* plan_key;  // its key in the plan
  bool shared = false;   // passed to `dbt parse` and every batch, when set
  int min = 0;           // numbers: the smallest value accepted
  bool always = false;   // numbers: regenerate with it even at 0
};

const std::vector<DbtOption>& DbtOptions();

// "" when `value` is acceptable for the option, else why not, as one line
// ("--threads must be 0 or more, not -3"). For numbers given as text.
std::string CheckNumber(const char* flag, int min, const std::string& value);

// "" when a text option's value fits on one line, else why not: every value
// goes into build.ninja's regeneration command, which cannot carry a newline
// (--vars given as block YAML).
std::string CheckOneLine(const char* flag, const std::string& value);

// The option's value as it goes on a command line; "" when unset (empty
// text, or a number at 0 unless `always`).
std::string OptionArg(const DbtOption& option, const DbtSettings& settings);

// `flag value` for every option that is set, in the table's order.
void AppendOptionArgs(const DbtSettings& settings, bool shared_only, std::vector<std::string>* args);
