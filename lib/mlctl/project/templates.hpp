#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::project {

// A file of templates/, embedded into the binary at build time so that one binary works anywhere.
struct TemplateFile {
  std::string_view path;  // relative to templates/: "init/sklearn/mlctl.yaml"
  std::string_view content;
};

std::span<const TemplateFile> embedded_templates();

// The files under `prefix` ("init/sklearn/"), with paths relative to it.
std::vector<TemplateFile> templates_under(std::string_view prefix);

// Replaces every @KEY@ of `vars` in `text`.
std::string substitute(std::string_view text, std::span<const std::pair<std::string_view, std::string>> vars);

}  // namespace mlctl::project
