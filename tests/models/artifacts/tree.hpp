#pragma once

#include <mlctl/core/reporter.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::test {

// Everything under `root` as path -> "file 0644 <content>", "dir 0755" or "link -> target",
// so two trees compare with one EXPECT_EQ that shows the difference.
std::map<std::string, std::string> describe_tree(const std::filesystem::path& root);

// A model folder with what a round trip must keep: nested folders, an empty one, a plain and an
// executable file, a binary file, a long name, and a relative symlink inside.
void make_model_tree(const std::filesystem::path& root);

// `sha256sum FILE`, as "sha256:<hex>": an independent check of the digests mlctl computes.
std::string sha256sum(const std::filesystem::path& file);

// The entries of a folder, for "nothing was left behind" checks.
std::vector<std::string> list_folder(const std::filesystem::path& folder);

class RecordingReporter final : public core::Reporter {
public:
  void step(std::string_view message) override { steps.emplace_back(message); }
  void debug(std::string_view message) override { debugs.emplace_back(message); }
  void begin(std::string_view, std::string_view, std::uint64_t) override {}
  void advance(std::string_view, std::uint64_t) override {}
  void end(std::string_view) override {}

  std::vector<std::string> steps;
  std::vector<std::string> debugs;
};

}  // namespace mlctl::test
