#include "exec/run_results.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

bool LoadRunResults(Disk& disk, const fs::path& path, std::vector<NodeResult>* results, std::string* err,
                    double* elapsed_seconds, nlohmann::json* doc_out) {
  std::string text;
  if (!disk.ReadFile(path, &text, err)) return false;
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  text.clear();
  const nlohmann::json& doc = doc_out ? (*doc_out = std::move(parsed)) : parsed;
  if (doc.is_discarded()) {
    *err = fmt::format("{}: unreadable run results: not JSON", path.string());
    return false;
  }
  try {
    if (elapsed_seconds) *elapsed_seconds = doc.value("elapsed_time", 0.0);
    for (const auto& r : doc.at("results")) {
      NodeResult result;
      result.unique_id = r.at("unique_id").get<std::string>();
      result.status = r.at("status").get<std::string>();
      if (r.contains("message") && r["message"].is_string()) result.message = r["message"].get<std::string>();
      if (r.contains("execution_time") && r["execution_time"].is_number())
        result.execution_time = r["execution_time"].get<double>();
      results->push_back(std::move(result));
    }
  } catch (const nlohmann::json::exception& e) {
    *err = fmt::format("{}: unreadable run results: {}", path.string(), e.what());
    return false;
  }
  return true;
}

bool LoadFinishedFromLog(Disk& disk, const fs::path& log, std::vector<NodeResult>* results, std::string* err) {
  std::string text;
  if (!disk.ReadFile(log, &text, err)) return false;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    nlohmann::json event = nlohmann::json::parse(text.begin() + start, text.begin() + end, nullptr,
                                                 /*allow_exceptions=*/false);
    start = end + 1;
    auto text_at = [&](const char* pointer) {
      nlohmann::json::json_pointer p(pointer);
      return event.is_object() && event.contains(p) && event.at(p).is_string()
                 ? event.at(p).get<std::string>()
                 : std::string();
    };
    if (text_at("/info/name") != "NodeFinished") continue;
    NodeResult result{text_at("/data/node_info/unique_id"), text_at("/data/node_info/node_status"),
                      text_at("/data/run_result/message"), 0};
    if (!result.unique_id.empty()) results->push_back(std::move(result));
  }
  return true;
}

bool IsSuccessStatus(const std::string& status) {
  return status == "success" || status == "pass" || status == "warn" || status == "no-op" ||
         status == "reused";
}
