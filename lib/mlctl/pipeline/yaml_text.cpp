#include <mlctl/pipeline/yaml_text.hpp>

#include <fmt/format.h>

namespace mlctl::pipeline {

using core::Located;

core::YamlReader make_reader(std::string file) {
  return core::YamlReader(std::move(file), [](const std::string&) -> std::optional<std::string> { return {}; });
}

std::optional<core::YamlDocument> load_yaml(core::YamlReader& r, std::string_view text) {
  auto document = core::YamlDocument::parse(text);
  if (!document) {
    r.error_at(document.error().line, document.error().column, "", "invalid YAML: " + document.error().message);
    return std::nullopt;
  }
  if (!document->root().is_defined() || document->root().is_null()) {
    r.error_at(0, 0, "", "the file is empty");
    return std::nullopt;
  }
  return std::move(*document);
}

bool has_key(const core::YamlNode& parent, std::string_view key) {
  if (!parent.is_map()) return false;
  const core::YamlNode node = parent[std::string(key)];
  return node.is_defined() && !node.is_null();
}

std::string child_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::optional<Located> read_text(core::YamlReader& r, const core::YamlNode& node, const std::string& path) {
  if (!node.is_scalar()) {
    r.error(node, path, fmt::format("expected a string, got {}", core::describe(node)));
    return std::nullopt;
  }
  auto [line, column] = core::position(node);
  return Located{node.scalar(), line, column};
}

std::optional<Located> read_field(core::YamlReader& r, const core::YamlNode& parent, std::string_view key,
                                  const std::string& path, core::YamlReader::Required required) {
  if (!has_key(parent, key)) {
    if (required == core::YamlReader::Required::yes) r.error(parent, path, "required field is missing");
    return std::nullopt;
  }
  return read_text(r, parent[std::string(key)], path);
}

std::vector<Located> read_list(core::YamlReader& r, const core::YamlNode& parent, std::string_view key,
                               const std::string& path) {
  std::vector<Located> out;
  if (!has_key(parent, key)) return out;
  const core::YamlNode node = parent[std::string(key)];
  if (!node.is_sequence()) {
    r.error(node, path, fmt::format("expected a list of strings, got {}", core::describe(node)));
    return out;
  }
  for (size_t i = 0; i < node.size(); ++i)
    if (auto item = read_text(r, node[i], fmt::format("{}[{}]", path, i))) out.push_back(std::move(*item));
  return out;
}

std::vector<std::pair<std::string, Located>> read_map(core::YamlReader& r, const core::YamlNode& parent,
                                                      std::string_view key, const std::string& path) {
  std::vector<std::pair<std::string, Located>> out;
  if (!has_key(parent, key)) return out;
  const core::YamlNode node = parent[std::string(key)];
  if (!r.any_mapping(node, path)) return out;
  for (const auto& entry : node.entries()) {
    if (!entry.key.is_scalar()) continue;
    if (auto value = read_text(r, entry.value, child_path(path, entry.key.scalar())))
      out.emplace_back(entry.key.scalar(), std::move(*value));
  }
  return out;
}

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

}  // namespace mlctl::pipeline
