#pragma once

#include <cstdint>
#include <string_view>

namespace mlctl::core {

// How library code tells the user about long work without printing: the cli implements it
// (a live bar on a terminal, plain lines in CI, nothing with --progress none) and lib calls it.
class Reporter {
public:
  virtual ~Reporter() = default;

  // A step of the operation, shown unless -q: "pushed layer sha256:ab12.. (3.1 MB)".
  virtual void step(std::string_view message) = 0;
  // Detail shown only with -v.
  virtual void debug(std::string_view message) = 0;
  // A unit of work with a known size in bytes or items (0 when unknown), identified by `id`.
  virtual void begin(std::string_view id, std::string_view label, std::uint64_t total) = 0;
  virtual void advance(std::string_view id, std::uint64_t done) = 0;
  virtual void end(std::string_view id) = 0;
  // The unit of work stopped without finishing (it may be retried under the same id); by default
  // the same as end.
  virtual void fail(std::string_view id, std::string_view why) {
    (void)why;
    end(id);
  }
};

// A reporter that drops everything, for callers that want none.
Reporter& silent_reporter();

}  // namespace mlctl::core
