#pragma once

#include <mlctl/core/error.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mlctl::project {

enum class Overwrite { no, yes };

struct InitOptions {
  std::filesystem::path dir;         // created if missing
  std::string template_name;         // one of template_names()
  std::optional<std::string> name;   // default: the folder's name made DNS-1123
  Overwrite overwrite = Overwrite::no;
};

struct InitResult {
  std::filesystem::path dir;
  std::string name;
  std::string template_name;
  std::vector<std::string> files;  // relative to dir, sorted
};

// The project templates embedded in the binary: "generic", "sklearn".
std::vector<std::string> template_names();

// Writes a working project from a template. Checks everything first, so a refusal
// (an existing file without Overwrite::yes, a bad name) writes nothing.
Result<InitResult> init_project(const InitOptions& options);

}  // namespace mlctl::project
