#pragma once

#include <mlctl/core/reporter.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace mlctl::test {

// Keeps every line a reporter is given, so tests can look for secrets in all of them.
class CaptureReporter final : public core::Reporter {
public:
  void step(std::string_view message) override { add("step: " + std::string(message)); }
  void debug(std::string_view message) override { add("debug: " + std::string(message)); }
  void begin(std::string_view id, std::string_view label, std::uint64_t total) override {
    add("begin: " + std::string(id) + " " + std::string(label) + " " + std::to_string(total));
  }
  void advance(std::string_view id, std::uint64_t done) override {
    std::lock_guard lock(mutex_);
    progress_[std::string(id)] = done;
  }
  void end(std::string_view id) override { add("end: " + std::string(id)); }

  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  std::string all() const {
    std::string out;
    for (const auto& line : lines()) out += line + "\n";
    return out;
  }
  // The last byte count reported for `id`.
  std::uint64_t progress(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = progress_.find(id);
    return it == progress_.end() ? 0 : it->second;
  }

private:
  void add(std::string line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
  }
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  std::map<std::string, std::uint64_t> progress_;
};

}  // namespace mlctl::test
