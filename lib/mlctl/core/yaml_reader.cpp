#include <mlctl/core/yaml_reader.hpp>

#include <mlctl/core/text.hpp>

#include <cstdlib>
#include <set>

#include <fmt/format.h>

namespace mlctl::core {

// One line whatever the file held: a key or value with a newline is shown escaped.
std::string Diagnostic::to_string() const {
  std::string where = printable(file);
  if (line > 0) where += fmt::format(":{}:{}", line, column);
  if (field.empty()) return fmt::format("{}: {}", where, printable(message));
  return fmt::format("{}: {}: {}", where, printable(field), printable(message));
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

namespace {

bool is_var_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_var_char(char c) { return is_var_start(c) || (c >= '0' && c <= '9'); }

}  // namespace

std::optional<std::string> expand_env(std::string_view text, const EnvLookup& env, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      out.push_back('$');
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) return fmt::format("unterminated '${{' in '{}'", text);
    std::string_view inner = text.substr(i + 2, close - i - 2);
    std::optional<std::string_view> fallback;
    if (auto sep = inner.find(":-"); sep != std::string_view::npos) {
      fallback = inner.substr(sep + 2);
      inner = inner.substr(0, sep);
    }
    bool valid = !inner.empty() && is_var_start(inner.front());
    for (char c : inner) valid = valid && is_var_char(c);
    if (!valid) return fmt::format("'${{{}}}' is not a valid variable reference", text.substr(i + 2, close - i - 2));
    auto value = env(std::string(inner));
    if (value && !(fallback && value->empty())) out += *value;
    else if (fallback) out += *fallback;
    else return fmt::format("environment variable {} is not set (use ${{{}:-default}} for a default)", inner, inner);
    i = close;
  }
  return std::nullopt;
}

std::string_view describe(const YamlNode& node) {
  switch (node.type()) {
    case YamlType::map: return "a mapping";
    case YamlType::sequence: return "a list";
    case YamlType::scalar: return "a string";
    case YamlType::null:
    case YamlType::undefined: return "nothing";
  }
  return "nothing";
}

void YamlReader::error_at(int line, int column, const std::string& path, std::string message) {
  diagnostics_.push_back({file_, line, column, path, std::move(message)});
}

std::pair<int, int> position(const YamlNode& node) { return {node.line(), node.column()}; }

void YamlReader::error(const YamlNode& node, const std::string& path, std::string message) {
  auto [line, column] = position(node);
  error_at(line, column, path, std::move(message));
}

bool YamlReader::any_mapping(const YamlNode& node, const std::string& path) {
  if (!node.is_map()) {
    error(node, path, fmt::format("expected a mapping, got {}", describe(node)));
    return false;
  }
  std::set<std::string> seen;
  for (const auto& entry : node.entries()) {
    const auto& key = entry.key;
    if (!key.is_scalar()) {
      error(key, path, "keys must be strings");
      continue;
    }
    if (!seen.insert(key.scalar()).second)
      error(key, path.empty() ? key.scalar() : path + "." + key.scalar(), "duplicate key");
  }
  return true;
}

bool YamlReader::mapping(const YamlNode& node, const std::string& path,
                         std::initializer_list<std::string_view> keys) {
  if (!any_mapping(node, path)) return false;
  std::vector<std::string_view> valid(keys);
  for (const auto& entry : node.entries()) {
    if (!entry.key.is_scalar()) continue;
    const std::string& key = entry.key.scalar();
    if (std::find(valid.begin(), valid.end(), key) != valid.end()) continue;
    std::string message = "unknown key";
    if (auto suggestion = nearest(key, valid)) message += fmt::format("; did you mean '{}'?", *suggestion);
    else message += fmt::format(" (valid keys: {})", fmt::join(valid, ", "));
    error(entry.key, path.empty() ? key : path + "." + key, message);
  }
  return true;
}

std::optional<std::string> YamlReader::scalar(const YamlNode& node, const std::string& path) {
  if (!node.is_scalar()) {
    error(node, path, fmt::format("expected a string, got {}", describe(node)));
    return std::nullopt;
  }
  std::string expanded;
  if (auto problem = expand_env(node.scalar(), env_, expanded)) {
    error(node, path, *problem);
    return std::nullopt;
  }
  return expanded;
}

std::optional<std::string> YamlReader::string(const YamlNode& parent, std::string_view key,
                                              const std::string& path, Required required) {
  const YamlNode node = parent[std::string(key)];
  if (!node.is_defined() || node.is_null()) {
    if (required == Required::yes) error(parent, path, "required field is missing");
    return std::nullopt;
  }
  return scalar(node, path);
}

std::vector<std::string> YamlReader::string_list(const YamlNode& parent, std::string_view key,
                                                 const std::string& path) {
  const YamlNode node = parent[std::string(key)];
  std::vector<std::string> out;
  if (!node.is_defined() || node.is_null()) return out;
  if (!node.is_sequence()) {
    error(node, path, fmt::format("expected a list of strings, got {}", describe(node)));
    return out;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    if (auto value = scalar(node[i], fmt::format("{}[{}]", path, i))) out.push_back(std::move(*value));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> YamlReader::string_map(const YamlNode& parent,
                                                                        std::string_view key,
                                                                        const std::string& path) {
  const YamlNode node = parent[std::string(key)];
  std::vector<std::pair<std::string, std::string>> out;
  if (!node.is_defined() || node.is_null()) return out;
  if (!any_mapping(node, path)) return out;
  for (const auto& entry : node.entries()) {
    if (!entry.key.is_scalar()) continue;
    std::string field = path + "." + entry.key.scalar();
    if (auto value = scalar(entry.value, field)) out.emplace_back(entry.key.scalar(), std::move(*value));
  }
  return out;
}

}  // namespace mlctl::core
