#include <mlctl/core/reporter.hpp>

namespace mlctl::core {

namespace {

class SilentReporter final : public Reporter {
public:
  void step(std::string_view) override {}
  void debug(std::string_view) override {}
  void begin(std::string_view, std::string_view, std::uint64_t) override {}
  void advance(std::string_view, std::uint64_t) override {}
  void end(std::string_view) override {}
};

}  // namespace

Reporter& silent_reporter() {
  static SilentReporter reporter;
  return reporter;
}

}  // namespace mlctl::core
