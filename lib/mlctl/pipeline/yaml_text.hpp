#pragma once

#include <mlctl/core/config.hpp>
#include <mlctl/core/yaml_reader.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <mlctl/core/yaml_tree.hpp>

// Reading helpers shared by the pipeline and component parsers. Unlike core::YamlReader::scalar
// they keep strings as written, without ${VAR} expansion: these strings are commands and shell
// scripts, where "${HOME}" and "$0" belong to the shell.
namespace mlctl::pipeline {

// A reader whose environment is empty; only its structure checks and diagnostics are used.
core::YamlReader make_reader(std::string file);

// Parses YAML text; on a syntax error or an empty document adds a diagnostic and returns nothing.
std::optional<core::YamlDocument> load_yaml(core::YamlReader& r, std::string_view text);

// Whether `parent` has `key` with a value other than null.
bool has_key(const core::YamlNode& parent, std::string_view key);

// "path.key", or "key" at the top level.
std::string child_path(const std::string& path, std::string_view key);

std::optional<core::Located> read_text(core::YamlReader& r, const core::YamlNode& node, const std::string& path);
std::optional<core::Located> read_field(core::YamlReader& r, const core::YamlNode& parent, std::string_view key,
                                        const std::string& path, core::YamlReader::Required required);
std::vector<core::Located> read_list(core::YamlReader& r, const core::YamlNode& parent, std::string_view key,
                                     const std::string& path);
// A mapping of string to string, in file order; each value keeps its position.
std::vector<std::pair<std::string, core::Located>> read_map(core::YamlReader& r, const core::YamlNode& parent,
                                                            std::string_view key, const std::string& path);

// true / false in the spellings YAML and KFP use; nothing for any other text.
std::optional<bool> parse_bool(std::string_view text);

}  // namespace mlctl::pipeline
