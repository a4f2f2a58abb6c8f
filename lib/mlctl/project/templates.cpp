#include <mlctl/project/templates.hpp>

namespace mlctl::project {

std::vector<TemplateFile> templates_under(std::string_view prefix) {
  std::vector<TemplateFile> out;
  for (const auto& file : embedded_templates()) {
    if (file.path.starts_with(prefix)) out.push_back({file.path.substr(prefix.size()), file.content});
  }
  return out;
}

std::string substitute(std::string_view text, std::span<const std::pair<std::string_view, std::string>> vars) {
  std::string out(text);
  for (const auto& [key, value] : vars) {
    std::string marker = "@" + std::string(key) + "@";
    for (size_t at = out.find(marker); at != std::string::npos; at = out.find(marker, at + value.size()))
      out.replace(at, marker.size(), value);
  }
  return out;
}

}  // namespace mlctl::project
