#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <mlctl/core/yaml_tree.hpp>

namespace mlctl::core {

// One problem found in a file, pointing at the line and column of the offending node.
struct Diagnostic {
  std::string file;
  int line = 0;     // 1-based; 0 when unknown
  int column = 0;   // 1-based; 0 when unknown
  std::string field;  // dotted path: image.repository
  std::string message;

  // "mlctl.yaml:3:5: image.repository: expected a string, got a list"
  std::string to_string() const;
};

// Looks up an environment variable; injectable so tests need not touch the real environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// Expands ${VAR} and ${VAR:-default} in `text`; "$$" is a literal "$".
// Returns the error message on an unset variable without default or a malformed reference.
std::optional<std::string> expand_env(std::string_view text, const EnvLookup& env, std::string& out);

// Reads typed values out of a YAML tree strictly, collecting a Diagnostic for each unknown key,
// duplicate key, wrong type, missing required field and bad ${VAR}, so a user sees them all at once.
class YamlReader {
public:
  YamlReader(std::string file, EnvLookup env) : file_(std::move(file)), env_(std::move(env)) {}

  enum class Required { yes, no };

  // Checks that `node` is a mapping whose keys are among `keys`; false if it is not a mapping.
  bool mapping(const YamlNode& node, const std::string& path, std::initializer_list<std::string_view> keys);
  // Checks that `node` is a mapping with any keys; false if it is not a mapping.
  bool any_mapping(const YamlNode& node, const std::string& path);

  std::optional<std::string> string(const YamlNode& parent, std::string_view key, const std::string& path,
                                    Required required);
  std::optional<std::string> scalar(const YamlNode& node, const std::string& path);
  std::vector<std::string> string_list(const YamlNode& parent, std::string_view key, const std::string& path);
  // A mapping of string to string, in file order.
  std::vector<std::pair<std::string, std::string>> string_map(const YamlNode& parent, std::string_view key,
                                                              const std::string& path);

  void error(const YamlNode& node, const std::string& path, std::string message);
  void error_at(int line, int column, const std::string& path, std::string message);

  const std::string& file() const { return file_; }
  std::vector<Diagnostic>& diagnostics() { return diagnostics_; }

private:
  std::string file_;
  EnvLookup env_;
  std::vector<Diagnostic> diagnostics_;
};

// The 1-based line and column of a node; 0, 0 for a node that is missing or has no position.
std::pair<int, int> position(const YamlNode& node);

// "a mapping", "a list", "a string", "nothing" for a node, for "expected X, got Y" messages.
std::string_view describe(const YamlNode& node);

}  // namespace mlctl::core
