#include "exec/run_results.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

bool LoadRunResults(const fs::path& path, std::vector<NodeResult>* results, std::string* err) {
  std::string text;
  if (!ReadFile(path, &text, err)) return false;
  try {
    nlohmann::json doc = nlohmann::json::parse(text);
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

bool IsSuccessStatus(const std::string& status) {
  return status == "success" || status == "pass" || status == "warn" || status == "no-op" ||
         status == "reused";
}
