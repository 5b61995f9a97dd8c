#include "exec/trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "plan/layout.h"
#include "plan/plan_json.h"

namespace {

// Days from 1970-01-01 to a civil date (Howard Hinnant's days_from_civil).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::string StringAt(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "model.planalign.stg_census" -> "stg_census"; tests keep their hash suffix.
std::string ShortName(const std::string& unique_id) {
  size_t first = unique_id.find('.');
  size_t second = first == std::string::npos ? first : unique_id.find('.', first + 1);
  return second == std::string::npos ? unique_id : unique_id.substr(second + 1);
}

std::string ResourceType(const std::string& unique_id) { return unique_id.substr(0, unique_id.find('.')); }

// chrome://tracing's reserved colour names, by dbt status.
const char* ColourName(const std::string& status) {
  if (status == "success" || status == "pass" || status == "no-op" || status == "reused") return "good";
  if (status == "warn") return "yellow";
  if (status == "skipped") return "grey";
  return "terrible";  // error, fail, runtime error
}

// dbt's threads in their number's order: Thread-2 before Thread-10.
bool ThreadBefore(const std::string& a, const std::string& b) {
  auto number = [](const std::string& name) {
    long n = -1;
    std::sscanf(name.c_str(), "Thread-%ld", &n);
    return n;
  };
  return std::make_tuple(number(a), a) < std::make_tuple(number(b), b);
}

}  // namespace

bool ParseDbtTimestamp(const std::string& text, std::int64_t* micros) {
  int year, month, day, hour, minute, second, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6 ||
      consumed != 19)
    return false;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return false;
  std::int64_t fraction = 0;
  size_t i = 19;
  if (i < text.size() && text[i] == '.') {
    int digits = 0;
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits)
      if (digits < 6) fraction = fraction * 10 + (text[i] - '0');
    if (digits == 0) return false;
    for (; digits < 6; ++digits) fraction *= 10;
  }
  if (i < text.size() && text[i] == 'Z') ++i;
  if (i != text.size()) return false;
  std::int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  *micros = ((days * 24 + hour) * 60 + minute) * 60 * std::int64_t{1000000} +
            std::int64_t{second} * 1000000 + fraction;
  return true;
}

bool ParseTraceRun(const std::string& batch, const std::string& run_results_json,
                   const std::string& source, TraceRun* run, std::string* err) {
  return TraceRunFromJson(batch, nlohmann::json::parse(run_results_json, nullptr, /*allow_exceptions=*/false),
                          source, run, err);
}

bool TraceRunFromJson(const std::string& batch, const nlohmann::json& doc, const std::string& source,
                      TraceRun* run, std::string* err) {
  if (!doc.is_object() || !doc.contains("results") || !doc["results"].is_array() ||
      !doc.contains("metadata") || !doc["metadata"].is_object()) {
    *err = fmt::format("{}: not dbt run results", source);
    return false;
  }
  *run = TraceRun{};
  run->batch = batch;
  const nlohmann::json& metadata = doc["metadata"];
  if (!ParseDbtTimestamp(StringAt(metadata, "invocation_started_at"), &run->started_us) ||
      !ParseDbtTimestamp(StringAt(metadata, "generated_at"), &run->ended_us)) {
    *err = fmt::format("{}: no invocation_started_at or generated_at in its metadata", source);
    return false;
  }
  for (const nlohmann::json& result : doc["results"]) {
    if (!result.is_object()) continue;
    TraceSlice slice{StringAt(result, "unique_id"), StringAt(result, "status"),
                     StringAt(result, "thread_id")};
    bool timed = false;
    if (auto timing = result.find("timing"); timing != result.end() && timing->is_array()) {
      for (const nlohmann::json& step : *timing) {
        std::int64_t start, end;
        if (!step.is_object() || !ParseDbtTimestamp(StringAt(step, "started_at"), &start) ||
            !ParseDbtTimestamp(StringAt(step, "completed_at"), &end))
          continue;
        slice.start_us = timed ? std::min(slice.start_us, start) : start;
        slice.end_us = timed ? std::max(slice.end_us, end) : end;
        timed = true;
      }
    }
    if (timed && !slice.unique_id.empty())
      run->slices.push_back(std::move(slice));
    else
      ++run->untimed;
  }
  return true;
}

std::string TraceJson(std::vector<TraceRun> runs) {
  std::sort(runs.begin(), runs.end(), [](const TraceRun& a, const TraceRun& b) {
    return std::tie(a.started_us, a.batch) < std::tie(b.started_us, b.batch);
  });
  std::int64_t origin = runs.empty() ? 0 : runs.front().started_us;
  for (const TraceRun& run : runs)
    for (const TraceSlice& slice : run.slices) origin = std::min(origin, slice.start_us);
  std::vector<nlohmann::json> events;
  auto metadata = [&](int pid, int tid, const char* name, nlohmann::json args) {
    events.push_back({{"ph", "M"}, {"pid", pid}, {"tid", tid}, {"name", name}, {"args", std::move(args)}});
  };
  for (size_t i = 0; i < runs.size(); ++i) {
    const TraceRun& run = runs[i];
    int pid = static_cast<int>(i) + 1;
    metadata(pid, 0, "process_name", {{"name", run.batch}});
    metadata(pid, 0, "process_sort_index", {{"sort_index", pid}});
    metadata(pid, 0, "thread_name", {{"name", "dbt build"}});
    std::vector<std::string> threads;
    for (const TraceSlice& slice : run.slices)
      if (std::find(threads.begin(), threads.end(), slice.thread) == threads.end())
        threads.push_back(slice.thread);
    std::sort(threads.begin(), threads.end(), ThreadBefore);
    for (size_t t = 0; t < threads.size(); ++t)
      metadata(pid, static_cast<int>(t) + 1, "thread_name", {{"name", threads[t]}});
    events.push_back({{"ph", "X"},
                      {"pid", pid},
                      {"tid", 0},
                      {"name", "dbt build " + run.batch},
                      {"cat", "batch"},
                      {"ts", run.started_us - origin},
                      {"dur", std::max<std::int64_t>(0, run.ended_us - run.started_us)},
                      {"args", {{"timed nodes", run.slices.size()}, {"untimed nodes", run.untimed}}}});
    for (const TraceSlice& slice : run.slices) {
      int tid = static_cast<int>(std::find(threads.begin(), threads.end(), slice.thread) - threads.begin()) + 1;
      events.push_back({{"ph", "X"},
                        {"pid", pid},
                        {"tid", tid},
                        {"name", ShortName(slice.unique_id)},
                        {"cat", ResourceType(slice.unique_id)},
                        {"cname", ColourName(slice.status)},
                        {"ts", slice.start_us - origin},
                        {"dur", std::max<std::int64_t>(0, slice.end_us - slice.start_us)},
                        {"args", {{"status", slice.status}, {"unique_id", slice.unique_id}}}});
    }
  }
  std::string text = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  for (size_t i = 0; i < events.size(); ++i) {
    text += events[i].dump();
    text += i + 1 < events.size() ? ",\n" : "\n";
  }
  text += "]}\n";
  return text;
}

bool WriteTrace(Disk& disk, const fs::path& project_dir, std::int64_t since_us, std::string* err) {
  FileLock lock;
  if (!disk.Lock(TraceLockFile(project_dir), &lock, [](const std::string&) {}, err)) return false;
  std::vector<TraceRun> runs;
  for (const std::string& batch : disk.ListDir(RunRootDir(project_dir))) {
    fs::path results = RunResultsFile(project_dir / RunDir(batch));
    std::string text, ignored;
    TraceRun run;
    if (!disk.ReadFile(results, &text, &ignored) ||
        !ParseTraceRun(batch, text, results.string(), &run, &ignored) || run.started_us < since_us)
      continue;
    runs.push_back(std::move(run));
  }
  bool changed;
  return disk.WriteFileIfChanged(TraceFile(project_dir), TraceJson(std::move(runs)), &changed, err);
}

namespace {

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

const char* FillColour(const std::string& category, const std::string& status) {
  if (category == "batch") return "#cfd8dc";
  if (status == "success" || status == "pass" || status == "no-op" || status == "reused") return "#66bb6a";
  if (status == "warn") return "#ffca28";
  if (status == "skipped") return "#bdbdbd";
  return "#ef5350";
}

}  // namespace

bool TraceToSvg(const std::string& trace_json, std::string* svg, std::string* err) {
  nlohmann::json doc = nlohmann::json::parse(trace_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("traceEvents") || !doc["traceEvents"].is_array()) {
    *err = "not a trace: no traceEvents";
    return false;
  }
  struct Slice {
    std::string name, category, status;
    double ts, dur;
  };
  std::map<int, std::string> process_names;
  std::map<int, int> sort_index;
  std::map<std::pair<int, int>, std::string> thread_names;
  std::map<std::pair<int, int>, std::vector<Slice>> tracks;
  double end = 0;
  for (const nlohmann::json& e : doc["traceEvents"]) {
    if (!e.is_object() || !e.contains("pid") || !e["pid"].is_number_integer()) continue;
    int pid = e["pid"].get<int>();
    int tid = e.contains("tid") && e["tid"].is_number_integer() ? e["tid"].get<int>() : 0;
    std::string ph = StringAt(e, "ph"), name = StringAt(e, "name");
    nlohmann::json args = e.contains("args") && e["args"].is_object() ? e["args"] : nlohmann::json::object();
    if (ph == "M" && name == "process_name") process_names[pid] = StringAt(args, "name");
    if (ph == "M" && name == "thread_name") thread_names[{pid, tid}] = StringAt(args, "name");
    if (ph == "M" && name == "process_sort_index" && args.contains("sort_index") &&
        args["sort_index"].is_number_integer())
      sort_index[pid] = args["sort_index"].get<int>();
    if (ph == "X" && e.contains("ts") && e["ts"].is_number() && e.contains("dur") && e["dur"].is_number()) {
      Slice slice{name, StringAt(e, "cat"), StringAt(args, "status"), e["ts"].get<double>(),
                  e["dur"].get<double>()};
      end = std::max(end, slice.ts + slice.dur);
      tracks[{pid, tid}].push_back(std::move(slice));
    }
  }
  std::vector<std::pair<int, int>> rows;
  for (const auto& [key, slices] : tracks) rows.push_back(key);
  std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
    auto rank = [&](int pid) { return sort_index.count(pid) ? sort_index[pid] : pid; };
    return std::make_tuple(rank(a.first), a.first, a.second) < std::make_tuple(rank(b.first), b.first, b.second);
  });

  const double label_width = 240, plot_width = 960, row_height = 18, top = 34, seconds = end / 1e6;
  // A tick step that gives at most ten ticks.
  double step = 0.1;
  for (double candidate : {0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0}) {
    step = candidate;
    if (seconds / candidate <= 10) break;
  }
  double span = std::max(seconds, step);
  auto x = [&](double us) { return label_width + us / 1e6 / span * plot_width; };
  double height = top + rows.size() * row_height + 10;
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      label_width + plot_width + 20, height);
  for (double t = 0; t <= span + 1e-9; t += step) {
    double px = label_width + t / span * plot_width;
    out += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.0f}\" x2=\"{:.1f}\" y2=\"{:.0f}\" stroke=\"#e0e0e0\"/>"
        "<text x=\"{:.1f}\" y=\"{:.0f}\" text-anchor=\"middle\">{:g} s</text>\n",
        px, top - 4, px, height - 10, px, top - 10, t);
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    auto [pid, tid] = rows[r];
    double y = top + r * row_height;
    std::string thread = thread_names.count(rows[r]) ? thread_names[rows[r]] : fmt::format("{}", tid);
    std::string label = tid == 0 ? process_names[pid] : "  " + thread;
    out += fmt::format("<text x=\"4\" y=\"{:.0f}\"{}>{}</text>\n", y + 13,
                       tid == 0 ? " font-weight=\"bold\"" : "", XmlEscape(label));
    for (const Slice& slice : tracks[rows[r]]) {
      double x0 = x(slice.ts), width = std::max(1.0, x(slice.ts + slice.dur) - x0);
      std::string tip = slice.status.empty()
                            ? fmt::format("{} ({:.2f} s)", slice.name, slice.dur / 1e6)
                            : fmt::format("{}: {} ({:.2f} s)", slice.name, slice.status, slice.dur / 1e6);
      out += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.0f}\" width=\"{:.1f}\" height=\"{:.0f}\" fill=\"{}\" stroke=\"white\">"
          "<title>{}</title></rect>\n",
          x0, y + 1, width, row_height - 2, FillColour(slice.category, slice.status), XmlEscape(tip));
      size_t fits = static_cast<size_t>(width / 6.5);
      if (fits >= 4) {
        std::string text = slice.name.size() <= fits ? slice.name : slice.name.substr(0, fits - 1) + "~";
        out += fmt::format("<text x=\"{:.1f}\" y=\"{:.0f}\" pointer-events=\"none\">{}</text>\n", x0 + 2,
                           y + 13, XmlEscape(text));
      }
    }
  }
  out += "</svg>\n";
  *svg = std::move(out);
  return true;
}

void UpdateTraceAfterBatch(Disk& disk, const fs::path& plan_file) {
  Plan plan;
  std::string err;
  std::int64_t since = 0;
  if (const char* env = std::getenv(kBuildStartedEnv); env && *env) since = std::strtoll(env, nullptr, 10);
  if (!LoadPlan(disk, plan_file, &plan, &err) ||
      !WriteTrace(disk, (fs::absolute(plan_file).parent_path() / plan.project_dir).lexically_normal(), since,
                  &err))
    fmt::print(stderr, "pa-gen: warning: no trace written: {}\n", err);
}

int TraceCommand(Disk& disk, const fs::path& project_dir, const std::string& svg_file) {
  fs::path trace = TraceFile(fs::absolute(project_dir).lexically_normal());
  std::string text, err;
  if (!disk.ReadFile(trace, &text, &err)) {
    fmt::print(stderr, "pa-gen: error: {} (a build writes it)\n", err);
    return 2;
  }
  if (svg_file.empty()) {
    fmt::print("{}\n", trace.string());
    return 0;
  }
  std::string svg;
  bool changed;
  if (!TraceToSvg(text, &svg, &err)) {
    fmt::print(stderr, "pa-gen: error: {}: {}\n", trace.string(), err);
    return 2;
  }
  if (!disk.WriteFileIfChanged(svg_file, svg, &changed, &err)) {
    fmt::print(stderr, "pa-gen: error: {}\n", err);
    return 2;
  }
  return 0;
}
