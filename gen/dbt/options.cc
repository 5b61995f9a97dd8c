#include "dbt/options.h"

#include <charconv>

#include <fmt/format.h>

const std::vector<DbtOption>& DbtOptions() {
  static const std::vector<DbtOption> options = {
      {"--dbt", "The dbt executable (default: $PA_DBT, .venv/bin/dbt upward, PATH)",
       &DbtSettings::dbt, "dbt"},
      {"--profiles-dir", "Folder holding profiles.yml, as for dbt", &DbtSettings::profiles_dir,
       "profiles_dir", true},
      {"--target", "dbt target (default: the profile's)", &DbtSettings::target, "target", true},
      {"--vars", "dbt --vars, passed to every dbt call", &DbtSettings::vars, "vars", true},
      {"--threads", "dbt --threads for each batch (default: the profile's)", &DbtSettings::threads,
       "threads", false, 0},
      {"--batch-timeout",
       "Seconds a batch's dbt may run before its process group is killed (default: no limit)",
       &DbtSettings::batch_timeout, "batch_timeout", false, 0},
      {"--retries",
       "Extra attempts after a transient failure: a held DuckDB lock, a refused connection",
       &DbtSettings::retries, "retries", false, 0, true},
      {"--select", "Build only these nodes, in dbt's selection syntax (resolved by dbt ls)",
       &DbtSettings::select, "select"},
      {"--exclude", "Leave these nodes out of the build, in dbt's selection syntax",
       &DbtSettings::exclude, "exclude"},
  };
  return options;
}

std::string CheckNumber(const char* flag, int min, const std::string& value) {
  int n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size())
    return fmt::format("{} takes a whole number, not '{}'", flag, value);
  if (n < min)
    return min == 0 ? fmt::format("{} must be 0 or more, not {}", flag, n)
                    : fmt::format("{} must be at least {}, not {}", flag, min, n);
  return "";
}

std::string CheckOneLine(const char* flag, const std::string& value) {
  if (value.find_first_of("\r\n") == std::string::npos) return "";
  return fmt::format("{} holds a line break, which build.ninja cannot carry: write it on one "
                     "line (for --vars, YAML flow style: {{a: 1, b: 2}})",
                     flag);
}

std::string OptionArg(const DbtOption& option, const DbtSettings& settings) {
  struct Visit {
    const DbtOption& option;
    const DbtSettings& s;
    std::string operator()(std::string DbtSettings::*f) const { return s.*f; }
    std::string operator()(fs::path DbtSettings::*f) const { return (s.*f).string(); }
    std::string operator()(int DbtSettings::*f) const {
      return s.*f != 0 || option.always ? std::to_string(s.*f) : "";
    }
  };
  return std::visit(Visit{option, settings}, option.field);
}

void AppendOptionArgs(const DbtSettings& settings, bool shared_only, std::vector<std::string>* args) {
  for (const DbtOption& option : DbtOptions()) {
    if (shared_only && !option.shared) continue;
    // Joined with '=': a value starting with '-' (a folder named --help,
    // vars) stays a value, for pa-gen's CLI11 and for dbt's click alike.
    if (std::string value = OptionArg(option, settings); !value.empty())
      args->push_back(fmt::format("{}={}", option.flag, value));
  }
}
