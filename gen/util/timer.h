#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

// Wall time of a program's consecutive phases, for `pa-gen --timings`.
class PhaseTimer {
 public:
  // Ends the phase that began at construction or at the previous Lap.
  void Lap(std::string phase) {
    Clock::time_point now = Clock::now();
    phases_.emplace_back(std::move(phase), Ms(now - last_));
    last_ = now;
  }

  // One line per phase, then the total since construction, in milliseconds.
  std::string Report() const {
    std::string out;
    for (const auto& [phase, ms] : phases_)
      out += fmt::format("pa-gen: {:<15} {:8.1f} ms\n", phase, ms);
    return out + fmt::format("pa-gen: {:<15} {:8.1f} ms\n", "total", Ms(last_ - start_));
  }

 private:
  using Clock = std::chrono::steady_clock;
  static double Ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  }
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_ = start_;
  std::vector<std::pair<std::string, double>> phases_;
};
